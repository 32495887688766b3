"""Combining results.json files made on different machines (a CI matrix)
into one document; kernels with the same id from different places stay
distinct."""
from pathlib import Path

from . import results, validate
from .errors import UserError


def find(paths):
    """results.json files: given directly, or anywhere below a directory
    (CI artifacts arrive as directories)."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            hits = sorted(p.rglob("results.json"))
            if not hits:
                raise UserError(f"no results.json below {p}")
            found += hits
        elif p.exists():
            found.append(p)
        else:
            raise UserError(f"no such file or directory: {p}")
    return found


def label(path, kernel, taken):
    """A distinct id for a kernel whose id is taken: by its machine's
    hostname if that tells them apart, else by where its file came from."""
    for suffix in (kernel.get("hostname"), path.parent.name, str(path.parent)):
        # a directory's or host's name makes an id: no control character in it
        suffix = validate.term(suffix or "")[:100]
        if suffix and f"{kernel['id']}@{suffix}" not in taken:
            return f"{kernel['id']}@{suffix}"
    n = 2
    while f"{kernel['id']}#{n}" in taken:
        n += 1
    return f"{kernel['id']}#{n}"


def merge(paths):
    docs = [(p, results.load(p)) for p in find(paths)]
    claims, kernels, entries, runs, taken = {}, [], [], [], set()
    for path, doc in docs:
        for c in doc["claims"]:
            claims.setdefault(c["id"], c)
        renamed = {}
        for k in doc["kernels"]:
            new_id = k["id"] if k["id"] not in taken else label(path, k, taken)
            taken.add(new_id)
            renamed[k["id"]] = new_id
            kernels.append(dict(k, id=new_id, source=str(path)))
        entries += [dict(r, kernel=renamed.get(r["kernel"], r["kernel"])) for r in doc["results"]]
        runs += [dict(r, kernel=renamed.get(r.get("kernel"), r.get("kernel"))) for r in doc.get("runs", [])]
    return results.document(kernels, list(claims.values()), entries, runs)
