"""The `uml` target: User-Mode Linux from Debian's user-mode-linux package.

The UML kernel runs as an ordinary host process whose root filesystem is the
host's own, through hostfs, so the host-built case binaries run unchanged.
Its init is a small script written here: it mounts /proc and tmpfs where the
cases keep their temp files, runs the plan with an output directory that is
a private temp dir of the driver (seen by the guest through hostfs), and
powers the kernel off.  The results are read from that directory.  The
host's root is mounted read-only: only the work directory is writable.

One adjustment is needed: UML 6.1 on x86_64 has 3-level page tables, so a
process can map at most 512 GiB, but Criterion's runner (its BoxFort arena)
insists on mapping shared memory at 32 TiB or above and aborts otherwise.
The guest therefore loads a copy of libcriterion.so.3 (kept in the cache)
whose four arena-range constants are moved into 256-448 GiB, or, for case
binaries with the lean Criterion linked in, copies of them with the same
four edits; nothing else changes."""
import hashlib
import os
import shlex
import shutil
import struct
import tempfile
from pathlib import Path

from ..acquire import debs
from ..errors import Miss
from . import Kernel, package_version, say
from .sandbox import Workdir, launch, under_tmp

PACKAGE = "user-mode-linux"
LINUX = Path("/usr/bin/linux.uml")
MEMORY = "1024M"
TIME_SCALE = 2           # every system call and fault goes through ptrace: cases take several times longer
CRITERION = Path("/usr/lib/x86_64-linux-gnu/libcriterion.so.3")


def moved_arena(data):
    """data (libcriterion.so.3, or a case binary with the lean Criterion
    linked in: the same BoxFort object code) with BoxFort's arena range moved
    into UML's 512 GiB (see the module's docstring); None when it does not
    hold each expected instruction exactly once."""
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
    return bytes(data)


def patched_criterion(cache):
    """A copy of libcriterion.so.3 with the arena moved, kept in the cache
    and made again when Debian's library changes; None when this build of
    the library does not hold the expected instructions."""
    try:
        data = moved_arena(CRITERION.read_bytes())
    except OSError:
        return None
    if data is None:
        return None
    store = Path(cache) / "uml" / f"criterion-{hashlib.sha256(data).hexdigest()[:16]}"
    if (store / CRITERION.name).exists():
        return store
    store.mkdir(parents=True, exist_ok=True)
    tmp = store / f".{CRITERION.name}.{os.getpid()}"
    tmp.write_bytes(data)
    os.replace(tmp, store / CRITERION.name)
    return store


def init_script(work, libdir, needed, inner):
    """The guest's init: mounts, the plan between its stamps, power-off."""
    q = shlex.quote
    # The root is read-only and /tmp the guest's own: the work dir is
    # mounted back writable, what the programs need below /tmp readable.
    back = "".join(f"mkdir -p {q(str(d))} && mount -t hostfs -o ro,{q(str(d))} none {q(str(d))}\n"
                   for d in under_tmp([libdir, *needed]) if not d.is_relative_to(work))
    back += f"mkdir -p {q(str(work))} && mount -t hostfs -o {q(str(work))} none {q(str(work))}\n"
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
            + inner +
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
    # rootflags=/ ro: the host's root read-only through hostfs; the work
    # directory is mounted back read-write by init (hostfs -o path).
    return [str(LINUX), f"mem={MEMORY}", "rootfstype=hostfs", "rootflags=/", "ro", f"init={init}",
            f"umid=ipcproof-{os.getpid()}-{work.name[-8:]}", f"uml_dir={work}",
            "con=null", "con0=fd:0,fd:1", "quiet"]


def memory_dir(work):
    """Where UML keeps its memory file (unlinked at once): tmpfs when there
    is one, which UML prefers, else the work dir."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="ipcproof-uml-mem-", dir=shm if os.access(shm, os.W_OK) else work))


def provision(cache):
    debs.ensure([PACKAGE], "the uml kernel")


class Channel(Workdir):
    def __init__(self, ctx):
        super().__init__("uml")
        self.cache, self.log = ctx.cache, Path(ctx.logdir) / "uml-boot.log"
        self.memdir = memory_dir(self.work)
        self.lean = False      # the case binaries hold their Criterion

    def close(self):
        super().close()
        shutil.rmtree(self.memdir, ignore_errors=True)

    def put(self, files, texts=None):
        """A case binary with the lean Criterion inside goes in as a copy
        with the arena moved; the rest as links."""
        rest = []
        for path in files:
            moved = moved_arena(Path(path).read_bytes()) if os.access(path, os.X_OK) else None
            if moved is None:
                rest.append(path)
                continue
            copy = self.bindir / Path(path).name
            copy.write_bytes(moved)
            copy.chmod(0o755)
            self.lean = True
        super().put(rest, texts)

    def run(self, argv, limit):
        self.log.write_bytes(b"")
        libdir = patched_criterion(self.cache) if not self.lean else self.bindir
        if libdir is None:
            raise Miss(f"{CRITERION} is missing or not the build whose arena range can be moved "
                       "into UML's 512 GiB address space", None)
        needed = [p.resolve().parent for p in self.bindir.iterdir()]
        init = self.work / "init"
        init.write_text(init_script(self.work, libdir, needed, self.stamped(argv)))
        init.chmod(0o755)
        version = package_version(PACKAGE)
        say("uml", f"booting User-Mode Linux {version}")
        launched, ended, cut = launch("uml", command(init, self.work), self.work, limit, self.log,
                                      env=dict(os.environ, TMPDIR=str(self.memdir)))
        boot_s, run_s = self.times(launched, ended)
        return {"boot_s": boot_s, "run_s": run_s, "hung": cut, "package": PACKAGE, "package_version": version,
                "memory": MEMORY, "boot_log": str(self.log),
                "criterion_patch": "BoxFort's arena moved below 512 GiB, in "
                                   + ("the case binaries" if self.lean else CRITERION.name)}


def kernels():
    return {"uml": Kernel("uml", "uml", ready, Channel, provision=provision, time_scale=TIME_SCALE,
                          areas_together=False)}
