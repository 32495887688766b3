"""The `ipcproof` command line: parsing, and one small function a command."""
import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import bench, build, catalog, diff, divergences, i18n, kernels, merge, fsutil, procs, prove, reports
from . import results, runner, schedule, session, validate
from .reports import diff as diff_page, kcidb
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


def chosen_areas(text):
    areas = [a.strip() for a in text.split(",")] if text else list(catalog.AREAS)
    unknown = [a for a in areas if a not in catalog.AREAS]
    if unknown:
        raise UserError(f"unknown area {unknown[0]!r}; known: {', '.join(catalog.AREAS)}")
    return areas


def checked_catalog():
    sources = catalog.case_sources()   # read once for both (3 ms a reading)
    claims = catalog.load(sources=sources)
    problems = catalog.problems(claims, sources=sources)
    if problems:
        raise UserError(f"the catalog is inconsistent: {problems[0]}")
    return claims


def why_missing(run):
    if run["hung"]:
        return f"the {run['binary']} binary was killed after {run['wall_s']:.0f} s"
    return f"the {run['binary']} binary exited {run['exit_code']} without reporting this case"


def private_tmp(work):
    """work() with TMPDIR a directory of its own, removed after: a compiler
    killed by a signal cannot clean its temp files, they go with it."""
    tmp = tempfile.mkdtemp(prefix="ipcproof-build-")
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = tmp
    try:
        return work()
    except BaseException:
        procs.sweep()   # nothing may still write there
        raise
    finally:
        if saved is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = saved
        shutil.rmtree(tmp, ignore_errors=True)


def assemble(outcomes, claims, divs, filtered):
    """results.json from every kernel's outcome of a case plan."""
    kernels_, entries, runs = [], [], []
    for o in outcomes:
        kernels_.append(o.kernel)
        if o.kernel["status"] == "miss":
            continue
        ran = [{"binary": r.get("step"), **{k: v for k, v in r.items() if k != "step"}} for r in o.runs]
        raw = {case: item for by_case in o.raw.values() for case, item in by_case.items()}
        missing = {} if filtered else {r["binary"]: why_missing(r) for r in ran}
        entries += divergences.apply(divs, o.kernel, results.entries(claims, raw, o.kernel["id"], missing))
        runs += [dict(r, kernel=o.kernel["id"]) for r in ran]
    return results.document(kernels_, claims, entries, runs)


def cmd_run(args):
    chosen = kernels.resolve(args.kernels)
    areas = chosen_areas(args.areas)
    out = fsutil.output_dir(args.out)
    claims, divs = checked_catalog(), divergences.load()
    bindir = build.bindir() if args.no_build else private_tmp(build.build)
    binaries = area_binaries(bindir, areas, bool(args.areas))
    if any(k.provision is not kernels.nothing_to_install for k in chosen):
        fsutil.cache_dir(build.CACHE)
    ctx = session.Context(bindir, fsutil.log_dir(out), build.CACHE, args.jobs or os.cpu_count() or 1)

    def steps(kernel, scale):
        jobs = min(ctx.jobs, kernel.params.get("cpus", ctx.jobs))
        return runner.case_steps(binaries, jobs, scale, args.filter, together=kernel.areas_together, claims=claims)
    # started slowest first, reported in the order asked for
    outcomes = session.run(schedule.slowest_first(chosen, ctx.cache), steps, ctx)
    schedule.remember(outcomes, ctx.cache, not args.filter and not args.areas)
    order = {k.name: i for i, k in enumerate(chosen)}
    outcomes.sort(key=lambda o: order.get(o.kernel["id"], len(order)))
    doc = assemble(outcomes, claims, divs, bool(args.filter))
    reports.write(doc, out, args.lang, args.kcidb_schema)
    counts = {}
    for r in doc["results"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    missed = results.missed(doc)
    print(f"ipcproof: {', '.join(f'{n} {s}' for s, n in sorted(counts.items())) or 'no results'}"
          f"{'; missed: ' + ', '.join(missed) if missed else ''}; report: {out / 'report.html'}",
          file=sys.stderr)
    return 0 if results.all_matched(doc) else 1


def cmd_report(args):
    doc = results.load(args.results)
    out = fsutil.output_dir(args.out)
    reports.write(doc, out, args.lang, args.kcidb_schema)
    print(f"ipcproof: report: {out / 'report.html'}", file=sys.stderr)
    return 0


def cmd_merge(args):
    doc = merge.merge(args.inputs)
    out = fsutil.output_dir(args.out)
    reports.write(doc, out, args.lang, args.kcidb_schema)
    print(f"ipcproof: merged {len(doc['kernels'])} kernels: {validate.term(', '.join(k['id'] for k in doc['kernels']))}; "
          f"report: {out / 'report.html'}", file=sys.stderr)
    return 0 if results.all_matched(doc) else 1


def cmd_diff(args):
    old, new = diff.load_one(args.old), diff.load_one(args.new)
    found, notes = diff.changes(old, new)
    if args.out:
        out = fsutil.output_dir(args.out)
        fsutil.write_all({out / "diff.html": diff_page.render(old, new, args.old, args.new, args.lang)})
    # ids and evidence come from the files: shown, never obeyed by the terminal
    for line in notes:
        print(f"note: {validate.term(line)}")
    for line in found:
        print(validate.term(line))
    print(f"{len(found)} behaviour change{'s' if len(found) != 1 else ''}", file=sys.stderr)
    return 1 if found else 0


def cmd_claims(args):
    if args.where:
        print("\n".join(f"{source}  {case}" for case, source in catalog.where(args.where)))
        return 0
    for c in catalog.load():
        if not args.area or c["area"] == args.area:
            # a claim beyond the notes has no verdict: its source stands there
            print(f"{c['id']:48} {c.get('note_verdict') or c.get('source', ''):8} {', '.join(c['cases'])}")
    return 0


def cmd_kernels(args):
    rows = [(name, *kernel.ready()) for name, kernel in kernels.known().items()]
    rows += [(m.NAME_HELP, *m.ready()) for m in kernels.kinds() if hasattr(m, "NAME_HELP")]
    width = max(len(name) for name, _, _ in rows)
    for name, ok, why in rows:
        print(f"{name:{width}} {'ready' if ok else 'not ready':10} {why}")
    return 0


def add_run(sub):
    run = sub.add_parser("run", help="build, run every case on the kernels, write the reports")
    run.add_argument("--kernels", default="host", help="comma-separated kernels (default: host)")
    run.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: reports/latest)")
    run.add_argument("--areas", help="comma-separated areas (default: all)")
    run.add_argument("--filter", help="Criterion pattern, e.g. 'pipe/read*'")
    run.add_argument("--jobs", type=int, help="concurrent cases (default: the number of cores)")
    run.add_argument("--no-build", action="store_true", help="use the binaries already built")
    add_report_options(run)
    run.set_defaults(func=cmd_run)


def add_lang(p):
    p.add_argument("--lang", choices=i18n.LANGS, default="en", help="language of the report pages (default: en)")


def add_report_options(p):
    add_lang(p)
    p.add_argument("--kcidb-schema", choices=kcidb.SCHEMAS, default="v5",
                   help="KCIDB schema of kcidb.json (default: v5, i.e. 5.3; v4 is 4.3)")


def add_results_commands(sub):
    rep = sub.add_parser("report", help="write the reports again from a results.json")
    rep.add_argument("results", type=Path)
    rep.add_argument("--out", type=Path, required=True)
    add_report_options(rep)
    rep.set_defaults(func=cmd_report)
    me = sub.add_parser("merge", help="combine results from several machines into one report")
    me.add_argument("inputs", nargs="+", help="results.json files or directories holding them")
    me.add_argument("--out", type=Path, required=True)
    add_report_options(me)
    me.set_defaults(func=cmd_merge)
    di = sub.add_parser("diff", help="list behaviour changes between two results; exit 1 if any")
    di.add_argument("old")
    di.add_argument("new")
    di.add_argument("--out", type=Path, help="also write diff.html, the changes as a page, there")
    add_lang(di)
    di.set_defaults(func=cmd_diff)


def add_other_commands(sub):
    be = sub.add_parser("bench", help="measure the IPC mechanisms; verdicts on the notes' speed rankings")
    bench.add_arguments(be)
    be.set_defaults(func=bench.cmd_bench)
    pv = sub.add_parser("prove", help="run the cases under each injected fault; report which faults they catch")
    prove.add_arguments(pv)
    pv.set_defaults(func=prove.run)
    cl = sub.add_parser("claims", help="list the claims catalog")
    cl.add_argument("--area")
    cl.add_argument("--where", metavar="ID", help="where each case of claim ID is written (file:line)")
    cl.set_defaults(func=cmd_claims)
    ke = sub.add_parser("kernels", help="list the kernels and whether they can run here")
    ke.set_defaults(func=cmd_kernels)


def parser():
    p = argparse.ArgumentParser(prog="ipcproof", description="Linux IPC conformance: the notes' claims, checked.")
    sub = p.add_subparsers(dest="command", required=True)
    add_run(sub)
    add_results_commands(sub)
    add_other_commands(sub)
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    return session.guarded("ipcproof", lambda: args.func(args))
