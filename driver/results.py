"""results.json: the contract later tools rely on; assembling and loading it."""
import datetime
import json

from . import catalog, relpaths, validate
from .errors import UserError

SCHEMA = "ipcproof/results/1"
STATUSES = validate.STATUSES
# xpass does not fail a run: the kernel behaves as the catalog says; the
# report lists it so the stale declaration can go.
MATCHED = ("pass", "skip", "xfail", "xpass")
KEPT = ("signal", "exit_code", "timed_out", "observed_status", "divergence", "source", "variant")


def entries(claims, raw, kernel_id, runs):
    """One result per catalog case, in catalog order, then any case the
    binaries ran that the catalog does not know.  A catalogued case of a
    binary that ran but left no result is an error (the binary crashed or
    hung, or the case is not built); runs: {area: why it may be missing}."""
    out, seen = [], set()
    for claim in claims:
        for case in claim["cases"]:
            seen.add(case)
            item = raw.get(case)
            if item is None:
                area = case.split("/")[0]
                if area not in runs:
                    continue
                item = {"status": "error", "message": f"no result: {runs[area]}"}
            out.append(entry(claim["id"], case, kernel_id, item))
    for case in sorted(set(raw) - seen):
        out.append(entry("", case, kernel_id, raw[case]))
    return out


def entry(claim_id, case, kernel_id, item):
    status = item.get("status") if item.get("status") in STATUSES else "error"
    e = {"claim": claim_id, "case": case, "kernel": kernel_id, "status": status,
         "duration_s": float(item.get("duration_s") or 0.0),
         "evidence": {str(k): str(v) for k, v in (item.get("evidence") or {}).items()},
         "message": item.get("message") or ""}
    e.update({k: item[k] for k in KEPT if k in item})
    return e


def document(kernels, claims, results, runs=()):
    return relpaths.document({"schema": SCHEMA,
            "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "kernels": kernels,
            "claims": [catalog.public(c) for c in claims],
            "results": results,
            "runs": list(runs)})


def all_matched(doc):
    return all(r["status"] in MATCHED for r in doc["results"]) and not missed(doc)


def missed(doc):
    return [k["id"] for k in doc["kernels"] if k.get("status") == "miss"]


def dumps(doc):
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def load(path):
    """A results.json, checked against the contract; UserError otherwise."""
    try:
        doc = validate.read_json(path)
    except validate.Bad as e:
        raise UserError(validate.term(e)) from None
    problem = invalid(doc)
    if problem:
        raise UserError(validate.term(f"{path} is not an ipcproof results file: {problem}"))
    return doc


def invalid(doc):
    """The first way doc breaks the contract, or None."""
    try:
        validate.results_doc(doc, SCHEMA)
    except validate.Bad as e:
        return str(e)
    return None
