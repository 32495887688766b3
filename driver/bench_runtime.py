"""Where a run's time goes: the pipe area (or any) next to two floors.

    /usr/bin/python3 -m driver.bench_runtime [--area pipe] [--repeat 15]

(a) a bare spawn+wait of /bin/true once per case; (b) an empty Criterion
binary with as many tests, run with the same --jobs: Criterion re-executes
its binary for every test, and nothing the harness does can go below that.
Medians of repeated runs; timings here are noisy, so this is never a test."""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import build, catalog, collect, session

ROOT = Path(__file__).resolve().parent.parent


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), min(samples), max(samples)


def spawn_true(n):
    for _ in range(n):
        pid = os.posix_spawn("/bin/true", ["/bin/true"], os.environ)
        os.waitpid(pid, 0)


def empty_criterion(n, tmp):
    src = Path(tmp) / "empty.c"
    src.write_text("#include <criterion/criterion.h>\n"
                   + "".join(f"Test(empty, t{i}) {{}}\n" for i in range(n)))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "criterion"], capture_output=True,
                           text=True, check=True).stdout.split()
    exe = Path(tmp) / "empty"
    subprocess.run(["cc", "-O2", "-o", str(exe), str(src), *flags], check=True)
    return exe


def main(argv=None):
    ap = argparse.ArgumentParser(prog="bench_runtime")
    ap.add_argument("--area", default="pipe", help="an area, or all (every area binary in turn)")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args(argv)
    bindir = build.build()
    areas = [a for a in catalog.AREAS if (bindir / a).exists()] if args.area == "all" else [args.area]
    binaries = [bindir / a for a in areas]
    n = sum(len(collect.list_cases(b)) for b in binaries)
    with tempfile.TemporaryDirectory() as tmp:
        exe = empty_criterion(n, tmp)
        quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows = {
            "(a) spawn+wait /bin/true x cases": timed(lambda: spawn_true(n), args.repeat),
            "(b) empty Criterion binary": timed(
                lambda: subprocess.run([str(exe), f"--jobs={args.jobs}"], **quiet), args.repeat),
            f"{args.area}: the binaries alone": timed(
                lambda: [subprocess.run([str(b), f"--jobs={args.jobs}"], **quiet) for b in binaries], args.repeat),
            f"{args.area}: through the driver": timed(
                lambda: session.on_host(binaries, args.jobs), args.repeat),
            f"./ipcproof run --areas {','.join(areas)}": timed(
                lambda: subprocess.run([str(ROOT / "ipcproof"), "run", "--no-build", "--areas", ",".join(areas),
                                        "--out", str(Path(tmp) / "out")], **quiet), args.repeat),
        }
    floor_b = rows["(b) empty Criterion binary"][0]
    print(f"{args.area}: {n} cases, --jobs {args.jobs}, {args.repeat} runs each; median [min-max] ms")
    for name, (med, lo, hi) in rows.items():
        print(f"  {name:40} {med * 1000:8.1f}  [{lo * 1000:.1f}-{hi * 1000:.1f}]  x{med / floor_b:.2f} of (b)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
