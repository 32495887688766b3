"""How often a QEMU guest dies while booting, and under what: each kernel
booted many times (the real initramfs, a filter that selects no case, so a
boot is all there is), with every core kept busy by other processes, for
each CPU model asked for.

    /usr/bin/python3 -m driver.bootloop [--kernels debian-6.1,debian-6.12] [--boots 20]
                                        [--cpus max,qemu64] [--hogs N] [--memory 1024]

Not a test (it takes minutes); its figures go in closing notes."""
import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from . import build, procs, runner
from .acquire import images, initramfs
from .errors import Miss
from .flake import HOG
from .kernels import qemu, qemu_boot


def one_boot(name, arch, kernel, initrd, log):
    """('ok', boot seconds) or (the failure, its first telling line)."""
    try:
        _, boot_s, _ = qemu_boot.boot(name, arch, kernel["vmlinuz"], initrd, 120, log)
        return "ok", boot_s
    except Miss as miss:
        text = Path(log).read_text(errors="replace") if Path(log).exists() else ""
        first = next((line.strip() for line in text.splitlines()
                      if any(w in line for w in ("BUG:", "Oops", "RIP:", "panic", "WARNING:"))), "")
        return miss.reason, first


def boot_only_initrd(bindir, arch, logdir):
    """The real initramfs with a plan of no step: a boot is all there is."""
    programs = runner.programs(bindir, [])
    base = initramfs.initramfs(build.CACHE, qemu.guest_files(programs, arch, "/bin/busybox", "/bin/bash"))
    plan = runner.script([], qemu.GUEST_BIN, qemu.GUEST_OUT)
    return qemu.with_texts(base, {"plan.sh": plan}, logdir / f"{arch.deb_arch}.initrd")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bootloop")
    ap.add_argument("--kernels", default="debian-6.1,debian-6.12,debian-6.12-rt")
    ap.add_argument("--boots", type=int, default=20)
    ap.add_argument("--cpus", default="max", help="QEMU -cpu models, comma-separated")
    ap.add_argument("--memory", type=int, default=qemu_boot.MEMORY_MB)
    ap.add_argument("--hogs", type=int, default=os.cpu_count() or 1, help="busy processes (default: one per core)")
    args = ap.parse_args(argv)
    bindir = build.build()
    hogs = [subprocess.Popen(["sh", "-c", HOG], start_new_session=True) for _ in range(args.hogs)]
    qemu_boot.MEMORY_MB = args.memory
    logdir = Path(tempfile.mkdtemp(prefix="ipcproof-bootloop-"))
    try:
        for name in args.kernels.split(","):
            base, pattern = qemu.SERIES[name]
            kernel = images.fetch_kernel(name, pattern, build.CACHE, logdir / "fetch.log")
            initrd = boot_only_initrd(bindir, base, logdir)
            for cpu in args.cpus.split(","):
                machine = tuple(cpu if prev == "-cpu" else a
                                for prev, a in zip(("",) + base.machine_args, base.machine_args))
                arch = dataclasses.replace(base, machine_args=machine)
                outcomes, times = {}, []
                for i in range(args.boots):
                    what, detail = one_boot(name, arch, kernel, initrd, logdir / f"{name}-{cpu}-{i}.log")
                    if what == "ok":
                        times.append(detail)
                    else:
                        outcomes.setdefault(what, []).append(detail)
                failed = sum(len(v) for v in outcomes.values())
                print(f"{name} -cpu {cpu} -m {args.memory}: {args.boots - failed}/{args.boots} booted"
                      f"{f', median {statistics.median(times):.1f} s' if times else ''}", flush=True)
                for what, details in outcomes.items():
                    print(f"    {len(details)}x {what}; first: {details[0]}", flush=True)
    finally:
        for h in hogs:
            procs.sweep(h.pid)
        print(f"boot logs in {logdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
