"""Booting a QEMU guest and reading what it sends: the console is watched
for /init's first line (booted), a complete panic, no boot in time or a
hang; the results come framed and checksummed on the second serial port,
so a transfer cut short is detected, not half-read.  A guest that dies
before the cases start is booted again (boot_retrying)."""
import base64
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from .. import procs
from ..errors import Miss
from . import say

BEGIN, END = b"IPCPROOF-BEGIN", b"IPCPROOF-END"
INIT_MARK = "ipcproof-init: start"
PANIC_END = b"---[ end Kernel panic"
BOOT_TRIES = 3           # boots before a guest that dies while booting is a miss
MEMORY_MB = 1024
CPUS = 2


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
    """Regular files and directories only, and only below dest; a tar that
    cannot be read so (a file where a directory goes, garbage) is a miss."""
    try:
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
    except (tarfile.TarError, OSError, EOFError) as e:
        raise Miss(f"the guest's results came back unreadable: {e}") from None


def qemu_command(arch, kernel, initrd, console, results):
    # panic=-1: a panic reboots, which -no-reboot turns into QEMU's exit.
    # An oops does not panic: the case that hit it fails on its own and the
    # others still report; the oops is in the boot log (kernels.problems).
    # no_timer_check: on a busy host a TCG guest's PC timer can miss the
    # kernel's IO-APIC timer check and panic while booting (a known TCG
    # hazard); the check proves nothing about IPC.
    # tsc=reliable: TCG's vCPUs start at different moments, so 6.1 finds
    # their TSCs unsynchronized and falls back to the HPET, and every clock
    # read becomes an emulated device access (its socket and pipe cases ran
    # 2-4x slower than 6.12's).  QEMU derives every vCPU's TSC from one host
    # clock, so it is reliable; 6.12 reaches the same TSC clocksource alone.
    pc = " no_timer_check tsc=reliable" if arch.deb_arch in ("amd64", "i386") else ""
    append = f"console={arch.console} panic=-1{pc}"
    return [arch.qemu, *arch.machine_args, "-m", str(MEMORY_MB), "-smp", str(CPUS), "-nographic",
            "-no-reboot", "-monitor", "none", "-nic", "none",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", append,
            "-serial", f"file:{console}", *(a.format(results=results) for a in arch.results_args)]


def boot(name, arch, kernel, initrd, run_limit, console_log):
    """Boots, waits for the guest to power off; (results bytes, boot_s,
    run_s).  Miss on no boot, a panic or a hang; QEMU's whole session is
    killed whatever happens."""
    work = Path(tempfile.mkdtemp(prefix="ipcproof-qemu-"))
    console, results, qemu_log = work / "console.log", work / "results.bin", work / "qemu.out"
    proc = None
    try:
        with open(qemu_log, "wb") as out:
            start = time.monotonic()
            proc = procs.popen(qemu_command(arch, kernel, initrd, console, results), stdin=subprocess.DEVNULL,
                               stdout=out, stderr=subprocess.STDOUT)
        booted = watch(name, arch, proc, start, console, run_limit, console_log)
        total = time.monotonic() - start
        procs.sweep(proc.pid)
        log_text = keep_log(console, qemu_log, console_log)
        data = outcome(log_text, booted, proc, qemu_log, results, console_log)
        return data, round(booted, 2), round(total - booted, 2)
    finally:
        if proc is not None:
            procs.sweep(proc.pid)
        shutil.rmtree(work, ignore_errors=True)


def watch(name, arch, proc, start, console, run_limit, console_log):
    """Until QEMU exits or the guest's panic is complete: when /init
    started (None if it never did); Miss on no boot in time or a hang."""
    booted = None
    while proc.poll() is None:
        now = time.monotonic() - start
        text = console.read_bytes() if console.exists() else b""
        if booted is None and INIT_MARK.encode() in text:
            booted = now
            say(name, f"booted in {booted:.1f} s, running")
        if PANIC_END in text:
            # panic=-1 reboots (so QEMU exits) only after the kernel's own
            # delays: the trace is complete, that is enough.
            break
        if booted is None and now > arch.boot_limit_s:
            raise miss_with_log(f"did not boot within {arch.boot_limit_s} s", console, console_log, early=True)
        if booted is not None and now - booted > run_limit:
            raise miss_with_log(f"hung: no power-off {run_limit:.0f} s after boot", console, console_log)
        time.sleep(0.05)
    return booted


def keep_log(console, qemu_log, console_log):
    """The console, then what QEMU itself said, as the boot log."""
    qemu_out = qemu_log.read_bytes() if qemu_log.exists() else b""
    log_text = console.read_bytes() if console.exists() else b""
    Path(console_log).write_bytes(log_text + (b"\n--- qemu ---\n" + qemu_out if qemu_out else b""))
    return log_text


def outcome(log_text, booted, proc, qemu_log, results, console_log):
    """The results the guest sent, or the Miss that says why there are none
    (early: it died before the cases started)."""
    if b"Kernel panic" in log_text:
        line = next((l for l in log_text.decode(errors="replace").splitlines() if "Kernel panic" in l), "")
        raise Miss(f"the kernel panicked{'' if booted else ' while booting'}: {line.strip()}",
                   console_log, early=booted is None)
    if booted is None:
        said = qemu_log.read_text(errors="replace").strip().splitlines() or ["see the log"]
        raise Miss(f"QEMU exited ({proc.returncode}) before the guest booted: {said[-1]}", console_log, early=True)
    data, why = unframe(results.read_bytes() if results.exists() else b"")
    if data is None:
        raise Miss(why, console_log)
    return data


def miss_with_log(reason, console, console_log, early=False):
    try:
        shutil.copyfile(console, console_log)
    except OSError:
        Path(console_log).write_text("(no console output)\n")
    return Miss(reason, console_log, early)


def boot_retrying(name, arch, kernel, initrd, run_limit, console_log, tries=BOOT_TRIES):
    """boot(), again when the guest died before the cases started (a boot
    that fails now and then under TCG must not drop the kernel from a
    matrix); (data, boot_s, run_s, retries), each retry's reason and log in
    retries.  A failure once the cases run is the kernel's and not retried."""
    retries = []
    for attempt in range(1, tries + 1):
        try:
            return (*boot(name, arch, kernel, initrd, run_limit, console_log), retries)
        except Miss as miss:
            if not miss.early or attempt == tries:
                miss.retries = retries
                raise
            kept = Path(console_log).with_name(f"{Path(console_log).stem}-try{attempt}.log")
            shutil.move(console_log, kept)
            retries.append({"attempt": attempt, "reason": miss.reason, "log": str(kept)})
            say(name, f"boot {attempt} failed before the cases started ({miss.reason}): booting again")
