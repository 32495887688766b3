"""Debian's own kernels booted under QEMU (TCG: there is no KVM here).

The kernel image is fetched with `apt-get download` (apt checks the
archive's signatures and hashes) and only its vmlinuz is taken out with
dpkg-deb, into the cache: nothing is installed into the host's /boot.  The
guest gets a small initramfs built here: a static busybox, the case
binaries, the shared libraries they need, guest-run.sh and an /init that
runs it.  The results come back as a framed, checksummed tar on a second
serial port (a virtual UART the kernel drives with built-in code, so no
module has to be loaded); the first serial port is the console, kept as the
boot log."""
import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import cached, collect, cross, debs, guest, procs
from .errors import UserError
from .targets import Target

TIME_SCALE = 10          # a TCG guest runs the cases about ten times slower
BOOT_LIMIT_S = 120       # from QEMU's start to /init's first line
MEMORY_MB = 1024
CPUS = 2
BEGIN, END = b"IPCPROOF-BEGIN", b"IPCPROOF-END"
INIT_MARK = "ipcproof-init: start"
PANIC_END = b"---[ end Kernel panic"
BOOT_TRIES = 3           # boots before a guest that dies while booting is a miss


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


# -cpu max: TCG emulates it faster than the default qemu64 (measured: boot
# about 1.5 s sooner).  The results port is the PC's second UART (ttyS1).
X86_64 = Arch("qemu-system-x86_64", "qemu-system-x86", ("-accel", "tcg", "-cpu", "max"), "ttyS0",
              "ttyS1", ("-serial", "file:{results}"), "x86_64-linux-gnu", "amd64", "x86_64",
              TIME_SCALE, BOOT_LIMIT_S)

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

# Each target is the newest image of one series that the archive offers.
SERIES = {
    "debian-6.1": (X86_64, r"^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$"),
    "debian-6.12": (X86_64, r"^linux-image-6\.12\.[0-9.]+\+deb12-amd64-unsigned$"),
    "debian-6.12-rt": (X86_64, r"^linux-image-6\.12\.[0-9.]+\+deb12-rt-amd64-unsigned$"),
    "debian-6.1-arm64": (ARM64, r"^linux-image-6\.1\.0-[0-9]+-arm64-unsigned$"),
}


def say(name, what):
    print(f"ipcproof: {name}: {what}", file=sys.stderr, flush=True)


def natural(text):
    """A sort key that orders 6.1.0-9 before 6.1.0-10, as sort -V does."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def apt_names(pattern):
    done = subprocess.run(["apt-cache", "search", "--names-only", pattern],
                          capture_output=True, text=True)
    return [line.split(" ", 1)[0] for line in done.stdout.splitlines() if line.strip()]


def newest_package(pattern):
    """The newest package of a series in the archive's lists; an empty list
    (a machine that never ran apt-get update) is updated once."""
    names = apt_names(pattern)
    if not names and os.geteuid() == 0:
        debs.update(f"the kernel images matching {pattern}", again=True)
        names = apt_names(pattern)
    return max(names, key=natural) if names else None


def kernel_store(cache):
    return Path(cache) / "qemu" / "kernels"


def cached_kernel(cache, package):
    """The cached extraction of package, or None."""
    d = kernel_store(cache) / package
    try:
        meta = json.loads((d / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return dict(meta, vmlinuz=d / "vmlinuz", config=d / "config") if cached.intact(d / "vmlinuz") else None


def newest_cached(cache, pattern):
    """Offline fallback: the newest cached package of the series."""
    store = kernel_store(cache)
    names = [p.name for p in store.iterdir() if re.match(pattern, p.name)] if store.is_dir() else []
    for name in sorted(names, key=natural, reverse=True):
        if cached_kernel(cache, name):
            return name
    return None


def fetch_kernel(name, pattern, cache, log):
    """{package, version, vmlinuz, config}: from the cache, else downloaded
    with apt (verified against the archive's signed lists) and the boot
    files taken out of the .deb.  Miss when neither works."""
    package = newest_package(pattern) or newest_cached(cache, pattern)
    if package is None:
        raise guest.Miss(f"no kernel package matching {pattern} in apt's lists, nor in the cache", log)
    got = cached_kernel(cache, package)
    if got:
        return got
    if (kernel_store(cache) / package).exists():
        say(name, f"the cached {package} does not match its checksum: fetching it again")
    say(name, f"fetching {package}")
    store = kernel_store(cache)
    store.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=store))
    try:
        # apt's sandbox user cannot write into a 0700 dir: let it, as apt would.
        os.chmod(tmp, 0o755)
        done = subprocess.run(["apt-get", "download", "-q", package], cwd=tmp,
                              capture_output=True, text=True)
        debs_found = list(tmp.glob("*.deb"))
        if done.returncode != 0 or len(debs_found) != 1:
            Path(log).write_text(done.stdout + done.stderr)
            raise guest.Miss(f"apt-get download {package} failed: "
                             f"{(done.stderr.strip().splitlines() or ['?'])[-1]}", log)
        deb = debs_found[0]
        version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        out = tmp / "out"
        out.mkdir()
        extract_boot(deb, out)
        cached.record(out / "vmlinuz")
        (out / "package.json").write_text(json.dumps({"package": package, "version": version}) + "\n")
        final = store / package
        if final.exists():
            shutil.rmtree(final)
        os.replace(out, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cached_kernel(cache, package)


def extract_boot(deb, out):
    """Only ./boot/vmlinuz-* and ./boot/config-* from the package's data
    (dpkg-deb --fsys-tarfile streams it; the modules are never written)."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                base = os.path.basename(member.name)
                if member.isfile() and member.name.startswith("./boot/"):
                    for prefix, dest in (("vmlinuz-", "vmlinuz"), ("vmlinux-", "vmlinuz"),
                                         ("config-", "config")):
                        if base.startswith(prefix):
                            (out / dest).write_bytes(tar.extractfile(member).read())
    finally:
        proc.stdout.close()
        proc.wait()
    if not (out / "vmlinuz").is_file():
        raise guest.Miss(f"{deb.name} holds no /boot/vmlinuz")


# ---- the initramfs ------------------------------------------------------

INIT = r"""#!/bin/busybox sh
# The guest's first process: mounts what the cases need, runs them, sends
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
args=$(sed -n 's/.*ipcproof\.run=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)
jobs=$(echo "$args" | sed -n 1p) scale=$(echo "$args" | sed -n 2p) filter=$(echo "$args" | sed -n 3p)
start=$(cut -d' ' -f1 /proc/uptime)
sh /ipcproof/guest-run.sh /ipcproof/bin /tmp/out "$jobs" "$scale" "$filter"
echo "{\"init_uptime_s\": $start, \"end_uptime_s\": $(cut -d' ' -f1 /proc/uptime)}" > /tmp/out/guest-times.json
cd /tmp/out && tar -cf /tmp/out.tar . && cd /
size=$(wc -c < /tmp/out.tar) sum=$(sha256sum /tmp/out.tar | cut -d' ' -f1)
stty -F /dev/@RESULTS@ raw -echo 2>/dev/null
{ echo "@BEGIN@ $size $sum"; base64 /tmp/out.tar; echo "@END@"; } > /dev/@RESULTS@
echo "ipcproof-init: results sent ($size bytes)" > /dev/console
sync
poweroff -f
"""


def elf_needs(path):
    """(interpreter or None, [NEEDED sonames]) of an ELF file, via readelf
    (works for a foreign architecture, unlike ldd)."""
    out = subprocess.run(["readelf", "-ldW", str(path)], capture_output=True, text=True).stdout
    interp = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    return (interp.group(1) if interp else None,
            re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def library_closure(binaries, triplet, root="/"):
    """{path in the guest: host file} for every shared library the binaries
    need, transitively, and their dynamic loader, as found below root (the
    host's / for its own architecture, a sysroot for another)."""
    dirs = [f"/lib/{triplet}", f"/usr/lib/{triplet}"]
    found, todo = {}, list(binaries)
    seen = set()
    while todo:
        elf = todo.pop()
        if elf in seen:
            continue
        seen.add(elf)
        interp, needed = elf_needs(elf)
        if interp:
            where = cross.in_root(root, interp)
            if where is None:
                raise UserError(f"{Path(elf).name} needs the loader {interp}, not found below {root}")
            found[interp] = where
        for soname in needed:
            where = next(filter(None, (cross.in_root(root, f"{d}/{soname}") for d in dirs)), None)
            if where is None:
                raise UserError(f"{Path(elf).name} needs {soname}, not found in {root} {' '.join(dirs)}")
            found[f"/lib/{triplet}/{soname}"] = where
            todo.append(where)
    return found


def guest_files(bindir, binaries, arch, busybox, bash=None, root="/"):
    """{path in the guest: (host file or bytes, mode)}."""
    bindir = Path(bindir)
    programs = list(binaries) + [bindir / "kernel-info"] + sorted(bindir.glob("peer-*"))
    files = {"/bin/busybox": (Path(busybox), 0o755),
             "/init": (INIT.replace("@TRIPLET@", arch.triplet).replace("@MARK@", INIT_MARK)
                       .replace("@RESULTS@", arch.results_tty).replace("@BEGIN@", BEGIN.decode())
                       .replace("@END@", END.decode()).encode(), 0o755),
             "/ipcproof/guest-run.sh": (guest.SCRIPT, 0o755)}
    for p in programs:
        files[f"/ipcproof/bin/{p.name}"] = (Path(p), 0o755)
    # A case runs `bash -c 'ulimit -p'` (the notes' command); busybox's sh
    # has no -p, so the guest gets the distribution's bash, built for it.
    tools = [Path(bash)] if bash and Path(bash).is_file() else []
    if tools:
        files["/bin/bash"] = (tools[0], 0o755)
    for where, host in library_closure(programs + tools, arch.triplet, root).items():
        files[where] = (host, 0o755)
    return files


def content(item):
    return item if isinstance(item, bytes) else Path(item).read_bytes()


def cpio_newc(files):
    """A newc cpio archive (what the kernel unpacks) of {path: (data, mode)},
    with the parent directories, fixed owners and times (reproducible)."""
    out = io.BytesIO()
    ino = [0]

    def entry(name, mode, data=b""):
        ino[0] += 1
        name_b = name.encode() + b"\0"
        head = b"070701" + b"".join(b"%08X" % v for v in (
            ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        out.write(head + name_b)
        out.write(b"\0" * (-(len(head) + len(name_b)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    dirs = sorted({str(Path(p).parent).lstrip("/") for p in files} - {""})
    every_dir = sorted({"/".join(d.split("/")[:i + 1]) for d in dirs for i in range(d.count("/") + 1)})
    for d in every_dir:
        entry(d, 0o040755)
    for path in sorted(files):
        data, mode = files[path]
        entry(path.lstrip("/"), 0o100000 | mode, content(data))
    entry("TRAILER!!!", 0)
    return out.getvalue()


def initramfs(cache, files):
    """The gzipped initramfs for files, cached under the hash of its content,
    so an unchanged build boots without packing again."""
    h = hashlib.sha256()
    for path in sorted(files):
        data, mode = files[path]
        h.update(f"{path}\0{mode}\0".encode())
        h.update(hashlib.sha256(content(data)).digest())
    store = Path(cache) / "qemu" / "initramfs"
    store.mkdir(parents=True, exist_ok=True)
    target = store / f"{h.hexdigest()[:24]}.cpio.gz"
    if cached.intact(target):
        os.utime(target)
        return target
    fd, tmp = tempfile.mkstemp(prefix=".initramfs-", dir=store)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(gzip.compress(cpio_newc(files), compresslevel=6, mtime=0))
        os.replace(tmp, target)
        cached.record(target)
    except BaseException:
        os.unlink(tmp)
        raise
    prune(store, keep=target)
    return target


def prune(store, keep, most=8):
    """Old initramfs images (other builds) beyond the newest few go."""
    old = sorted((p for p in store.glob("*.cpio.gz") if p != keep), key=lambda p: p.stat().st_mtime)
    for p in old[:max(0, len(old) - most + 1)]:
        p.unlink(missing_ok=True)
        cached.sidecar(p).unlink(missing_ok=True)


# ---- booting ------------------------------------------------------------

def unframe(raw):
    """The tar the guest sent between the markers; None unless its length
    and sha256 match (a transfer cut short is detected, not half-read)."""
    start = raw.find(BEGIN)
    if start < 0:
        return None, "the guest sent no results"
    head_end = raw.find(b"\n", start)
    end = raw.find(END, head_end)
    if head_end < 0 or end < 0:
        return None, "the results transfer was cut short"
    try:
        _, size, digest = raw[start:head_end].decode().split()
        data = base64.b64decode(b"".join(raw[head_end:end].split()), validate=True)
    except (ValueError, UnicodeDecodeError):
        return None, "the results frame is malformed"
    if len(data) != int(size) or hashlib.sha256(data).hexdigest() != digest:
        return None, f"the results are corrupt ({len(data)} bytes of {size}, or a checksum mismatch)"
    return data, None


def untar(data, dest):
    """Regular files and directories only, and only below dest."""
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for m in tar.getmembers():
            rel = os.path.normpath(m.name)
            if rel.startswith(("/", "..")) or rel == ".":
                continue
            path = Path(dest) / rel
            if m.isdir():
                path.mkdir(parents=True, exist_ok=True)
            elif m.isfile():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(tar.extractfile(m).read())


def qemu_command(arch, kernel, initrd, console, results, args_b64):
    # panic=-1: a panic reboots, which -no-reboot turns into QEMU's exit.
    # An oops does not panic: the case that hit it fails on its own and the
    # others still report; the oops is in the boot log (console_problems).
    append = f"console={arch.console} panic=-1 ipcproof.run={args_b64}"
    return [arch.qemu, *arch.machine_args, "-m", str(MEMORY_MB), "-smp", str(CPUS), "-nographic",
            "-no-reboot", "-monitor", "none", "-nic", "none",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
            "-serial", f"file:{console}", *(a.format(results=results) for a in arch.results_args)]


def boot(name, arch, kernel, initrd, args_b64, run_limit, console_log):
    """Boots, waits for the guest to power off; (results bytes, boot_s,
    run_s).  Miss on no boot, a panic or a hang; QEMU's whole session is
    killed whatever happens."""
    work = Path(tempfile.mkdtemp(prefix="ipcproof-qemu-"))
    console, results, qemu_log = work / "console.log", work / "results.bin", work / "qemu.out"
    cmd = qemu_command(arch, kernel, initrd, console, results, args_b64)
    start = time.monotonic()
    proc = None
    try:
        with open(qemu_log, "wb") as out:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        booted = None
        while proc.poll() is None:
            now = time.monotonic() - start
            text = console.read_bytes() if console.exists() else b""
            if booted is None and INIT_MARK.encode() in text:
                booted = now
                say(name, f"booted in {booted:.1f} s, running")
            if PANIC_END in text:
                # panic=-1 reboots (so QEMU exits) only after the kernel's
                # own delays: the trace is complete, that is enough.
                break
            if booted is None and now > arch.boot_limit_s:
                raise miss_with_log(f"did not boot within {arch.boot_limit_s} s", console, console_log, early=True)
            if booted is not None and now - booted > run_limit:
                raise miss_with_log(f"hung: no power-off {run_limit:.0f} s after boot", console,
                                    console_log)
            time.sleep(0.05)
        total = time.monotonic() - start
        if proc.poll() is None:
            procs.sweep(proc.pid)
        qemu_out = qemu_log.read_text(errors="replace")
        log_text = console.read_bytes() if console.exists() else b""
        Path(console_log).write_bytes(log_text + (b"\n--- qemu ---\n" + qemu_out.encode() if qemu_out else b""))
        if b"Kernel panic" in log_text:
            line = next((l for l in log_text.decode(errors="replace").splitlines() if "Kernel panic" in l), "")
            raise guest.Miss(f"the kernel panicked{'' if booted else ' while booting'}: {line.strip()}",
                             console_log, early=booted is None)
        if booted is None:
            raise guest.Miss(f"QEMU exited ({proc.returncode}) before the guest booted: "
                             f"{(qemu_out.strip().splitlines() or ['see the log'])[-1]}", console_log, early=True)
        data, why = unframe(results.read_bytes() if results.exists() else b"")
        if data is None:
            raise guest.Miss(why, console_log)
        return data, round(booted, 2), round(total - booted, 2)
    finally:
        if proc is not None:
            procs.sweep(proc.pid)
        shutil.rmtree(work, ignore_errors=True)


def console_problems(log):
    """The kernel's complaints during the run (an oops, a BUG, a warning),
    first lines only: a case's result may owe something to them."""
    text = Path(log).read_text(errors="replace") if Path(log).exists() else ""
    found = [l.strip() for l in text.splitlines() if re.search(r"\b(Oops|BUG:|WARNING:|Kernel panic)", l)]
    return found[:10]


def miss_with_log(reason, console, console_log, early=False):
    try:
        shutil.copyfile(console, console_log)
    except OSError:
        Path(console_log).write_text("(no console output)\n")
    return guest.Miss(reason, console_log, early)


def boot_retrying(name, arch, kernel, initrd, args_b64, run_limit, console_log, tries=BOOT_TRIES):
    """boot(), again when the guest died before the cases started (a boot
    that fails now and then under TCG must not drop the kernel from a
    matrix); (data, boot_s, run_s, retries), each retry's reason and log in
    retries.  A failure once the cases run is the kernel's and not retried."""
    retries = []
    for attempt in range(1, tries + 1):
        try:
            return (*boot(name, arch, kernel, initrd, args_b64, run_limit, console_log), retries)
        except guest.Miss as miss:
            if not miss.early or attempt == tries:
                miss.retries = retries
                raise
            kept = Path(console_log).with_name(f"{Path(console_log).stem}-try{attempt}.log")
            shutil.move(console_log, kept)
            retries.append({"attempt": attempt, "reason": miss.reason, "log": str(kept)})
            say(name, f"boot {attempt} failed before the cases started ({miss.reason}): booting again")


def tools(arch):
    return [arch.qemu_package] + (["busybox-static"] if arch == X86_64 else [])


def present(arch):
    """Whether everything the target needs is installed already."""
    if not shutil.which(arch.qemu):
        return False
    if arch == X86_64:
        return Path("/bin/busybox").is_file()
    return bool(shutil.which(f"{arch.triplet}-gcc")) and cross.has_arch(arch.deb_arch)


def ready_for(arch):
    def ready():
        how = f"Debian kernel from apt-get download under {arch.qemu} (TCG)"
        if present(arch):
            return True, how
        if os.geteuid() == 0:
            return True, f"{how}; installs {arch.qemu_package}{' and a cross toolchain' if arch != X86_64 else ''} on first use"
        return False, f"needs {' '.join(tools(arch))}{' and ' + ' '.join(cross.packages(arch.deb_arch, arch.triplet)) if arch != X86_64 else ''} (as root)"
    return ready


def run_for(name, arch, pattern):
    def run(ctx):
        return run_kernel(ctx, name, arch, pattern)
    return run


def provision_for(name, arch):
    """In the order each step needs the one before: the foreign architecture
    (apt must know it before a kernel image or Criterion of it is looked
    up), the cross compiler and its C library, the emulator, the target's
    Criterion and static busybox and bash."""
    def provision(cache):
        why = f"the {name} kernel"
        if arch != X86_64:
            cross.ensure_toolchain(arch.deb_arch, arch.triplet, why)
        debs.ensure(tools(arch), why)
        if arch != X86_64:
            cross.sysroot(cache, arch.deb_arch, arch.triplet, why)
            for package, member in foreign_tools(arch):
                cross.deb_file(cache, package, member, why)
    return provision


def foreign_tools(arch):
    return [(f"busybox-static:{arch.deb_arch}", "/bin/busybox"),
            (f"bash-static:{arch.deb_arch}", "/bin/bash-static")]


def guest_programs(ctx, name, arch):
    """(bindir, area binaries, busybox, bash, library root) built for the
    guest's architecture: the host's own for x86_64, a cross build for
    arm64 with its libraries from a sysroot."""
    if arch == X86_64:
        return Path(ctx.bindir), list(ctx.binaries), "/bin/busybox", "/bin/bash", "/"
    say(name, f"cross-building the cases for {arch.deb_arch}")
    why = f"the {name} kernel"
    bindir, root = cross.build(ctx.cache, arch.deb_arch, arch.cpu, arch.triplet, why)
    binaries = [bindir / Path(b).name for b in ctx.binaries]
    busybox, bash = (cross.deb_file(ctx.cache, package, member, why) for package, member in foreign_tools(arch))
    return bindir, binaries, busybox, bash, root


def run_kernel(ctx, name, arch, pattern):
    provision_for(name, arch)(ctx.cache)
    logdir = Path(ctx.logdir)
    console_log = logdir / f"{name}-console.log"
    kernel = fetch_kernel(name, pattern, ctx.cache, console_log)
    bindir, binaries, busybox, bash, root = guest_programs(ctx, name, arch)
    initrd = initramfs(ctx.cache, guest_files(bindir, binaries, arch, busybox, bash, root))
    jobs = min(ctx.jobs, CPUS)
    scale = arch.time_scale
    args = base64.b64encode(f"{jobs}\n{scale}\n{ctx.filter or ''}\n".encode()).decode()
    say(name, f"booting {kernel['package']} {kernel['version']}")
    data, boot_s, run_s, retries = boot_retrying(name, arch, kernel["vmlinuz"], initrd, args,
                                                 collect.run_bound(ctx.binaries, jobs, scale) + 60,
                                                 console_log)
    out = Path(tempfile.mkdtemp(prefix="ipcproof-qemu-out-"))
    try:
        untar(data, out)
        raw, runs, facts = guest.read_outdir(out, name, "qemu")
        try:
            # the guest's own clock: kernel start to /init, and the run
            times = json.loads((out / "guest-times.json").read_text())
            facts.update(guest_boot_s=times["init_uptime_s"],
                         guest_run_s=round(times["end_uptime_s"] - times["init_uptime_s"], 2))
        except (OSError, ValueError, KeyError):
            pass
        for log in out.glob("*.log"):
            shutil.copyfile(log, logdir / f"{name}-{log.name}")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    facts.update(package=kernel["package"], package_version=kernel["version"],
                 emulator=" ".join([arch.qemu, *arch.machine_args]), time_scale=scale,
                 boot_s=boot_s, run_s=run_s, run_time_s=run_s, boot_log=str(console_log), boot_retries=retries,
                 console_problems=console_problems(console_log))
    return raw, runs, facts


def targets():
    return {name: Target(name, "qemu", ready_for(arch), run_for(name, arch, pattern),
                         {"arch": arch.deb_arch, "pattern": pattern}, provision_for(name, arch))
            for name, (arch, pattern) in SERIES.items()}
