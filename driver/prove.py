"""`./ipcproof prove`: do the cases catch a kernel that misbehaves?

The fault injector (harness/inject/inject.c, built as libipcproof-inject.so
beside the case binaries) makes one behaviour wrong at a time: a "mutant
kernel".  The cases run once clean, then once under each fault.  A fault is
caught when a case of a claim it declares went red and every case of every
other claim kept its clean status: a fault that turns unrelated cases red,
or kills a whole binary, shows a harness that cannot tell what broke, so
it is not a catch.  The report also lists the claims no fault covers."""
import argparse
import ctypes
import datetime
import json
import os
import sys
import time
from pathlib import Path

from . import build, catalog, fsutil, kernels, results, runner, session
from .errors import UserError

DEFAULT_OUT = catalog.ROOT / "reports" / "prove"
LIBRARY = "libipcproof-inject.so"
SCHEMA = "ipcproof/prove/1"


def declared_faults(library):
    """[{name, claims, what}] as the injector declares them.  Loaded with
    no IPCPROOF_FAULT in this process's scope, the library is inert here."""
    try:
        lib = ctypes.CDLL(str(library))
    except OSError as e:
        raise UserError(f"cannot load the fault injector {library}: {e}") from None
    lib.ipcproof_inject_faults.restype = ctypes.c_char_p
    out = []
    for line in lib.ipcproof_inject_faults().decode().splitlines():
        name, claims, what = line.split("\t")
        out.append({"name": name, "claims": claims.split(","), "what": what})
    return out


def add_arguments(p):
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: reports/prove)")
    p.add_argument("--faults", help="comma-separated fault names (default: all)")
    p.add_argument("--kernel", default="host", help="the kernel the mutants run on (default: host)")
    p.add_argument("--areas", help="comma-separated areas (default: all)")


def choose(faults, wanted):
    if not wanted:
        return faults
    names = [w.strip() for w in wanted.split(",") if w.strip()]
    known = {f["name"]: f for f in faults}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UserError(f"unknown fault {unknown[0]!r}; known: {', '.join(known)}")
    if not names:
        raise UserError("--faults names no fault")
    return [known[n] for n in names]


def run_all(where, binaries, claims, env, jobs):
    """{case: status} over every area binary on where (kernel, ctx), plus the
    binaries that died or hung as a whole (a catalogued case with no
    result)."""
    kernel, ctx = where
    [outcome] = session.run([kernel], lambda k, scale: [runner.case_step(b, jobs, scale, env=env) for b in binaries],
                            ctx)
    if outcome.kernel["status"] == "miss":
        raise UserError(f"prove: {kernel.name} gave no results: {outcome.kernel['miss_reason']}")
    raw, broken = {}, []
    claimed = catalog.claim_of_case(claims)
    for r in outcome.runs:
        got = outcome.raw.get(r["step"], {})
        raw.update(got)
        lost = [c for c in claimed if c.startswith(f"{r['step']}/") and c not in got]
        if r["hung"] or lost:
            broken.append({"binary": r["step"], "hung": r["hung"], "exit_code": r["exit_code"],
                           "cases_without_result": len(lost)})
    areas = {Path(b).name: "no result" for b in binaries}
    entries = results.entries(claims, raw, kernel.name, areas)
    return {e["case"]: e for e in entries}, broken


def judge(fault, clean, faulted, broken, claim_of):
    """The verdict on one fault: which cases changed, and whether that is a
    catch."""
    targets = set(fault["claims"])
    changed = []
    for case, e in faulted.items():
        before = clean.get(case, {}).get("status", "absent")
        if e["status"] != before:
            changed.append({"case": case, "claim": claim_of.get(case, ""), "was": before,
                            "status": e["status"], "message": e.get("message", "")[:300]})
    red = [c for c in changed if c["claim"] in targets and c["status"] not in results.MATCHED]
    # A case with no claim yet (the project's tests reject that state) is
    # reported, but judges no fault: it belongs to no claim to be unrelated to.
    unrelated = [c for c in changed if c["claim"] and c["claim"] not in targets]
    unclaimed = [c for c in changed if not c["claim"]]
    why = ""
    if broken:
        why = "a case binary crashed or hung as a whole: " + ", ".join(
            f"{b['binary']} ({'hung' if b['hung'] else 'exit ' + str(b['exit_code'])}, "
            f"{b['cases_without_result']} cases without result)" for b in broken)
    elif not red:
        why = "no case of " + ", ".join(sorted(targets)) + " went red"
    elif unrelated:
        why = "cases of other claims changed too: " + ", ".join(
            f"{c['case']} ({c['claim'] or 'no claim'}: {c['was']} -> {c['status']})" for c in unrelated)
    return {"name": fault["name"], "claims": fault["claims"], "what": fault["what"],
            "caught": not why, "why": why, "red": red, "unrelated": unrelated, "unclaimed": unclaimed,
            "broken_binaries": broken}


def prove(where, binaries, library, claims, faults, jobs, progress=None, declared=None):
    """Runs the cases clean and under each fault on where (kernel, ctx);
    declared (every fault the injector has, default: faults) decides which
    claims no fault covers."""
    start = time.monotonic()
    clean, broken = run_all(where, binaries, claims, None, jobs)
    if broken:
        raise UserError("the clean run is broken (" + ", ".join(b["binary"] for b in broken)
                        + "): fix it before proving the cases against faults")
    verdicts = []
    for fault in faults:
        verdicts.append(try_fault(where, binaries, library, claims, fault, clean, jobs))
        if progress:
            progress(verdicts[-1])
    return summary(where[0].name, library, claims, faults, declared, clean, verdicts, time.monotonic() - start)


def try_fault(where, binaries, library, claims, fault, clean, jobs):
    """The verdict on one fault, with the injector as the kernel sees the
    bin directory."""
    claim_of = catalog.claim_of_case(claims)
    t = time.monotonic()
    env = {"LD_PRELOAD": "{bin}/" + Path(library).name, "IPCPROOF_FAULT": fault["name"]}
    faulted, broken = run_all(where, binaries, claims, env, jobs)
    v = judge(fault, clean, faulted, broken, claim_of)
    if v["red"] and v["unrelated"] and not broken:
        # Once more: an unrelated case that changed by chance (a busy
        # machine) is no evidence against the fault; only a change both
        # runs show is.
        again, broken = run_all(where, binaries, claims, env, jobs)
        seen = {c["case"] for c in judge(fault, clean, again, broken, claim_of)["unrelated"]}
        faulted.update({c: clean[c] for c in faulted if c not in seen and c in clean
                        and claim_of.get(c) not in fault["claims"]})
        v = judge(fault, clean, faulted, broken, claim_of)
        v["runs"] = 2
    v["wall_s"] = round(time.monotonic() - t, 2)
    return v


def summary(kernel, library, claims, faults, declared, clean, verdicts, seconds):
    covered = {c for f in (declared or faults) for c in f["claims"]}
    tried = {c for f in faults for c in f["claims"]}
    caught_claims = {c for v in verdicts if v["caught"] for c in v["claims"]}
    caught = sum(v["caught"] for v in verdicts)
    return {"schema": SCHEMA,
            "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "kernel": kernel, "library": str(library), "run_time_s": round(seconds, 1),
            "catch_rate": {"caught": caught, "faults": len(verdicts),
                           "rate": round(caught / len(verdicts), 3) if verdicts else 0.0},
            "clean": {case: e["status"] for case, e in clean.items()},
            "faults": verdicts,
            "claims_without_fault": [c["id"] for c in claims if c["id"] not in covered],
            "claims_without_caught_fault": [c["id"] for c in claims
                                            if c["id"] in tried and c["id"] not in caught_claims]}


def md_cell(text):
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def render_md(doc):
    rate = doc["catch_rate"]
    lines = ["# ipcproof prove: the cases against mutant kernels", "",
             f"{rate['caught']} of {rate['faults']} faults caught "
             f"({rate['rate'] * 100:.0f}%), in {doc['run_time_s']} s.", "",
             "A fault is caught when a case of its own claim went red and no case of "
             "another claim changed status.", "",
             "| fault | claim | caught | red cases | what the fault does |",
             "| --- | --- | --- | --- | --- |"]
    for v in doc["faults"]:
        red = "<br>".join(f"`{c['case']}` ({c['status']})" for c in v["red"]) or "none"
        lines.append(f"| `{v['name']}` | {', '.join(v['claims'])} | {'yes' if v['caught'] else '**no**'} "
                     f"| {md_cell(red)} | {md_cell(v['what'])} |")
    missed = [v for v in doc["faults"] if not v["caught"]]
    lines += ["", "## Faults not caught", ""]
    lines += [f"- `{v['name']}`: {md_cell(v['why'])}" for v in missed] or ["None."]
    lines += ["", "## Claims no fault covers", ""]
    lines += [f"- {c}" for c in doc["claims_without_fault"]] or ["None."]
    if doc["claims_without_caught_fault"]:
        lines += ["", "## Claims whose faults all went uncaught", ""]
        lines += [f"- {c}" for c in doc["claims_without_caught_fault"]]
    return "\n".join(lines) + "\n"


def parser():
    p = argparse.ArgumentParser(prog="ipcproof prove",
                                description="run the cases under each injected fault")
    add_arguments(p)
    return p


def main(argv=None):
    """The `prove` command; argv without the command word."""
    args = parser().parse_args(argv)
    try:
        return run(args)
    except UserError as e:
        print(f"ipcproof: {e}", file=sys.stderr)
        return 2


def run(args):
    """The `prove` command on parsed arguments (cli.py's func)."""
    out = fsutil.output_dir(args.out)
    claims = catalog.load()
    problems = catalog.problems(claims)
    if problems:
        raise UserError(f"the catalog is inconsistent: {problems[0]}")
    bindir = build.build(build.dynamic_build(), static=False)
    library = Path(bindir) / LIBRARY
    if not library.is_file():
        raise UserError(f"no fault injector at {library} (is the build complete?)")
    declared = declared_faults(library)
    faults = choose(declared, args.faults)
    known = {c["id"] for c in claims}
    for f in faults:
        bad = [c for c in f["claims"] if c not in known]
        if bad:
            raise UserError(f"fault {f['name']} targets {bad[0]}, which is not in the catalog")
    areas = [a.strip() for a in args.areas.split(",")] if args.areas else catalog.AREAS
    binaries = [Path(bindir) / a for a in areas if (Path(bindir) / a).is_file()]
    if not binaries:
        raise UserError(f"no case binaries in {bindir} (is the build complete?)")

    def progress(v):
        print(f"ipcproof: prove: {v['name']}: {'caught' if v['caught'] else 'NOT caught'}"
              f" ({v['wall_s']} s)", file=sys.stderr)

    [kernel] = kernels.resolve(args.kernel)
    ctx = session.Context(bindir, fsutil.log_dir(out), build.CACHE, os.cpu_count() or 1)
    doc = prove((kernel, ctx), binaries, library, claims, faults, ctx.jobs, progress, declared)
    fsutil.write_all({out / "prove.json": json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
                      out / "prove.md": render_md(doc)})
    rate = doc["catch_rate"]
    print(f"ipcproof: prove: {rate['caught']} of {rate['faults']} faults caught; "
          f"report: {out / 'prove.md'}", file=sys.stderr)
    return 0 if rate["caught"] == rate["faults"] else 1
