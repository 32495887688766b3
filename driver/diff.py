"""Behaviour changes between two results files: every case whose status or
(stable) evidence of behaviour differs on a kernel both ran, and kernels or
cases that only one of them has.  Changes in how a case observed the
kernel (view.OBSERVATION_KEYS) are told apart: they are not behaviour."""
from . import merge, results, view


def load_one(path):
    found = merge.find([path])
    if len(found) != 1:
        from .errors import UserError
        raise UserError(f"{path} holds {len(found)} results files; name one")
    return results.load(found[0])


def kernel_changes(old, new):
    """(only in old, only in new, [(kernel, field, old value, new value)])."""
    old_k = {k["id"]: k for k in old["kernels"]}
    new_k = {k["id"]: k for k in new["kernels"]}
    facts = [(kid, field, old_k[kid].get(field), new_k[kid].get(field))
             for kid in old_k if kid in new_k for field in ("release", "machine", "page_size")
             if old_k[kid].get(field) != new_k[kid].get(field)]
    return ([k for k in old_k if k not in new_k], [k for k in new_k if k not in old_k], facts)


def case_changes(old, new):
    """One record per (kernel, case) that changed, on kernels both ran:
    {kernel, case, claim, only: 'old'|'new'|None, status: (old, new)|None,
    behaviour: [(key, old, new)], observation: [(key, old, new)], message}."""
    both = {k["id"] for k in old["kernels"]} & {k["id"] for k in new["kernels"]}
    a = {(r["kernel"], r["case"]): r for r in old["results"] if r["kernel"] in both}
    b = {(r["kernel"], r["case"]): r for r in new["results"] if r["kernel"] in both}
    out = []
    for key in sorted(a.keys() | b.keys()):
        kid, case = key
        base = {"kernel": kid, "case": case, "claim": (b.get(key) or a.get(key))["claim"], "only": None,
                "status": None, "behaviour": [], "observation": [], "message": ""}
        if key not in b or key not in a:
            out.append(dict(base, only="old" if key not in b else "new"))
            continue
        s1, s2 = view.outcome(a[key])[0], view.outcome(b[key])[0]
        rec = dict(base, status=(s1, s2) if s1 != s2 else None,
                   message=(b[key].get("message") or "").splitlines()[0] if b[key].get("message") else "")
        for kind, pick in (("behaviour", view.behaviour_evidence), ("observation", view.observation_evidence)):
            e1, e2 = pick(a[key]), pick(b[key])
            rec[kind] = [(k, e1.get(k, "-"), e2.get(k, "-")) for k in sorted(e1.keys() | e2.keys())
                         if e1.get(k) != e2.get(k)]
        if rec["status"] or rec["behaviour"] or rec["observation"]:
            out.append(rec)
    return out


def is_behaviour(rec):
    return bool(rec["only"] or rec["status"] or rec["behaviour"])


def changes(old, new):
    """(behaviour changes, informational notes), as lines."""
    gone, added, facts = kernel_changes(old, new)
    out = [f"{kid}: kernel only in the old results" for kid in gone]
    out += [f"{kid}: kernel only in the new results" for kid in added]
    notes = [f"{kid}: {field} {v1} -> {v2}" for kid, field, v1, v2 in facts]
    for rec in case_changes(old, new):
        head = f"{rec['kernel']} {rec['case']}"
        if rec["only"]:
            out.append(f"{head}: only in the {rec['only']} results")
            continue
        if rec["status"]:
            out.append(f"{head}: status {rec['status'][0]} -> {rec['status'][1]}"
                       + (f" ({rec['message']})" if rec["message"] else ""))
        out += [f"{head}: evidence {k} {v1} -> {v2}" for k, v1, v2 in rec["behaviour"]]
        notes += [f"{head}: observed {k} {v1} -> {v2}" for k, v1, v2 in rec["observation"]]
    return out, notes
