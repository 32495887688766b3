"""Flake-proofing: the whole host suite, many times in a row, with every
core kept busy by other processes; any result other than pass/skip is
reported with its case and message.

    /usr/bin/python3 -m driver.flake [--runs 200] [--hogs N] [--jobs N] [--one-after-another]

Not a test (it takes minutes); its figures go in closing notes."""
import argparse
import os
import signal
import statistics
import subprocess
import sys
import time

from . import build, catalog, procs, session

HOG = "while :; do :; done"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="flake")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--hogs", type=int, default=os.cpu_count() or 1, help="busy processes (default: one per core)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--one-after-another", action="store_true",
                    help="the area binaries one after another (default: together, as run does on the host)")
    args = ap.parse_args(argv)
    bindir = build.build()
    binaries = [bindir / a for a in catalog.AREAS if (bindir / a).exists()]
    claimed = [c for c in catalog.claim_of_case(catalog.load()) if c.split("/")[0] in {b.name for b in binaries}]
    hogs = [subprocess.Popen(["sh", "-c", HOG], start_new_session=True) for _ in range(args.hogs)]
    bad, walls, counts = [], [], 0
    try:
        for i in range(args.runs):
            start = time.monotonic()
            outcome = session.on_host(binaries, args.jobs, together=not args.one_after_another)
            got = {case: r for by_case in outcome.raw.values() for case, r in by_case.items()}
            counts += len(got)
            bad += [(i, case, "no result", "") for case in sorted(set(claimed) - set(got))]
            bad += [(i, case, r["status"], r["message"]) for case, r in got.items()
                    if r["status"] not in ("pass", "skip")]
            walls.append(time.monotonic() - start)
            print(f"run {i + 1}/{args.runs}: {walls[-1]:.2f} s, {len(bad)} unexpected so far",
                  file=sys.stderr, flush=True)
    finally:
        for h in hogs:
            os.killpg(h.pid, signal.SIGKILL)
            h.wait()
        procs.reap()
    print(f"{args.runs} runs of {len(binaries)} binaries with {args.hogs} busy processes, --jobs {args.jobs}: "
          f"{counts} results, {len(bad)} unexpected; wall per run median {statistics.median(walls):.2f} s "
          f"[{min(walls):.2f}-{max(walls):.2f}]")
    for i, case, status, message in bad:
        print(f"  run {i + 1}: {case}: {status}: {message.splitlines()[0] if message else ''}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
