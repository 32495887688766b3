"""A Session runs one plan on several kernels at once, as `run`, `bench` and
`prove` all do: for each kernel, provision it, open its channel, put the
programs and the plan, run, get the output back and read it.  What a kernel
could not do is a miss of that kernel alone.  One signal path for SIGINT,
SIGTERM and SIGHUP: stop the scheduler (no kernel and no process starts any
more), sweep what runs, wait for every worker, and end with 128 + the signal."""
import os
import select
import shutil
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path

import tempfile

from . import build, fsutil, procs, runner, validate
from .errors import Miss, UserError
from .kernels import known, problems, say, time_scale

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(Exception):
    def __init__(self, signum):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class Context:
    """What every kernel's channel may need."""
    bindir: Path      # the host's build of the programs
    logdir: Path
    cache: Path       # downloads and unpacked images, kept between runs
    jobs: int
    keep: Path = None  # where each kernel's output dir is copied (the project's tests)


@dataclass
class Outcome:
    kernel: dict                                # the kernel's entry in results.json
    raw: dict = field(default_factory=dict)     # {step: {case: raw result}}
    runs: list = field(default_factory=list)    # one per step: exit code, hung, wall time


def install_signals():
    """Handled even where a signal came in ignored (a background job)."""
    def interrupt(signum, frame):
        raise Interrupted(signum)
    for sig in SIGNALS:
        signal.signal(sig, interrupt)


def guarded(prog, command):
    """A command line's way out, for every entry point: a UserError is one
    line and exit 2; a signal sweeps what runs and exits 128 + it."""
    install_signals()
    # before any build: a compiler whose make was killed comes back here
    procs.become_subreaper()
    try:
        return command()
    except UserError as e:
        # one line, whatever a path or a value in it holds
        print(f"{prog}: {validate.term(e)}", file=sys.stderr)
        return 2
    except Interrupted as stop:
        procs.sweep()
        print(f"{prog}: interrupted; nothing left running", file=sys.stderr)
        return 128 + stop.signum
    except BrokenPipeError:
        if not stdout_gone():
            raise
        # A reader that stopped early (`claims | head`) is no failure to
        # trace back; the exit status is a SIGPIPE's, as for any filter.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # the exit's flush
        return 128 + signal.SIGPIPE


def stdout_gone():
    """stdout is a pipe whose reader has closed it (poll's POLLERR), not
    some other pipe of the driver's."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError):
        return False


def execute(kernel, steps_for, ctx):
    """One kernel's Outcome; a Miss (or, as root, anything it could not get)
    becomes a missed kernel."""
    say(kernel.name, "starting")
    try:
        try:
            outcome = run_plan(kernel, steps_for, ctx)
        except UserError as e:
            # An ordinary user gets the apt-get line instead.
            if os.geteuid() != 0:
                raise
            raise Miss(str(e)) from None
    except Miss as miss:
        say(kernel.name, f"miss: {miss.reason}")
        return Outcome({"id": kernel.name, "runner": kernel.kind, "status": "miss",
                        "miss_reason": miss.reason, "log": str(miss.log or ""), "boot_retries": miss.retries})
    say(kernel.name, f"done ({sum(len(r) for r in outcome.raw.values())} results)")
    return outcome


def run_plan(kernel, steps_for, ctx):
    kernel.provision(ctx.cache)
    bindir = kernel.params.get("bindir", lambda c: c.bindir)(ctx)
    steps = steps_for(kernel, time_scale(kernel))
    with kernel.channel(ctx) as ch:
        ch.put(runner.programs(bindir, steps), {"plan.sh": runner.script(steps, ch.bindir, ch.outdir)})
        facts = ch.run(["sh", f"{ch.bindir}/plan.sh"], runner.bound(steps))
        outdir = ch.get()
        raw, runs, described = runner.read(outdir, kernel.name, kernel.kind, [s.name for s in steps])
        for s in steps:
            fsutil.copy_log(Path(outdir) / f"{s.name}.log", Path(ctx.logdir) / f"{safe(kernel.name)}-{s.name}.log")
        if ctx.keep:
            shutil.copytree(outdir, Path(ctx.keep) / safe(kernel.name), dirs_exist_ok=True)
    if described is None:
        raise Miss("the kernel produced no kernel.json: the plan never started", facts.get("boot_log"))
    ran = {r.get("step") for r in runs}
    runs += [{"step": s.name, "exit_code": None, "hung": True, "wall_s": facts.get("run_s", 0)}
             for s in steps if s.name not in ran]
    facts.setdefault("run_time_s", facts.get("run_s"))
    entry = {**described, **facts, "time_scale": time_scale(kernel), "status": "ran",
             "criterion": read_first_line(Path(bindir) / "criterion.txt")}
    entry["problems"] = problems(entry)
    return Outcome(entry, raw, runs)


def read_first_line(path):
    try:
        return Path(path).read_text(errors="replace").splitlines()[0][:200]
    except (OSError, IndexError):
        return ""


def safe(name):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def run(kernels, steps_for, ctx, jobs=None):
    """[Outcome] in the kernels' order, up to `jobs` kernels at a time."""
    procs.become_subreaper()
    callers = procs.descendants(os.getpid())   # not the run's: left alone
    pool = ThreadPoolExecutor(max_workers=max(1, min(len(kernels), jobs or os.cpu_count() or 1)))
    futures = [pool.submit(execute, k, steps_for, ctx) for k in kernels]
    try:
        # Waits in short slices: a signal may land on a worker thread, and
        # only the main thread, awake, runs the handler.
        while wait(futures, timeout=0.2).not_done:
            pass
    except Interrupted:
        stop(pool, futures)
        raise
    pool.shutdown()
    # a case's descendant that left by setsid and a double fork came back
    # to the driver (the subreaper), in no kernel's session: swept here
    procs.sweep(spare=callers)
    return [f.result() for f in futures]


def stop(pool, futures):
    """No kernel or process starts any more; what runs is killed until every
    worker has come back."""
    procs.STOPPING.set()
    pool.shutdown(wait=False, cancel_futures=True)
    blocked = threading.Event()
    for sig in SIGNALS:
        signal.signal(sig, lambda *a: blocked.set())   # a second Ctrl-C changes nothing
    while wait(futures, timeout=0.1).not_done:
        procs.sweep()
    procs.sweep()


def on_host(binaries, jobs, env=None, filter_=None, keep=None, together=False):
    """The case binaries' Outcome on the running kernel (the tools and the
    project's tests), logs in a temp dir of its own; keep: where the output
    dir goes, as keep/host; together: the binaries at once, as `run` does."""
    with tempfile.TemporaryDirectory(prefix="ipcproof-logs-") as logs:
        ctx = Context(Path(binaries[0]).parent, Path(logs), build.CACHE, jobs, keep)
        [outcome] = run([known()["host"]], lambda k, scale: [
            replace(runner.case_step(b, jobs, scale, filter_, env=env), together=together) for b in binaries], ctx)
    return outcome
