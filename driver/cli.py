"""The `ipcproof` command line."""
import argparse
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from types import SimpleNamespace

from . import bench, build, catalog, diff, divergences, merge, fsutil, guest, procs, prove, report_html, report_junit, report_kcidb, report_md, results, targets
from .errors import UserError

DEFAULT_OUT = catalog.ROOT / "reports" / "latest"


def area_binaries(bindir, areas, named):
    """The area binaries to run: every built one, or exactly those named."""
    found = []
    for area in areas:
        path = Path(bindir) / area
        if not path.is_file():
            if named:
                raise UserError(f"no case binary for area {area} in {bindir} (is the build complete?)")
            continue
        if not os.access(path, os.X_OK):
            raise UserError(f"{path} is not executable")
        found.append(path)
    if not found:
        raise UserError(f"no case binaries in {bindir} (is the build complete?)")
    return found


def write_reports(doc, out):
    rendered = {out / "results.json": results.dumps(doc), out / "report.md": report_md.render(doc),
                out / "report.html": report_html.render(doc), out / "junit.xml": report_junit.render(doc),
                out / "kcidb.json": report_kcidb.render(doc)}
    fsutil.write_all(rendered)


def why_missing(run):
    if run["hung"]:
        return f"the {run['binary']} binary was killed after {run['wall_s']:.0f} s"
    return f"the {run['binary']} binary exited {run['exit_code']} without reporting this case"


def run_target(target, ctx):
    """(kernel facts, entries-to-be, runs) for one target; a Miss becomes a
    kernel marked as missed, with no results."""
    print(f"ipcproof: {target.name}: starting", file=sys.stderr)
    try:
        raw, ran, kernel = target.run(ctx)
    except guest.Miss as miss:
        print(f"ipcproof: {target.name}: miss: {miss.reason}", file=sys.stderr)
        kernel = {"id": target.name, "runner": target.runner, "status": "miss",
                  "miss_reason": miss.reason, "log": str(miss.log or "")}
        return kernel, {}, []
    kernel.setdefault("status", "ran")
    print(f"ipcproof: {target.name}: done ({len(raw)} results)", file=sys.stderr)
    return kernel, raw, ran


def cmd_run(args):
    chosen = targets.resolve(args.kernels)
    areas = [a.strip() for a in args.areas.split(",")] if args.areas else list(catalog.AREAS)
    unknown = [a for a in areas if a not in catalog.AREAS]
    if unknown:
        raise UserError(f"unknown area {unknown[0]!r}; known: {', '.join(catalog.AREAS)}")
    out = fsutil.output_dir(args.out)
    claims = catalog.load()
    problems = catalog.problems(claims)
    if problems:
        raise UserError(f"the catalog is inconsistent: {problems[0]}")
    divs = divergences.load()
    bindir = build.bindir() if args.no_build else build.build()
    logdir = out / "logs"
    logdir.mkdir(exist_ok=True)
    ctx = SimpleNamespace(bindir=bindir, binaries=area_binaries(bindir, areas, bool(args.areas)),
                          jobs=args.jobs or os.cpu_count() or 1, logdir=logdir, filter=args.filter,
                          cache=build.CACHE)
    procs.become_subreaper()
    pool = ThreadPoolExecutor(max_workers=min(len(chosen), os.cpu_count() or 1))
    try:
        futures = [pool.submit(run_target, t, ctx) for t in chosen]
        # Waits in short slices: a signal may land on a worker thread, and
        # only the main thread, awake, turns it into KeyboardInterrupt.
        while wait(futures, timeout=0.2).not_done:
            pass
        done = [f.result() for f in futures]
    except KeyboardInterrupt:
        # The runs' processes are in sessions of their own: the terminal's
        # SIGINT reached only this one, so they are killed here, which also
        # frees the threads waiting on them.
        procs.sweep()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    kernels, entries, runs = [], [], []
    for kernel, raw, ran in done:
        kernels.append(kernel)
        if kernel["status"] == "miss":
            continue
        missing = {} if args.filter else {r["binary"]: why_missing(r) for r in ran}
        entries += divergences.apply(divs, kernel, results.entries(claims, raw, kernel["id"], missing))
        runs += [dict(r, kernel=kernel["id"]) for r in ran]
    doc = results.document(kernels, claims, entries, runs)
    write_reports(doc, out)
    counts = {}
    for r in entries:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    missed = results.missed(doc)
    print(f"ipcproof: {', '.join(f'{n} {s}' for s, n in sorted(counts.items())) or 'no results'}"
          f"{'; missed: ' + ', '.join(missed) if missed else ''}; report: {out / 'report.html'}",
          file=sys.stderr)
    return 0 if results.all_matched(doc) else 1


def cmd_report(args):
    doc = results.load(args.results)
    out = fsutil.output_dir(args.out)
    write_reports(doc, out)
    print(f"ipcproof: report: {out / 'report.html'}", file=sys.stderr)
    return 0


def cmd_merge(args):
    doc = merge.merge(args.inputs)
    out = fsutil.output_dir(args.out)
    write_reports(doc, out)
    print(f"ipcproof: merged {len(doc['kernels'])} kernels: {', '.join(k['id'] for k in doc['kernels'])}; "
          f"report: {out / 'report.html'}", file=sys.stderr)
    return 0 if results.all_matched(doc) else 1


def cmd_diff(args):
    found, notes = diff.changes(diff.load_one(args.old), diff.load_one(args.new))
    for line in notes:
        print(f"note: {line}")
    for line in found:
        print(line)
    print(f"{len(found)} behaviour change{'s' if len(found) != 1 else ''}", file=sys.stderr)
    return 1 if found else 0


def cmd_claims(args):
    if args.where:
        print("\n".join(f"{source}  {case}" for case, source in catalog.where(args.where)))
        return 0
    claims = catalog.load()
    for c in claims:
        if args.area and c["area"] != args.area:
            continue
        print(f"{c['id']:48} {c['note_verdict']:8} {', '.join(c['cases'])}")
    return 0


def cmd_kernels(args):
    for name, target in targets.known().items():
        ok, why = target.ready()
        print(f"{name:16} {'ready' if ok else 'not ready':10} {why}")
    for module in targets.kinds():
        if hasattr(module, "NAME_HELP"):
            ok, why = module.ready()
            print(f"{module.NAME_HELP:16} {'ready' if ok else 'not ready':10} {why}")
    return 0


def parser():
    p = argparse.ArgumentParser(prog="ipcproof", description="Linux IPC conformance: the notes' claims, checked.")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="build, run every case on the kernels, write the reports")
    run.add_argument("--kernels", default="host", help="comma-separated targets (default: host)")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: reports/latest)")
    run.add_argument("--areas", help="comma-separated areas (default: all)")
    run.add_argument("--filter", help="Criterion pattern, e.g. 'pipe/read*'")
    run.add_argument("--jobs", type=int, help="concurrent cases (default: the number of cores)")
    run.add_argument("--no-build", action="store_true", help="use the binaries already built")
    run.set_defaults(func=cmd_run)
    rep = sub.add_parser("report", help="write the reports again from a results.json")
    rep.add_argument("results", type=Path)
    rep.add_argument("--out", type=Path, required=True)
    rep.set_defaults(func=cmd_report)
    me = sub.add_parser("merge", help="combine results from several machines into one report")
    me.add_argument("inputs", nargs="+", help="results.json files or directories holding them")
    me.add_argument("--out", type=Path, required=True)
    me.set_defaults(func=cmd_merge)
    di = sub.add_parser("diff", help="list behaviour changes between two results; exit 1 if any")
    di.add_argument("old")
    di.add_argument("new")
    di.set_defaults(func=cmd_diff)
    be = sub.add_parser("bench", help="measure the IPC mechanisms; verdicts on the notes' speed rankings")
    bench.add_arguments(be)
    be.set_defaults(func=bench.cmd_bench)
    pv = sub.add_parser("prove", help="run the cases under each injected fault; report which faults they catch")
    pv.add_argument("--out", type=Path, default=prove.DEFAULT_OUT, help="output directory (default: reports/prove)")
    pv.add_argument("--faults", help="comma-separated fault names (default: all)")
    pv.set_defaults(func=prove.run)
    cl = sub.add_parser("claims", help="list the claims catalog")
    cl.add_argument("--area")
    cl.add_argument("--where", metavar="ID", help="where each case of claim ID is written (file:line)")
    cl.set_defaults(func=cmd_claims)
    ke = sub.add_parser("kernels", help="list the kernels and whether they can run here")
    ke.set_defaults(func=cmd_kernels)
    return p


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    args = parser().parse_args(argv)
    # Handled even where SIGINT came in ignored (a background job); SIGTERM,
    # a cancelled CI job, is the same as Ctrl-C.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    try:
        return args.func(args)
    except UserError as e:
        print(f"ipcproof: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        procs.sweep()
        print("ipcproof: interrupted; nothing left running", file=sys.stderr)
        return 130
