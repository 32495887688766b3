"""`qemu-user-arm64`: the arm64 cases on the running kernel through QEMU's
user-mode emulation (Debian's qemu-user), a system-call translation layer
in the same family as gVisor: every call the cases make is translated by
QEMU's linux-user code, then made to the host kernel.

Criterion re-executes its own binary for every test, and the cases start
their peers, so an arm64 exec must come back to QEMU: a binfmt_misc entry
routes arm64 ELF files to qemu-aarch64.  The driver makes it itself, in
the global binfmt_misc, under a name of this process, and removes it when
the channel closes: on success, on an exception, on a signal (the session
turns SIGINT, SIGTERM and SIGHUP into one), and an entry left by a driver
that was killed outright is removed by the next one.  A private
binfmt_misc (per user namespace since Linux 6.7) was tried and rejected:
the cases would run as root of a new user namespace, which has no
capability over the host (a setuid to any unmapped uid is EINVAL, and
root's limits, such as pipe-max-size, no longer apply), so the run would
measure the namespace, not QEMU.  The binaries name the sysroot's loader
(cross.build), which QEMU opens on the host, so no QEMU_LD_PREFIX has to
reach every process."""
import os
import shutil
import subprocess
from pathlib import Path

from ..acquire import cross, debs
from ..errors import Miss
from . import Kernel, host, package_version, say
from .qemu import ARM64, cross_bindir

QEMU = "/usr/bin/qemu-aarch64"
BINFMT = "/proc/sys/fs/binfmt_misc"
# An arm64 ELF executable or shared object (e_ident, e_type, e_machine 0xb7).
MAGIC = r"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
MASK = r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"
PREFIX = "ipcproof-aarch64-"
TIME_SCALE = 5           # measured: the pipe area runs about 4 times slower than on the host


def rule(name):
    # F: QEMU is opened now, so the entry works in any mount namespace.
    return f":{name}:M::{MAGIC}:{MASK}:{QEMU}:F"


def ready():
    how = "arm64 binaries on the running kernel through qemu-aarch64 (a binfmt_misc entry of its own)"
    if os.geteuid() != 0:
        return False, "needs root, for a binfmt_misc entry"
    if Path(QEMU).is_file() and shutil.which(f"{ARM64.compiler}-gcc") and cross.has_arch(ARM64.deb_arch):
        return True, how
    if os.geteuid() == 0:
        return True, f"{how}; installs qemu-user and an arm64 cross toolchain on first use"
    return False, f"needs qemu-user {' '.join(cross.packages(ARM64.deb_arch, ARM64.triplet))} (as root)"


def provision(cache):
    why = "the qemu-user-arm64 kernel"
    cross.ensure_toolchain(ARM64.deb_arch, ARM64.triplet, why)
    debs.ensure(["qemu-user"], why)
    cross.sysroot(cache, ARM64.deb_arch, ARM64.triplet, why)


class Channel(host.Channel):
    def __init__(self, ctx):
        super().__init__(ctx)
        self.entry, self.mounted = None, False

    def run(self, argv, limit):
        self.register()
        return dict(super().run(argv, limit), binfmt=f"global entry {self.entry.name}, removed after the run",
                    emulator=qemu_version(), package="qemu-user", package_version=package_version("qemu-user"))

    def register(self):
        if self.entry:
            return
        if not Path(BINFMT, "register").exists():
            done = subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", BINFMT], capture_output=True)
            self.mounted = done.returncode == 0
        if not Path(BINFMT, "register").exists():
            raise Miss(f"no binfmt_misc at {BINFMT} (mount -t binfmt_misc binfmt_misc {BINFMT})")
        remove_stale()
        self.entry = Path(BINFMT, f"{PREFIX}{os.getpid()}")
        say("qemu-user-arm64", f"registering {self.entry.name} in binfmt_misc")
        try:
            Path(BINFMT, "register").write_text(rule(self.entry.name) + "\n")
        except OSError as e:
            self.entry = None
            raise Miss(f"binfmt_misc refused the arm64 entry: {e.strerror}") from None

    def close(self):
        try:
            if self.entry:
                remove(self.entry)
            # Unmounted again if this run mounted it and nobody added an entry since.
            if self.mounted and sorted(p.name for p in Path(BINFMT).iterdir()) == ["register", "status"]:
                subprocess.run(["umount", BINFMT], capture_output=True)
        finally:
            super().close()


def remove(entry):
    try:
        Path(entry).write_text("-1\n")
    except FileNotFoundError:
        pass


def remove_stale():
    """Entries of drivers that were killed outright (SIGKILL, a crash)."""
    for entry in Path(BINFMT).glob(f"{PREFIX}*"):
        pid = entry.name[len(PREFIX):]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            remove(entry)


def qemu_version():
    done = subprocess.run([QEMU, "--version"], capture_output=True, text=True)
    return done.stdout.splitlines()[0] if done.returncode == 0 and done.stdout else QEMU


def kernels():
    name = "qemu-user-arm64"
    return {name: Kernel(name, "qemu-user", ready, Channel,
                         {"arch": ARM64.deb_arch, "bindir": cross_bindir(name, ARM64)}, provision, TIME_SCALE)}
