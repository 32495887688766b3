"""Where the seconds of a run go, kernel by kernel: a profile.

    /usr/bin/python3 -m driver.bench_runtime [--kernels host,uml,gvisor,debian-6.12] [--repeat 3]
                                             [--jobs N] [--json FILE]

On each kernel, one kernel at a time (two would slow each other), one plan
through the same session and runner as `./ipcproof run`: an empty
plain-Criterion binary of N tests (bench-criterion-empty), an empty harness
binary of N CASEs (bench-harness-empty), then every area binary.  Per kernel:

  boot_s          the kernel's boot (none on the host)
  exec_ms         the empty Criterion step's wall / N: Criterion re-executes
                  its binary for every test, no case goes below it
  harness_ms      (harness-empty wall - Criterion-empty wall) / N: the
                  harness's own machinery per case, no case body
  cases_own_s     the sum of the cases' own duration_s (as Criterion timed
                  them, concurrently with --jobs); it holds the part of the
                  harness that runs in the case's process (harness_in_case_ms,
                  an empty CASE's duration_s): bodies_s is the rest
  areas_s         the area steps' wall, one after another here (so that
                  each step's share can be told; `run` starts them together
                  where the kernel's areas_together says so, which overlaps
                  their waits); areas_rest_s is what exec, harness
                  and the bodies (divided by the jobs) leave of it
  plan_rest_s     run_s less every step's wall: the runner, kernel-info
  driver_s        the driver's wall for the kernel less boot_s and run_s:
                  provisioning, packing the programs, the results' way back

A `./ipcproof run` of the kernel is boot_s + areas_s + plan_rest_s +
driver_s, less the two empty steps.  Medians of --repeat runs (alternating
the kernels); timings are noisy (shared cores, emulators), so nothing here
is a test's assertion."""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from . import build, catalog, collect, fsutil, kernels, runner, session, validate
from .errors import UserError

EMPTY_CRITERION, EMPTY_HARNESS = EMPTY = ("bench-criterion-empty", "bench-harness-empty")
SCHEMA = "ipcproof/profile/1"
COLUMNS = (("boot_s", "boot s"), ("run_s", "run s"), ("total_s", "total s"), ("exec_ms", "exec ms/case"),
           ("harness_ms", "harness ms/case"), ("cases_own_s", "cases own s"),
           ("bodies_s", "bodies s"), ("areas_s", "areas s"),
           ("areas_rest_s", "areas rest s"), ("plan_rest_s", "plan rest s"), ("driver_s", "driver s"))


def steps_for(bindir, n, jobs_wanted):
    """The plan's steps for a kernel: the two empty binaries, then every
    area binary, with the jobs `run` would give the kernel."""
    binaries = [Path(bindir) / a for a in catalog.AREAS if (Path(bindir) / a).is_file()]

    def steps(kernel, scale):
        jobs = jobs_of(kernel, jobs_wanted)
        empties = [replace(runner.case_step(Path(bindir) / e, jobs, scale),
                           limit_s=collect.binary_bound(n, jobs, scale)) for e in EMPTY]
        return empties + runner.case_steps(binaries, jobs, scale)
    return steps


def jobs_of(kernel, jobs_wanted):
    return min(jobs_wanted, kernel.params.get("cpus", jobs_wanted))


def sample(outcome, n, jobs, total_s):
    """One run's figures for one kernel (a miss: its reason)."""
    k = outcome.kernel
    if k["status"] == "miss":
        return {"status": "miss", "miss_reason": k["miss_reason"]}
    walls = {r["step"]: float(r["wall_s"]) for r in outcome.runs}
    areas = [s for s in walls if s not in EMPTY]
    results = [c for s in areas for c in outcome.raw.get(s, {}).values()]
    own = sum(float(c.get("duration_s") or 0) for c in results)
    crit, harn = walls.get(EMPTY_CRITERION, 0.0), walls.get(EMPTY_HARNESS, 0.0)
    exec_ms, harness_ms = crit / n * 1000, (harn - crit) / n * 1000
    in_case = sum(float(c.get("duration_s") or 0) for c in outcome.raw.get(EMPTY_HARNESS, {}).values()) / n
    bodies = own - len(results) * in_case
    areas_s = sum(walls[s] for s in areas)
    boot, run_s = float(k.get("boot_s") or 0), float(k.get("run_s") or 0)
    return {"status": "ran", "release": k.get("release", ""), "criterion": k.get("criterion", ""),
            "jobs": jobs, "cases": len(results), "empty_tests": n,
            "harness_results": len(outcome.raw.get(EMPTY_HARNESS, {})),
            "hung": [r["step"] for r in outcome.runs if r["hung"]],
            "boot_s": boot, "run_s": run_s, "total_s": total_s,
            "criterion_empty_s": crit, "harness_empty_s": harn, "exec_ms": exec_ms, "harness_ms": harness_ms,
            "cases_own_s": own, "harness_in_case_ms": in_case * 1000, "bodies_s": bodies, "areas_s": areas_s,
            "areas_rest_s": areas_s - len(results) * (exec_ms + harness_ms) / 1000 - bodies / max(jobs, 1),
            "plan_rest_s": run_s - sum(walls.values()), "driver_s": total_s - boot - run_s}


def summarize(name, samples):
    """A kernel's row: the median of each figure over the runs it ran, its
    range, and how many runs missed."""
    ran = [s for s in samples if s["status"] == "ran"]
    misses = [s["miss_reason"] for s in samples if s["status"] == "miss"]
    if not ran:
        return {"kernel": name, "status": "miss", "miss_reason": misses[0], "samples": samples}
    row = {"kernel": name, "status": "ran", "runs": len(ran), "misses": misses}
    for key in ("release", "criterion", "jobs", "cases", "empty_tests", "harness_results"):
        row[key] = ran[-1][key]
    row["hung"] = sorted({h for s in ran for h in s["hung"]})
    for key in ("criterion_empty_s", "harness_empty_s", "harness_in_case_ms") + tuple(c for c, _ in COLUMNS):
        values = [s[key] for s in ran]
        row[key] = round(statistics.median(values), 4)
        row[f"{key}_range"] = [round(min(values), 4), round(max(values), 4)]
    row["samples"] = samples
    return row


def profile(chosen, ctx, repeat, n):
    """{kernel: [sample]}: the plan on each kernel in turn, `repeat` times
    over (A, B, A, B ...)."""
    steps = steps_for(ctx.bindir, n, ctx.jobs)
    samples = {k.name: [] for k in chosen}
    for _ in range(repeat):
        for kernel in chosen:
            start = time.monotonic()
            [outcome] = session.run([kernel], steps, ctx, jobs=1)
            total = time.monotonic() - start
            samples[kernel.name].append(sample(outcome, n, jobs_of(kernel, ctx.jobs), round(total, 3)))
    return samples


def table(rows):
    head = ["kernel", *(label for _, label in COLUMNS)]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in rows:
        if r["status"] == "miss":
            lines.append(f"{r['kernel']} | missed: {validate.term(r['miss_reason'])}")
            continue
        lines.append(" | ".join([r["kernel"], *(f"{r[key]:.2f}" for key, _ in COLUMNS)]))
    return "\n".join(lines)


def notes(rows):
    """What the table does not show: each kernel's counts and hangs."""
    out = []
    for r in rows:
        if r["status"] == "ran":
            out.append(f"{r['kernel']}: {r['cases']} case results, N={r['empty_tests']} empty tests "
                       f"({r['harness_results']} harness results), --jobs {r['jobs']}, {r['runs']} runs"
                       f"{', ' + str(len(r['misses'])) + ' missed' if r['misses'] else ''}"
                       f"{', hung: ' + ', '.join(r['hung']) if r['hung'] else ''}; {r['criterion']}")
    return out


def empty_tests(bindir):
    """N, the empty binaries' test count, from the host build's listing."""
    found = {}
    for name in EMPTY:
        path = Path(bindir) / name
        if not os.access(path, os.X_OK):
            raise UserError(f"no {name} in {bindir} (is the build complete?)")
        found[name] = len(collect.list_cases(path))
    if len(set(found.values())) != 1 or not found[EMPTY_CRITERION]:
        raise UserError(f"the empty binaries do not hold the same number of tests: {found}")
    return found[EMPTY_CRITERION]


def timing_options(p, repeat, what):
    """The options both timing scripts take (bench_ltp too)."""
    p.add_argument("--repeat", type=int, default=repeat, help=f"{what} (default {repeat})")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="concurrent cases, as run's --jobs")
    p.add_argument("--json", type=Path, help="also write the figures (every run's too) to this file")
    p.add_argument("--no-build", action="store_true", help="use the binaries already built")


def check_timing_options(args):
    if args.repeat < 1 or args.jobs < 1:
        raise UserError("--repeat and --jobs must be positive integers")
    if args.json and not args.json.parent.is_dir():
        raise UserError(f"no directory {args.json.parent} for --json")


def parser():
    p = argparse.ArgumentParser(prog="bench_runtime", description="where the seconds of a run go, per kernel")
    p.add_argument("--kernels", default="host", help="comma-separated kernels (default: host)")
    timing_options(p, 3, "runs of the plan on each kernel")
    return p


def run(args):
    check_timing_options(args)
    chosen = kernels.resolve(args.kernels)
    if any(k.provision is not kernels.nothing_to_install for k in chosen):
        fsutil.cache_dir(build.CACHE)
    bindir = build.bindir() if args.no_build else build.build()
    n = empty_tests(bindir)
    with tempfile.TemporaryDirectory(prefix="ipcproof-profile-") as logs:
        ctx = session.Context(bindir, Path(logs), build.CACHE, args.jobs)
        samples = profile(chosen, ctx, args.repeat, n)
    rows = [summarize(name, s) for name, s in samples.items()]
    print(f"medians of {args.repeat} runs per kernel, seconds unless said; N = {n}")
    print(table(rows))
    for line in notes(rows):
        print(f"  {line}")
    if args.json:
        doc = {"schema": SCHEMA, "repeat": args.repeat, "jobs": args.jobs, "empty_tests": n, "kernels": rows}
        fsutil.write_atomic(args.json, json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    return 0 if all(r["status"] == "ran" and not r["misses"] for r in rows) else 1


def main(argv=None):
    args = parser().parse_args(argv)
    return session.guarded("bench_runtime", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
