"""What the kernels that see the host's files share (host, UML through
hostfs, gVisor through a bind mount): a private work directory holding bin/
(symlinks to the programs: the harness finds its peers through
/proc/self/exe, which names the real file) and out/, and a kernel process
watched until it ends, hangs, or never starts the plan."""
import shlex
import shutil
import tempfile
import time
from pathlib import Path

from .. import procs
from ..errors import Miss
from . import say

BOOT_LIMIT_S = 60        # from the kernel's start to the plan's first line
# From the plan's last line to the kernel's exit: a sandbox that outlives
# its plan (a process left inside it that runsc waits for) is swept then,
# its results complete, instead of holding the run until the plan's limit.
ENDING_LIMIT_S = 20


class Workdir:
    """The channel's files: bin/ and out/ below a private 0700 directory,
    removed with everything in it when the channel closes."""

    def __init__(self, kind):
        self.work = Path(tempfile.mkdtemp(prefix=f"ipcproof-{kind}-"))
        self.bindir, self.outdir = self.work / "bin", self.work / "out"
        self.bindir.mkdir()
        (self.outdir / "tmp").mkdir(parents=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        # A step killed at its limit or by a signal leaves its pid file, and
        # Criterion its socket in the /tmp it shares with the host.
        for pidfile in self.outdir.glob("*.pid"):
            pid = pidfile.read_text().strip()
            if pid.isdigit():
                Path(f"/tmp/criterion_{pid}.sock").unlink(missing_ok=True)
        shutil.rmtree(self.work, ignore_errors=True)

    def put(self, files, texts=None):
        for path in files:
            (self.bindir / Path(path).name).symlink_to(Path(path).resolve())
        for name, text in (texts or {}).items():
            (self.bindir / name).write_text(text)

    def get(self):
        return self.outdir

    def stamped(self, argv):
        """argv between two wall-clock stamps (the sandbox's clock is the
        host's, so boot and run times come from them), as sh."""
        q = shlex.quote
        return (f"date +%s.%N > {q(str(self.work / 'started'))}\n"
                f"{' '.join(q(a) for a in argv)}\n"
                f"date +%s.%N > {q(str(self.work / 'ended'))}\n")

    def times(self, launched, ended):
        """(boot_s, run_s) from the stamps, wall clock."""
        started, finished = stamp(self.work / "started"), stamp(self.work / "ended")
        return round((started or ended) - launched, 3), round((finished or ended) - (started or ended), 3)


def stamp(path):
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        return None


def launch(name, cmd, work, limit, log, env=None):
    """Runs the kernel until it ends, its run limit passes (the run is cut:
    returns True) or it does not start the plan within BOOT_LIMIT_S (Miss);
    a kernel that ends without starting it (panic, bad init) is a Miss with
    the last words of its log.  Nothing of it is left running.  Returns
    (launched, ended, cut), wall clock."""
    launched_wall, launched = time.time(), time.monotonic()
    proc, cut, booted, ending = None, False, None, None
    try:
        with open(log, "ab") as console:
            proc = procs.popen(cmd, stdin=procs.subprocess.DEVNULL, stdout=console,
                               stderr=procs.subprocess.STDOUT, env=env)
            while proc.poll() is None:
                now = time.monotonic()
                if booted is None and (work / "started").exists():
                    booted = now
                    say(name, f"booted in {now - launched:.1f} s, running")
                if booted is None and now - launched > BOOT_LIMIT_S:
                    raise Miss(f"did not start the cases within {BOOT_LIMIT_S} s", log)
                if (work / "ended").exists():
                    ending = ending or now
                    if now - ending > ENDING_LIMIT_S:
                        say(name, f"the plan ended but the kernel did not exit within {ENDING_LIMIT_S} s: swept")
                        break
                if booted is not None and now - booted > limit:
                    say(name, f"hung: cut {limit:.0f} s after boot")
                    cut = True
                    break
                time.sleep(0.05)
    finally:
        if proc is not None:
            procs.sweep(proc.pid)
    if not (work / "started").exists():
        lines = [line for line in Path(log).read_text(errors="replace").splitlines() if line.strip()]
        panic = next((line for line in lines if "Kernel panic" in line), None)
        raise Miss(f"exited ({proc.returncode}) before running the cases: "
                   f"{(panic or (lines or ['no output'])[-1]).strip()}", log)
    return launched_wall, launched_wall + (time.monotonic() - launched), cut


def under_tmp(paths):
    """The host directories below /tmp that the kernel needs, outermost only:
    its /tmp is its own tmpfs, so they are mounted back."""
    tops = []
    for p in sorted({Path(p).resolve() for p in paths}, key=lambda p: len(p.parts)):
        if p.is_relative_to("/tmp") and p != Path("/tmp") and not any(p.is_relative_to(t) for t in tops):
            tops.append(p)
    return tops
