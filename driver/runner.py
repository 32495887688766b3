"""The one Runner: what runs inside a kernel, as a plan of steps, and reading
back what the plan left.

Every kernel runs the same plan through the same sh runner (runner.sh): the
host, UML, gVisor, a QEMU guest with only busybox, a remote over ssh.  A
kernel's channel only moves the plan and the programs in and the output
directory out.  A step is one program with its environment and its limit:
an area's case binary, the benchmark, a case binary under an injected
fault."""
import math
import os
import re
import shlex
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import catalog, collect, fsutil, validate
from .errors import Miss

SCRIPT = Path(__file__).resolve().parent / "runner.sh"
STEP_NAME = re.compile(r"[A-Za-z0-9_.+-]{1,100}")


@dataclass
class Step:
    name: str                  # also the output files' stem
    program: str               # a file of the bin directory
    args: list = field(default_factory=list)
    env: dict = field(default_factory=dict)   # "{bin}" in a value: the bin directory
    limit_s: float = 60.0
    # Started with the steps next to it that say so too, the plan going on
    # once they have all ended.
    together: bool = False


def case_step(binary, jobs, scale, filter_=None, name=None, env=None, cases=None):
    """One area binary's cases, bounded so that every case's own limit fits
    (cases: the catalog's {case: claim}, read here when not given)."""
    area = Path(binary).name
    cases = catalog.claim_of_case(catalog.load()) if cases is None else cases
    cases = len([c for c in cases if c.startswith(f"{area}/")]) or 100
    args = [f"--jobs={jobs}", "--short-filename", "--ascii", *([f"--filter={filter_}"] if filter_ else [])]
    return Step(name or area, area, args, dict(env or {}, IPCPROOF_TIME_SCALE=f"{scale:g}"),
                collect.binary_bound(cases, jobs, scale))


def case_steps(binaries, jobs, scale, filter_=None, together=False, claims=None):
    """One step per area binary; together: all at once.  Many cases wait
    (for a process to block, for a bound to pass) rather than compute, and
    an area's last case leaves its other workers idle: at once, the areas
    fill each other's waits (the host's four: 0.94 -> 0.66 s).  claims: the
    catalog, when the caller has read it (10 ms a reading)."""
    cases = catalog.claim_of_case(catalog.load() if claims is None else claims)
    return [replace(case_step(b, jobs, scale, filter_, cases=cases), together=together) for b in binaries]


def passed_on():
    """The harness's settings a kernel would not inherit from this process."""
    return {k: os.environ[k] for k in ("IPCPROOF_CASE_LIMIT",) if k in os.environ}


def script(steps, bindir, outdir):
    """The plan as sh: bindir and outdir as the kernel sees them."""
    q = shlex.quote
    lines = ["# an ipcproof plan (driver/runner.py)", f"bin={q(str(bindir))}", f"log_cap={log_cap()}",
             f". {q(str(Path(bindir) / 'runner.sh'))}", f"begin {q(str(outdir))}"]
    for i, s in enumerate(steps):
        if not STEP_NAME.fullmatch(s.name):
            raise ValueError(f"bad step name {s.name!r}")
        env = {**passed_on(), **{k: str(v).replace("{bin}", str(bindir)) for k, v in s.env.items()}}
        words = [*(f"{k}={v}" for k, v in env.items()), "--", f"{bindir}/{s.program}", *s.args]
        lines.append(f"step {q(s.name)} {math.ceil(s.limit_s)} {' '.join(q(w) for w in words)}"
                     + (" &" if s.together else ""))
        if s.together and (i + 1 == len(steps) or not steps[i + 1].together):
            lines.append("wait")
    lines.append("finish")
    return "\n".join(lines) + "\n"


def log_cap():
    """Bytes of a step's output kept (IPCPROOF_LOG_CAP, for the tests)."""
    try:
        return max(int(os.environ["IPCPROOF_LOG_CAP"]), 0)
    except (KeyError, ValueError):
        return fsutil.LOG_CAP


def bound(steps):
    """Seconds a whole plan may take inside a kernel."""
    return 30 + sum(s.limit_s for s in steps)


def programs(bindir, steps):
    """Every file a plan needs from the bin directory: its steps' programs,
    the peers the cases start, kernel-info, the runner itself."""
    bindir = Path(bindir)
    wanted = {bindir / s.program for s in steps} | set(bindir.glob("peer-*")) | {bindir / "kernel-info"}
    wanted |= {bindir / str(v).split("{bin}/", 1)[1] for s in steps for v in s.env.values() if "{bin}/" in str(v)}
    return sorted(wanted) + [SCRIPT]


def read(outdir, kernel_id, runner, order=()):
    """({step: {case: raw result}}, runs, kernel facts) from an output dir,
    the runs in the plan's order (the step names in order; steps run
    together end in any order); facts is None when the plan never started.
    What the kernel sent back is checked (sizes, types, names): anything
    else is a Miss of that kernel, the others kept."""
    outdir = Path(outdir)
    if not (outdir / "kernel.json").exists():
        return {}, [], None
    try:
        facts = validate.facts(validate.read_json(outdir / "kernel.json", "kernel.json", 1 << 20), "kernel.json")
        runs = validate.json_lines(outdir / "runs.jsonl", validate.STEP, ("step", "exit_code", "hung", "wall_s"))
        rank = {name: i for i, name in enumerate(order)}
        runs.sort(key=lambda r: rank.get(r["step"], len(rank)))
        raw = {r["step"]: collect.parse_lines(outdir / f"{r['step']}.jsonl") for r in runs
               if STEP_NAME.fullmatch(r["step"])}
    except validate.Bad as e:
        raise Miss(f"the kernel sent back a bad results file: {e}") from None
    taint = [read_text(outdir / f"taint-{w}").strip() for w in ("before", "after")]
    # the kernel's facts never name it: a guest cannot pass for another
    kernel = {**facts, "id": kernel_id, "runner": runner, "complete": (outdir / "done").exists()}
    if taint[1] and taint[1] != taint[0]:
        kernel["tainted"] = f"{taint[0] or '?'} -> {taint[1]}"
    return raw, runs, kernel


def read_text(path):
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""
