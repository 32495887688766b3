"""Debian's own kernels booted under QEMU (TCG: there is no KVM here).

The kernel image comes from acquire/images.py.  The guest gets an initramfs
built here (acquire/initramfs.py): a static busybox, the programs of the
plan and the shared libraries they need, the runner, and an /init that runs
the plan; the plan itself is a small second archive appended to it, so a
new plan does not pack the programs again.  The results come back as a
framed, checksummed tar on a second serial port (a virtual UART the kernel
drives with built-in code, so no module has to be loaded); the first serial
port is the console, kept as the boot log."""
import dataclasses
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..acquire import cross, debs, images, initramfs, pvh
from . import Kernel, say
from .qemu_boot import BEGIN, CPUS, END, INIT_MARK, boot_retrying, untar

TIME_SCALE = 10          # a TCG guest runs the cases about ten times slower
BOOT_LIMIT_S = 120       # from QEMU's start to /init's first line
GUEST_BIN, GUEST_OUT = "/ipcproof/bin", "/tmp/out"


@dataclass(frozen=True)
class Arch:
    qemu: str             # the emulator binary
    qemu_package: str
    machine_args: tuple   # what selects the board and CPU
    console: str          # the console device's name in the guest
    results_tty: str      # the second serial port's name in the guest
    results_args: tuple   # how QEMU makes it, "{results}" the host file
    triplet: str          # Debian's multiarch directory
    deb_arch: str
    cpu: str              # CMake's processor name, for a cross build
    time_scale: int       # how much slower than the host the guest runs cases
    boot_limit_s: int
    gnu: str = ""         # the cross compiler's triplet, where not the multiarch one
    pvh: bool = False     # a bzImage whose vmlinux QEMU can enter at its PVH entry (acquire.pvh)

    @property
    def native(self):
        """The host's own architecture: the host's build, busybox, bash."""
        return self.deb_arch == "amd64"

    @property
    def compiler(self):
        return self.gnu or self.triplet


# -cpu max: TCG emulates it faster than the default qemu64 (measured: boot
# about 1.5 s sooner).  The results port is the PC's second UART (ttyS1).
X86_64 = Arch("qemu-system-x86_64", "qemu-system-x86", ("-accel", "tcg", "-cpu", "max"), "ttyS0",
              "ttyS1", ("-serial", "file:{results}"), "x86_64-linux-gnu", "amd64", "x86_64",
              TIME_SCALE, BOOT_LIMIT_S, pvh=True)

# virt has a single PL011 (the console, ttyAMA0).  The results port is a
# 16550 on PCI (QEMU's pci-serial): Debian's arm64 kernel has the 8250 PCI
# driver and the generic PCI host built in (virtio-console, virtio-blk and
# virtio-pci are modules, which the initramfs would have to carry), so it
# appears as ttyS0 with no module.  cortex-a57: no pointer authentication,
# which TCG emulates slowly under -cpu max.
ARM64 = Arch("qemu-system-aarch64", "qemu-system-arm", ("-M", "virt", "-cpu", "cortex-a57", "-accel", "tcg"),
             "ttyAMA0", "ttyS0", ("-chardev", "file,id=results,path={results}",
                                  "-device", "pci-serial,chardev=results"),
             "aarch64-linux-gnu", "arm64", "aarch64", 2 * TIME_SCALE, 2 * BOOT_LIMIT_S)

# A 16 KiB-page kernel needs a CPU whose MMU has the 16 KiB translation
# granule: cortex-a57's has not (ID_AA64MMFR0.TGran16 = 0), so the kernel
# stops before its first console line.  cortex-a76 has it and, like a57, no
# pointer authentication (which TCG emulates slowly under -cpu max).  Both
# 6.12 kernels use it, so 4 KiB and 16 KiB differ in the page size alone.
ARM64_A76 = dataclasses.replace(ARM64, machine_args=("-M", "virt", "-cpu", "cortex-a76", "-accel", "tcg"))

# A 32-bit PC: Debian's 686-pae kernel; the cases cross-built with
# i686-linux-gnu-gcc against an i386 sysroot.  The same build runs on the
# host's own kernel (host-i386), so its binaries name the sysroot's loader.
I386 = Arch("qemu-system-i386", "qemu-system-x86", ("-accel", "tcg", "-cpu", "max"), "ttyS0",
            "ttyS1", ("-serial", "file:{results}"), "i386-linux-gnu", "i386", "i686",
            TIME_SCALE, BOOT_LIMIT_S, gnu="i686-linux-gnu", pvh=True)

# Each target is the newest image of one series that the archive offers.
SERIES = {
    "debian-6.1": (X86_64, r"^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$"),
    "debian-6.12": (X86_64, r"^linux-image-6\.12\.[0-9.]+\+deb12-amd64-unsigned$"),
    "debian-6.12-rt": (X86_64, r"^linux-image-6\.12\.[0-9.]+\+deb12-rt-amd64-unsigned$"),
    "debian-6.1-arm64": (ARM64, r"^linux-image-6\.1\.0-[0-9]+-arm64-unsigned$"),
    "debian-6.12-arm64": (ARM64_A76, r"^linux-image-6\.12\.[0-9.]+\+deb12-arm64-unsigned$"),
    "debian-6.12-arm64-16k": (ARM64_A76, r"^linux-image-6\.12\.[0-9.]+\+deb12-arm64-16k-unsigned$"),
    "debian-6.1-i386": (I386, r"^linux-image-6\.1\.0-[0-9]+-686-pae-unsigned$"),
}


INIT = r"""#!/bin/busybox sh
# The guest's first process: mounts what the cases need, runs the plan, sends
# the results out on the second serial port, powers off.
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /sbin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin LD_LIBRARY_PATH=/lib/@TRIPLET@:/usr/lib/@TRIPLET@
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
echo "@MARK@ $(cut -d' ' -f1 /proc/uptime)" > /dev/console
start=$(cut -d' ' -f1 /proc/uptime)
sh @BIN@/plan.sh
echo "{\"init_uptime_s\": $start, \"end_uptime_s\": $(cut -d' ' -f1 /proc/uptime)}" > @OUT@/guest-times.json
cd @OUT@ && tar -cf /tmp/out.tar . && cd /
size=$(wc -c < /tmp/out.tar) sum=$(sha256sum /tmp/out.tar | cut -d' ' -f1)
stty -F /dev/@RESULTS@ raw -echo 2>/dev/null
{ echo "@BEGIN@ $size $sum"; base64 /tmp/out.tar; echo "@END@"; } > /dev/@RESULTS@
echo "ipcproof-init: results sent ($size bytes)" > /dev/console
sync
poweroff -f
"""


def init_text(arch):
    fill = {"@TRIPLET@": arch.triplet, "@MARK@": INIT_MARK, "@RESULTS@": arch.results_tty,
            "@BEGIN@": BEGIN.decode(), "@END@": END.decode(), "@BIN@": GUEST_BIN, "@OUT@": GUEST_OUT}
    return re.sub("@[A-Z]+@", lambda m: fill[m.group(0)], INIT).encode()


def guest_files(programs, arch, busybox, bash=None, root="/"):
    """{path in the guest: (host file or bytes, mode)}: the programs in
    GUEST_BIN, busybox, bash (a case runs `bash -c 'ulimit -p'`, the notes'
    command, which busybox's sh lacks), their libraries and loader."""
    files = {"/bin/busybox": (Path(busybox), 0o755), "/init": (init_text(arch), 0o755)}
    for p in programs:
        files[f"{GUEST_BIN}/{Path(p).name}"] = (Path(p), 0o755)
    elves = [p for p in programs if Path(p).read_bytes()[:4] == b"\x7fELF"]
    tools = [Path(bash)] if bash and Path(bash).is_file() else []
    if tools:
        files["/bin/bash"] = (tools[0], 0o755)
    for where, host in initramfs.library_closure(elves + tools, arch.triplet, root).items():
        files[where] = (host, 0o755)
    return files


def tools(arch):
    # zstd: 6.12's bzImages hold a zstd payload, decompressed for the PVH entry
    return [arch.qemu_package] + (["busybox-static"] if arch.native else []) + (["zstd"] if arch.pvh else [])


def present(arch):
    """Whether everything the target needs is installed already."""
    if not shutil.which(arch.qemu) or (arch.pvh and not shutil.which("zstd")):
        return False
    if arch.native:
        return Path("/bin/busybox").is_file()
    return bool(shutil.which(f"{arch.compiler}-gcc")) and cross.has_arch(arch.deb_arch)


def ready_for(arch):
    """Whether the kernel can run here, and how."""
    def ready():
        how = f"Debian kernel from apt-get download under {arch.qemu} (TCG)"
        if present(arch):
            return True, how
        if os.geteuid() == 0:
            return True, f"{how}; installs {arch.qemu_package}{'' if arch.native else ' and a cross toolchain'} on first use"
        return False, f"needs {' '.join(tools(arch))}{'' if arch.native else ' and ' + ' '.join(cross.packages(arch.deb_arch, arch.triplet, arch.gnu))} (as root)"
    return ready


def provision_for(name, arch, guest=True):
    """In the order each step needs the one before: the foreign architecture
    (apt must know it before a kernel image or Criterion of it is looked
    up), the cross compiler and its C library, the emulator, the target's
    Criterion and static busybox and bash (guest: for a guest, not for
    binaries the host's kernel runs)."""
    def provision(cache):
        why = f"the {name} kernel"
        if not arch.native:
            cross.ensure_toolchain(arch.deb_arch, arch.triplet, why, arch.gnu)
        if guest:
            debs.ensure(tools(arch), why)
        if not arch.native:
            cross.sysroot(cache, arch.deb_arch, arch.triplet, why)
            for package, member in foreign_tools(arch) if guest else ():
                cross.deb_file(cache, package, member, why)
    return provision


def foreign_tools(arch):
    return [(f"busybox-static:{arch.deb_arch}", "/bin/busybox"),
            (f"bash-static:{arch.deb_arch}", "/bin/bash-static")]


def cross_bindir(name, arch):
    """The bin directory of the programs built for the guest: the host's own
    for x86_64, a cross build for another architecture."""
    def bindir(ctx):
        if arch.native:
            return Path(ctx.bindir)
        say(name, f"cross-building the cases for {arch.deb_arch}")
        return cross.build(ctx.cache, arch.deb_arch, arch.cpu, arch.triplet, f"the {name} kernel", arch.gnu)[0]
    return bindir


class Channel:
    """The guest's files go into its initramfs; run() boots it (again, when
    it dies while booting) and reads the results off the serial port."""

    def __init__(self, ctx, name, arch, pattern):
        self.name, self.arch, self.pattern, self.cache = name, arch, pattern, ctx.cache
        self.console_log = Path(ctx.logdir) / f"{name}-console.log"
        self.bindir, self.outdir = GUEST_BIN, GUEST_OUT
        self.work = Path(tempfile.mkdtemp(prefix="ipcproof-qemu-"))
        self.files, self.texts = [], {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.work, ignore_errors=True)

    def put(self, files, texts=None):
        self.files += [Path(f) for f in files]
        self.texts.update(texts or {})

    def tools(self):
        """(busybox, bash, the library root) for the guest's architecture."""
        if self.arch.native:
            return "/bin/busybox", "/bin/bash", "/"
        why = f"the {self.name} kernel"
        busybox, bash = (cross.deb_file(self.cache, p, m, why) for p, m in foreign_tools(self.arch))
        return busybox, bash, cross.sysroot(self.cache, self.arch.deb_arch, self.arch.triplet, why)

    def initrd(self):
        """The cached programs' archive with the plan's appended (the kernel
        unpacks concatenated archives in turn)."""
        busybox, bash, root = self.tools()
        base = initramfs.initramfs(self.cache, guest_files(self.files, self.arch, busybox, bash, root))
        return with_texts(base, self.texts, self.work / "initrd")

    def run(self, argv, limit):
        kernel = images.fetch_kernel(self.name, self.pattern, self.cache, self.console_log)
        initrd = self.initrd()
        vmlinux = pvh.vmlinux(kernel["vmlinuz"]) if self.arch.pvh else None
        say(self.name, f"booting {kernel['package']} {kernel['version']}" + (" at its PVH entry" if vmlinux else ""))
        data, boot_s, run_s, retries = boot_retrying(self.name, self.arch, vmlinux or kernel["vmlinuz"], initrd,
                                                     limit + 60, self.console_log)
        untar(data, self.work / "out")
        return {"package": kernel["package"], "package_version": kernel["version"],
                "emulator": " ".join([self.arch.qemu, *self.arch.machine_args]), "boot_s": boot_s,
                "boot_entry": "pvh" if vmlinux else "image", "run_s": run_s, "boot_log": str(self.console_log), "boot_retries": retries,
                **guest_times(self.work / "out")}

    def get(self):
        return self.work / "out"


def with_texts(base, texts, dest):
    """dest: the base archive, then one holding the texts in GUEST_BIN."""
    data = base.read_bytes()
    # An uncompressed archive after a compressed one must start at a
    # multiple of 4 (the kernel skips the zeros before it).
    data += b"\0" * (-len(data) % 4)
    Path(dest).write_bytes(data + initramfs.cpio_newc({f"{GUEST_BIN}/{n}": (t.encode(), 0o755)
                                                       for n, t in texts.items()}))
    return dest


def guest_times(out):
    """The guest's own clock: kernel start to /init, and the run."""
    try:
        times = json.loads((out / "guest-times.json").read_text())
        return {"guest_boot_s": times["init_uptime_s"],
                "guest_run_s": round(times["end_uptime_s"] - times["init_uptime_s"], 2)}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def kernels():
    return {name: Kernel(name, "qemu", ready_for(arch), lambda ctx, n=name, a=arch, p=pattern: Channel(ctx, n, a, p),
                         {"arch": arch.deb_arch, "pattern": pattern, "cpus": CPUS, "bindir": cross_bindir(name, arch)},
                         provision_for(name, arch), arch.time_scale)
            for name, (arch, pattern) in SERIES.items()}
