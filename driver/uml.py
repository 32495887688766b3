"""The `uml` target: User-Mode Linux from Debian's user-mode-linux package.

The UML kernel runs as an ordinary host process whose root filesystem is the
host's own, through hostfs, so the host-built case binaries run unchanged.
Its init is a small script written here: it mounts /proc and tmpfs where the
cases keep their temp files, runs guest-run.sh with an output directory that
is a private temp dir of the driver (seen by the guest through hostfs), and
powers the kernel off.  The results are read from that directory.

One adjustment is needed: UML 6.1 on x86_64 has 3-level page tables, so a
process can map at most 512 GiB, but Criterion's runner (its BoxFort arena)
insists on mapping shared memory at 32 TiB or above and aborts otherwise.
The guest therefore loads a copy of libcriterion.so.3 (kept in the cache)
whose four arena-range constants are moved into 256-448 GiB; nothing else
changes, and the cases themselves are the host's binaries."""
import hashlib
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import collect, debs, guest, procs
from .targets import Target

PACKAGE = "user-mode-linux"
LINUX = Path("/usr/bin/linux.uml")
MEMORY = "1024M"
TIME_SCALE = 2           # every system call and fault goes through ptrace: cases take several times longer
BOOT_LIMIT_S = 60        # from the process's start to init running guest-run.sh
CRITERION = Path("/usr/lib/x86_64-linux-gnu/libcriterion.so.3")


def say(name, what):
    print(f"ipcproof: {name}: {what}", file=sys.stderr, flush=True)


def package_version(package):
    done = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else ""


def time_scale(default):
    """IPCPROOF_TIME_SCALE when the user set one, else this kernel's own."""
    try:
        return max(float(os.environ["IPCPROOF_TIME_SCALE"]), 0.1)
    except (KeyError, ValueError):
        return default


# ---- what the sandboxed kernels (uml, gvisor) share ------------------------

def stage(ctx, work):
    """A bin directory holding only the chosen areas (guest-run.sh runs every
    area binary it finds), plus kernel-info and the peers: symlinks, since
    the guest sees the host's files and the harness finds its peers through
    /proc/self/exe, which names the real file."""
    bindir = work / "bin"
    bindir.mkdir()
    keep = [Path(ctx.bindir) / "kernel-info", *sorted(Path(ctx.bindir).glob("peer-*")), *ctx.binaries]
    for path in keep:
        if path.exists():
            (bindir / path.name).symlink_to(Path(path).resolve())
    out = work / "out"
    (out / "tmp").mkdir(parents=True)
    return bindir, out


def inner_script(work, bindir, out, jobs, scale, filter_):
    """The lines that run guest-run.sh between two wall-clock stamps (the
    guest's clock is the host's, so boot and run times come from them)."""
    q = shlex.quote
    args = [str(guest.SCRIPT), str(bindir), str(out), str(jobs), f"{scale:g}"]
    if filter_:
        args.append(filter_)
    return (f"date +%s.%N > {q(str(work / 'started'))}\n"
            f"/bin/sh {' '.join(q(a) for a in args)}\n"
            f"date +%s.%N > {q(str(work / 'ended'))}\n")


def stamp(path):
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        return None


def guest_env():
    """The harness's settings that a sandboxed kernel would not inherit."""
    return {k: os.environ[k] for k in ("IPCPROOF_CASE_LIMIT",) if k in os.environ}


def launch(name, cmd, work, limit, log, env=None):
    """Runs the kernel in a session of its own until it ends, its run limit
    passes (the run is cut: returns True) or it does not start the cases
    within BOOT_LIMIT_S (Miss); a kernel that ends without starting them
    (panic, bad init) is a Miss with the last words of its log.  Nothing
    of it is left running.  Returns (launched, ended, cut), wall clock."""
    launched_wall, launched = time.time(), time.monotonic()
    proc, cut, booted = None, False, None
    try:
        with open(log, "ab") as console:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                                    env=env, start_new_session=True)
            while proc.poll() is None:
                now = time.monotonic()
                if booted is None and (work / "started").exists():
                    booted = now
                    say(name, f"booted in {now - launched:.1f} s, running")
                if booted is None and now - launched > BOOT_LIMIT_S:
                    raise guest.Miss(f"did not start the cases within {BOOT_LIMIT_S} s", log)
                if booted is not None and now - booted > limit:
                    say(name, f"hung: cut {limit:.0f} s after boot")
                    cut = True
                    break
                time.sleep(0.05)
    finally:
        if proc is not None:
            procs.sweep(proc.pid)
    if not (work / "started").exists():
        lines = [l for l in Path(log).read_text(errors="replace").splitlines() if l.strip()]
        panic = next((l for l in lines if "Kernel panic" in l), None)
        raise guest.Miss(f"exited ({proc.returncode}) before running the cases: "
                         f"{(panic or (lines or ['no output'])[-1]).strip()}", log)
    return launched_wall, launched_wall + (time.monotonic() - launched), cut


def gather(name, runner, ctx, work, out, launched, ended, cut):
    """(raw, runs, kernel) from the output directory, the area logs copied
    beside the boot log.  A binary the run never finished is marked hung,
    so its missing cases say the run was cut."""
    raw, runs, kernel = guest.read_outdir(out, name, runner)
    for log in out.glob("*.log"):
        shutil.copyfile(log, Path(ctx.logdir) / f"{name}-{log.name}")
    started, finished = stamp(work / "started"), stamp(work / "ended")
    reported = {r.get("binary") for r in runs}
    for binary in ctx.binaries:
        if binary.name not in reported:
            runs.append({"binary": binary.name, "exit_code": None, "hung": True,
                         "wall_s": round(ended - (started or launched), 3)})
    boot_s = (started or ended) - launched
    run_s = (finished or ended) - (started or ended)
    kernel.update(boot_s=round(boot_s, 3), run_s=round(run_s, 3), run_time_s=round(run_s, 3),
                  hung=cut)
    return raw, runs, kernel


# ---- UML itself -------------------------------------------------------------

def patched_criterion(cache):
    """A copy of libcriterion.so.3 whose BoxFort arena range fits UML's
    512 GiB address space (see the module's docstring), kept in the cache
    and made again when Debian's library changes; None when this build of
    the library does not hold the expected instructions."""
    try:
        data = CRITERION.read_bytes()
    except OSError:
        return None
    store = Path(cache) / "uml" / f"criterion-{hashlib.sha256(data).hexdigest()[:16]}"
    if (store / CRITERION.name).exists():
        return store
    q = lambda v: struct.pack("<Q", v % 2**64)
    base, top = 0x40_0000_0000, 0x70_0000_0000
    edits = [  # BoxFort's arena: base + (rand & mask) << 24, kept if base < addr < top
        (b"\x49\xbd" + q(0x2000_0000_0000), b"\x49\xbd" + q(base)),
        (b"\x81\xe5" + struct.pack("<I", 0x3fffff), b"\x81\xe5" + struct.pack("<I", 0x1fff)),
        (b"\x48\xb8" + q(-0x2000_0000_0001), b"\x48\xb8" + q(-(base + 1))),
        (b"\x48\xb9" + q(0x5eff_ffff_fffe), b"\x48\xb9" + q(top - base - 2)),
    ]
    data = bytearray(data)
    for old, new in edits:
        if data.count(old) != 1:
            return None
        at = data.index(old)
        data[at:at + len(old)] = new
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f".{CRITERION.name}.{os.getpid()}"
    tmp.write_bytes(data)
    os.replace(tmp, store / CRITERION.name)
    return store


def under_tmp(paths):
    """The host directories below /tmp that the guest needs, outermost only:
    the guest's /tmp is its own tmpfs, so they are mounted back through
    hostfs."""
    tops = []
    for p in sorted({Path(p).resolve() for p in paths}, key=lambda p: len(p.parts)):
        if p.is_relative_to("/tmp") and p != Path("/tmp") and not any(p.is_relative_to(t) for t in tops):
            tops.append(p)
    return tops


def init_script(work, libdir, needed, inner):
    q = shlex.quote
    back = "".join(f"mkdir -p {q(str(d))} && mount -t hostfs -o {q(str(d))} none {q(str(d))}\n"
                   for d in under_tmp([work, libdir, *needed]))
    return ("#!/bin/sh\n"
            "# init of the UML kernel: set up, run the cases, power off\n"
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH\n"
            "mount -t proc proc /proc\n"
            "mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 tmpfs /dev/shm\n"
            # Criterion puts its socket in /tmp whatever TMPDIR says: the
            # guest's own, so nothing it leaves reaches the host
            "mount -t tmpfs -o mode=1777 tmpfs /tmp\n"
            + back +
            # the cases' temp files (FIFOs, mapped files) live in the guest's
            # own tmpfs, not on hostfs, which would hand them to the host
            f"mount -t tmpfs tmpfs {q(str(work / 'out' / 'tmp'))}\n"
            f"LD_LIBRARY_PATH={q(str(libdir))}; export LD_LIBRARY_PATH\n"
            + "".join(f"{k}={q(v)}; export {k}\n" for k, v in guest_env().items()) +
            inner +
            f"umount {q(str(work / 'out' / 'tmp'))}\n"
            "echo o > /proc/sysrq-trigger\n"
            "sleep 10\n")


def ready():
    if LINUX.exists():
        return True, f"User-Mode Linux {package_version(PACKAGE)} (Debian), host root through hostfs"
    if os.geteuid() == 0:
        return True, f"installs {PACKAGE} on first use"
    return False, f"needs {PACKAGE} (apt-get install as root)"


def command(init, work):
    return [str(LINUX), f"mem={MEMORY}", "rootfstype=hostfs", "rootflags=/", "rw", f"init={init}",
            f"umid=ipcproof-{os.getpid()}-{work.name[-8:]}", f"uml_dir={work}",
            "con=null", "con0=fd:0,fd:1", "quiet"]


def memory_dir(work):
    """Where UML keeps its memory file (unlinked at once): tmpfs when there
    is one, which UML prefers, else the work dir."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="ipcproof-uml-mem-", dir=shm if os.access(shm, os.W_OK) else work))


def provision(cache):
    debs.ensure([PACKAGE], "the uml kernel")


def run(ctx):
    provision(ctx.cache)
    name = "uml"
    log = Path(ctx.logdir) / "uml-boot.log"
    log.write_bytes(b"")
    libdir = patched_criterion(ctx.cache)
    if libdir is None:
        raise guest.Miss(f"{CRITERION} is missing or not the build whose arena range can be moved "
                         "into UML's 512 GiB address space", None)
    scale, jobs = time_scale(TIME_SCALE), ctx.jobs
    version = package_version(PACKAGE)
    work = Path(tempfile.mkdtemp(prefix="ipcproof-uml-"))
    memdir = memory_dir(work)
    try:
        bindir, out = stage(ctx, work)
        needed = [guest.SCRIPT.parent, *(p.resolve().parent for p in bindir.iterdir())]
        init = work / "init"
        init.write_text(init_script(work, libdir, needed,
                                    inner_script(work, bindir, out, jobs, scale, ctx.filter)))
        init.chmod(0o755)
        say(name, f"booting User-Mode Linux {version}")
        launched, ended, cut = launch(name, command(init, work), work, collect.run_bound(ctx.binaries, jobs, scale),
                                      log, env=dict(os.environ, TMPDIR=str(memdir)))
        try:
            raw, runs, kernel = gather(name, "uml", ctx, work, out, launched, ended, cut)
        except guest.Miss as miss:
            raise guest.Miss(miss.reason, log) from None
        kernel.update(package=PACKAGE, package_version=version, memory=MEMORY, time_scale=scale,
                      boot_log=str(log), criterion=f"{CRITERION.name} with BoxFort's arena moved below 512 GiB")
        return raw, runs, kernel
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(memdir, ignore_errors=True)


def targets():
    return {"uml": Target("uml", "uml", ready, run, provision=provision)}
