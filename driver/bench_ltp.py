"""ipcproof's run against LTP's, on the running kernel, in paired runs.

    /usr/bin/python3 -m driver.bench_ltp --ltp DIR [--repeat 11] [--jobs N] [--json FILE]

DIR is an LTP installation (runtest/ and testcases/bin/, as `make install`
lays them out), built by whoever runs this from LTP's own source, outside
the project: nothing of LTP is part of ipcproof.  Each round times, in turn:

  (a) LTP's pipe, pipe2, FIFO (mknod, mknodat) and mmap tests and pipeio,
      as runtest/syscalls lists them, one after the other, each with TMPDIR
      a private temp dir; every TPASS line is one assertion (TFAIL, TBROK
      and TCONF lines are counted too);
  (b) `./ipcproof run --no-build --out TMP --jobs N`: every case (its
      results counted from results.json);
  (c) an empty Criterion binary with as many tests as (b) has results,
      linked against the Criterion the build used (its CMakeCache's
      IPCPROOF_CRITERION prefix, or the system's) and the way its case
      binaries are (static when they are), with the same --jobs.

Rounds alternate a, b, c, a, b, c ...  It prints medians [min-max], the
cost per result and per assertion, (b)/(c) and (b) per result / (a) per
assertion.  Timings are noisy: nothing here is a test's assertion."""
import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import build, fsutil, validate
from .bench_runtime import check_timing_options, timing_options
from .errors import UserError

ROOT = Path(__file__).resolve().parent.parent
# The programs of the areas ipcproof covers, as LTP names them.
PROGRAMS = re.compile(r"(pipe\d+|pipe2_\d+|mknod\d+|mknodat\d+|mmap\d+|pipeio)")
VERDICTS = ("TPASS", "TFAIL", "TBROK", "TCONF")
LTP_LIMIT_S = 600      # one LTP test; its own library stops it sooner
SCHEMA = "ipcproof/bench-ltp/1"


def ltp_entries(ltp):
    """[(tag, argv)] of runtest/syscalls for the areas, each program found
    in testcases/bin; a wrong DIR is the user's error."""
    ltp = Path(ltp)
    bindir, runtest = ltp / "testcases" / "bin", ltp / "runtest" / "syscalls"
    try:
        lines = runtest.read_text(errors="replace").splitlines()
    except OSError:
        raise UserError(f"--ltp {ltp}: no {runtest} (give an LTP installation: runtest/, testcases/bin/)") from None
    entries = []
    for line in lines:
        words = shlex.split(line, comments=True)
        if len(words) >= 2 and PROGRAMS.fullmatch(words[1]):
            entries.append((words[0], words[1:]))
    missing = [argv[0] for _, argv in entries if not os.access(bindir / argv[0], os.X_OK)]
    if not entries or missing:
        raise UserError(f"--ltp {ltp}: " + (f"{missing[0]} is not built in {bindir}" if missing
                                             else f"{runtest} lists no pipe, FIFO or mmap test"))
    return entries


def run_ltp(ltp, entries):
    """{verdict: lines} over every entry, run one after the other."""
    env = dict(os.environ, LTPROOT=str(ltp), PATH=f"{Path(ltp) / 'testcases' / 'bin'}:{os.environ.get('PATH', '')}")
    counts = dict.fromkeys(VERDICTS, 0)
    for _, argv in entries:
        with tempfile.TemporaryDirectory(prefix="ipcproof-ltp-") as tmp:
            out = bounded([str(Path(ltp) / "testcases" / "bin" / argv[0]), *argv[1:]], dict(env, TMPDIR=tmp), tmp)
        for line in out.splitlines():
            for v in VERDICTS:
                counts[v] += bool(re.search(rf"\b{v}\b", line))
    return counts


def bounded(argv, env, cwd):
    """The output of argv, in a session of its own, killed with all it
    started when it outlives LTP_LIMIT_S."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=LTP_LIMIT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        out += f"\n{argv[0]} TBROK: killed after {LTP_LIMIT_S} s\n".encode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return out.decode(errors="replace")


def run_ipcproof(jobs):
    """The number of results of one `./ipcproof run` of every case."""
    with tempfile.TemporaryDirectory(prefix="ipcproof-bench-ltp-") as tmp:
        done = subprocess.run([str(ROOT / "ipcproof"), "run", "--no-build", "--jobs", str(jobs), "--out", tmp],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if done.returncode not in (0, 1):
            raise UserError(f"./ipcproof run failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}")
        return len(json.loads((Path(tmp) / "results.json").read_text())["results"])


def criterion_flags(build_dir):
    """pkg-config's flags for the Criterion build_dir was configured with."""
    try:
        cache = (Path(build_dir) / "CMakeCache.txt").read_text(errors="replace")
    except OSError:
        raise UserError(f"no {build_dir}/CMakeCache.txt: build first (or drop --no-build)") from None
    m = re.search(r"^IPCPROOF_CRITERION:[A-Z]+=(.*)$", cache, re.M)
    env = dict(os.environ)
    if m and m.group(1).strip():
        env["PKG_CONFIG_PATH"] = str(Path(m.group(1).strip()) / "lib" / "pkgconfig")
    done = subprocess.run(["pkg-config", "--cflags", "--libs", "criterion"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"pkg-config finds no Criterion for {build_dir}: {done.stderr.strip()[:200]}")
    # linked as the case binaries are (static programs: CMakeLists' IPCPROOF_STATIC)
    static = re.search(r"^IPCPROOF_STATIC:BOOL=ON$", cache, re.M)
    return done.stdout.split() + (["-static", "-no-pie"] if static else [])


def empty_criterion(n, tmp, flags):
    """An empty Criterion binary of n tests, built in tmp."""
    src, exe = Path(tmp) / "empty.c", Path(tmp) / "empty"
    src.write_text("#include <criterion/criterion.h>\n" + "".join(f"Test(empty, t{i}) {{}}\n" for i in range(n)))
    done = subprocess.run(["cc", "-O2", "-o", str(exe), str(src), *flags], capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"cannot build the empty Criterion binary: {done.stderr.strip()[-300:]}")
    return exe


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def rounds(args, entries, flags, tmp):
    """{a, b, c: [seconds]} and what each round counted, alternating a, b, c."""
    times, counts, exe = {"a": [], "b": [], "c": []}, {"ltp": [], "results": []}, None
    for _ in range(args.repeat):
        t, ltp = timed(lambda: run_ltp(args.ltp, entries))
        times["a"].append(t)
        t, results = timed(lambda: run_ipcproof(args.jobs))
        times["b"].append(t)
        counts["ltp"].append(ltp)
        counts["results"].append(results)
        # as many tests as (b) has results: known after its first round
        exe = exe or empty_criterion(results, tmp, flags)
        argv = [str(exe), f"--jobs={args.jobs}", "--short-filename", "--ascii"]
        t, _ = timed(lambda: subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL))
        times["c"].append(t)
    return times, counts


def figures(times, counts, entries, args):
    stats = {k: {"median_s": round(statistics.median(v), 4), "min_s": round(min(v), 4), "max_s": round(max(v), 4),
                 "samples_s": [round(x, 4) for x in v]} for k, v in times.items()}
    # the first round's counts (the empty binary has its number of tests)
    asserts, results = counts["ltp"][0]["TPASS"], counts["results"][0]
    per_assert = stats["a"]["median_s"] / asserts if asserts else None
    per_result = stats["b"]["median_s"] / results
    return {"schema": SCHEMA, "repeat": args.repeat, "jobs": args.jobs, "ltp": str(args.ltp),
            "ltp_tests": len(entries), "ltp_counts": counts["ltp"][0], "results": results, "times": stats,
            "counts_vary": any(c != counts["ltp"][0] for c in counts["ltp"]) or len(set(counts["results"])) > 1,
            "tpass_per_round": [c["TPASS"] for c in counts["ltp"]], "results_per_round": counts["results"],
            "per_assertion_ms": round(per_assert * 1000, 3) if per_assert else None,
            "per_result_ms": round(per_result * 1000, 3),
            "ratio_run_to_empty_criterion": round(stats["b"]["median_s"] / stats["c"]["median_s"], 3),
            "ratio_per_result_to_per_assertion": round(per_result / per_assert, 3) if per_assert else None}


def render(doc):
    t, c = doc["times"], doc["ltp_counts"]
    span = {k: f"{v['median_s']:.3f} [{v['min_s']:.3f}-{v['max_s']:.3f}] s" for k, v in t.items()}
    return "\n".join([
        f"{doc['repeat']} paired rounds (a, b, c alternating), --jobs {doc['jobs']}; median [min-max]",
        f"(a) LTP, {doc['ltp_tests']} tests one after the other: {span['a']}; {c['TPASS']} TPASS "
        f"({c['TFAIL']} TFAIL, {c['TBROK']} TBROK, {c['TCONF']} TCONF); {doc['per_assertion_ms']} ms per assertion",
        f"(b) ./ipcproof run, every case: {span['b']}; {doc['results']} results; {doc['per_result_ms']} ms per result",
        f"(c) empty Criterion binary, {doc['results']} tests: {span['c']}",
        f"(b)/(c) = {doc['ratio_run_to_empty_criterion']}; (b) per result / (a) per assertion = "
        f"{doc['ratio_per_result_to_per_assertion']}",
        *(["counts differ between rounds: TPASS " + ", ".join(map(str, doc["tpass_per_round"]))
           + "; results " + ", ".join(map(str, doc["results_per_round"]))] if doc["counts_vary"] else [])])


def parser():
    p = argparse.ArgumentParser(prog="bench_ltp", description="ipcproof's run against LTP's, paired")
    # checked by run(): a missing --ltp is one line, not argparse's usage
    p.add_argument("--ltp", type=Path, help="an LTP installation (runtest/, testcases/bin/)")
    timing_options(p, 11, "paired rounds")
    return p


def run(args):
    if args.ltp is None:
        raise UserError("--ltp DIR is required: an LTP installation (runtest/, testcases/bin/) built outside ipcproof")
    entries = ltp_entries(args.ltp)
    check_timing_options(args)
    if not args.no_build:
        build.build()
    flags = criterion_flags(build.BUILD)
    with tempfile.TemporaryDirectory(prefix="ipcproof-bench-ltp-") as tmp:
        times, counts = rounds(args, entries, flags, tmp)
    doc = figures(times, counts, entries, args)
    print(render(doc))
    if args.json:
        fsutil.write_atomic(args.json, json.dumps(doc, indent=1) + "\n")
    return 0


def main(argv=None):
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)   # the same way out as Ctrl-C: temp dirs go
    try:
        return run(args)
    except UserError as e:
        print(f"bench_ltp: {validate.term(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench_ltp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
