"""The kernels ipcproof knows, by name, and what every kind shares.

A kind is one module (host, compat, uml, gvisor, qemu, qemu_user, ssh) offering Kernel objects.
A Kernel says whether it can run here (ready), installs what it needs
(provision), and opens a Channel: a context manager that starts the kernel
(or prepares its boot) and stops it, with nothing left, when it closes.  A
Channel puts files where the kernel sees them, runs one command line there
within a time limit, and gets the output directory back; it knows nothing
of cases, which are the Runner's (driver/runner.py)."""
import importlib
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..validate import term

KINDS = ("host", "compat", "uml", "gvisor", "qemu", "qemu_user", "ssh")


def nothing_to_install(cache):
    pass


@dataclass
class Kernel:
    name: str
    kind: str                      # the `runner` of its results
    ready: Callable[[], tuple]     # () -> (can run here, why)
    channel: Callable              # (ctx) -> a Channel context manager
    params: dict = field(default_factory=dict)
    # provision(cache) installs and unpacks everything the kernel needs, in
    # the order it needs it; opening a channel does it first, a test alone.
    provision: Callable = nothing_to_install
    time_scale: float = 1.0        # how much slower than the host it runs the cases
    # Its areas' binaries at once (runner.case_steps): where cases mostly
    # wait, they fill each other's waits.  Not where every system call
    # already keeps the cores busy (UML: slower at once, 30 -> 37 s).
    areas_together: bool = True


def time_scale(kernel):
    """IPCPROOF_TIME_SCALE when the user set one, else the kernel's own: the
    one place this policy lives."""
    try:
        return max(float(os.environ["IPCPROOF_TIME_SCALE"]), 0.1)
    except (KeyError, ValueError):
        return kernel.time_scale


def say(name, what):
    # a reason may quote a guest's console: shown, never obeyed by the terminal
    print(f"ipcproof: {term(name)}: {term(what)}", file=sys.stderr, flush=True)


def package_version(package):
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def problems(entry):
    """What the kernel itself complained of during the run, on every kind:
    taint flags that changed (the runner reads them before and after), and
    an oops, a BUG, a warning or a panic in its console log, first lines
    only: a case's result may owe something to them."""
    found = [f"taint flags changed: {entry['tainted']}"] if entry.get("tainted") else []
    try:
        text = Path(entry.get("boot_log") or "").read_text(errors="replace") if entry.get("boot_log") else ""
    except OSError:
        text = ""
    found += [line.strip() for line in text.splitlines()
              if re.search(r"\b(Oops|BUG:|WARNING:|Kernel panic)", line)]
    return found[:10]


def kinds():
    """The kind modules (a kind's module may define kernels() for fixed names
    and parse(name) for names it makes up, like ssh:HOST)."""
    return [importlib.import_module(f"{__package__}.{kind}") for kind in KINDS]


def known():
    """{name: Kernel}, in the order `kernels` lists them."""
    found = {}
    for module in kinds():
        if hasattr(module, "kernels"):
            found.update(module.kernels())
    return found


def parse(name):
    for module in kinds():
        if hasattr(module, "parse"):
            kernel = module.parse(name)
            if kernel:
                return kernel
    return None


def resolve(names):
    """Kernels for a comma-separated list; `all` is every kernel that can run
    here; unknown names are the user's error."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        raise UserError("no kernel named (--kernels host)")
    table = known()
    if wanted == ["all"]:
        return [k for k in table.values() if k.ready()[0]]
    chosen = []
    for name in dict.fromkeys(wanted):
        kernel = table.get(name) or parse(name)
        if kernel is None:
            raise UserError(f"unknown kernel {name!r}; known: {', '.join(table)}, ssh:[user@]host[:port]")
        chosen.append(kernel)
    return chosen
