"""Behaviour changes between two results files: every case whose status or
(stable) evidence differs on a kernel both ran, and kernels or cases that
only one of them has."""
from . import merge, results, view


def load_one(path):
    found = merge.find([path])
    if len(found) != 1:
        from .errors import UserError
        raise UserError(f"{path} holds {len(found)} results files; name one")
    return results.load(found[0])


def changes(old, new):
    """(behaviour changes, informational notes), as lines."""
    out, notes = [], []
    old_k = {k["id"]: k for k in old["kernels"]}
    new_k = {k["id"]: k for k in new["kernels"]}
    for kid in old_k.keys() - new_k.keys():
        out.append(f"{kid}: kernel only in the old results")
    for kid in new_k.keys() - old_k.keys():
        out.append(f"{kid}: kernel only in the new results")
    for kid in old_k.keys() & new_k.keys():
        for field in ("release", "machine", "page_size"):
            if old_k[kid].get(field) != new_k[kid].get(field):
                notes.append(f"{kid}: {field} {old_k[kid].get(field)} -> {new_k[kid].get(field)}")
    both = old_k.keys() & new_k.keys()
    a = {(r["kernel"], r["case"]): r for r in old["results"] if r["kernel"] in both}
    b = {(r["kernel"], r["case"]): r for r in new["results"] if r["kernel"] in both}
    for key in sorted(a.keys() | b.keys()):
        kid, case = key
        if key not in b:
            out.append(f"{kid} {case}: only in the old results")
            continue
        if key not in a:
            out.append(f"{kid} {case}: only in the new results")
            continue
        (s1, e1), (s2, e2) = view.outcome(a[key]), view.outcome(b[key])
        if s1 != s2:
            out.append(f"{kid} {case}: status {s1} -> {s2}" + (f" ({b[key]['message'].splitlines()[0]})" if b[key].get("message") else ""))
        for k in sorted(e1.keys() | e2.keys()):
            if e1.get(k) != e2.get(k):
                out.append(f"{kid} {case}: evidence {k} {e1.get(k, '-')} -> {e2.get(k, '-')}")
    return out, notes
