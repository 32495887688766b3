"""`host-i386`: the cases built for i386 and run on the running x86_64
kernel, through its compat system-call layer (arch/x86/entry/entry_64_compat,
the compat_sys_* handlers): a separate implementation of every call the
cases make, with 32-bit longs, pointers and structures.

The binaries are debian-6.1-i386's cross build (the same files a 32-bit
kernel runs); they name the i386 sysroot's loader and libraries themselves
(cross.build's loader), so nothing is installed for i386 on the host and
Criterion's re-execution of its own binary needs no help."""
import os
import subprocess
from pathlib import Path

from ..acquire import cross
from . import Kernel, host
from .qemu import I386, cross_bindir, provision_for


def compat_enabled():
    """Whether this kernel runs i386 programs at all (CONFIG_IA32_EMULATION,
    and since 6.7 not switched off with ia32_emulation=0)."""
    try:
        cmdline = Path("/proc/cmdline").read_text()
    except OSError:
        cmdline = ""
    if "ia32_emulation=0" in cmdline.split():
        return False
    done = subprocess.run(["uname", "-m"], capture_output=True, text=True)
    return done.stdout.strip() == "x86_64"


def ready():
    if not compat_enabled():
        return False, "needs an x86_64 kernel with IA32 emulation"
    how = "i386 binaries on the running x86_64 kernel (its compat system calls)"
    if cross.has_arch(I386.deb_arch) and Path("/usr/bin", f"{I386.compiler}-gcc").exists():
        return True, how
    if os.geteuid() == 0:
        return True, f"{how}; installs an i386 cross toolchain on first use"
    return False, f"needs {' '.join(cross.packages(I386.deb_arch, I386.triplet, I386.gnu))} (as root)"


def kernels():
    name = "host-i386"
    # Only the toolchain and the sysroot: no emulator, no guest tools.
    provision = provision_for(name, I386, guest=False)
    return {name: Kernel(name, "compat", ready, lambda ctx: host.Channel(ctx),
                         {"arch": I386.deb_arch, "bindir": cross_bindir(name, I386)}, provision)}
