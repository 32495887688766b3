"""The kernels ipcproof knows, by name.

A target kind is one module (host, uml, gvisor, qemu, ssh) that offers
Target objects.  Target.run(ctx) runs the case binaries on its kernel and
returns (raw results {case: item}, runs [..], kernel facts {id, runner,
release, machine, page_size, ...}), or raises guest.Miss when the kernel
gave nothing (fetch, boot, panic, hang), with the reason and its log.
ctx: bindir, binaries (paths of the area binaries), jobs, logdir, filter,
cache (a directory kept between runs, for downloads)."""
import importlib
from dataclasses import dataclass, field
from typing import Callable

from .errors import UserError


def nothing_to_install(cache):
    pass


@dataclass
class Target:
    name: str
    runner: str
    ready: Callable[[], tuple]
    run: Callable[..., tuple]
    params: dict = field(default_factory=dict)
    # provision(cache) installs and unpacks everything the kernel needs, in
    # the order it needs it; run() calls it first, a test can call it alone.
    provision: Callable = nothing_to_install


KINDS = ("host", "uml", "gvisor", "qemu", "ssh")


def kinds():
    """The target modules present (a kind's module may define targets()
    for fixed names and parse(name) for names it makes up, like ssh:HOST)."""
    out = []
    for kind in KINDS:
        try:
            out.append(importlib.import_module(f"{__package__}.{kind}"))
        except ModuleNotFoundError as e:
            if e.name != f"{__package__}.{kind}":
                raise
    return out


def known():
    """{name: Target}, in the order `kernels` lists them."""
    found = {}
    for module in kinds():
        if hasattr(module, "targets"):
            found.update(module.targets())
    return found


def parse(name):
    for module in kinds():
        if hasattr(module, "parse"):
            target = module.parse(name)
            if target:
                return target
    return None


def resolve(names):
    """Targets for a comma-separated list; `all` is every target that can
    run here; unknown names are the user's error."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        raise UserError("no kernel named (--kernels host)")
    table = known()
    if wanted == ["all"]:
        return [t for t in table.values() if t.ready()[0]]
    chosen = []
    for name in dict.fromkeys(wanted):
        target = table.get(name) or parse(name)
        if target is None:
            raise UserError(f"unknown kernel {name!r}; known: {', '.join(table)}, ssh:[user@]host[:port]")
        chosen.append(target)
    return chosen
