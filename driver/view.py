"""What every report format shows, in the order it shows it."""
from . import catalog

VERDICT_ORDER = {"refuted": 0, "refined": 1, "holds": 2}
STATUS_ORDER = ("error", "timeout", "fail", "skip", "pass")


def ordered_claims(doc):
    """Claims grouped by area (catalog order of areas), and within an area
    the notes' wrong sentences first, then imprecise ones, then the rest."""
    area_rank = {a: i for i, a in enumerate(catalog.AREAS)}
    return sorted(doc["claims"], key=lambda c: (area_rank.get(c["area"], 99),
                                                VERDICT_ORDER.get(c["note_verdict"], 3)))


def areas(doc):
    claims = ordered_claims(doc)
    return [(a, [c for c in claims if c["area"] == a])
            for a in dict.fromkeys(c["area"] for c in claims)]


def result_index(doc):
    """{(case, kernel): result}."""
    return {(r["case"], r["kernel"]): r for r in doc["results"]}


def worst(statuses):
    statuses = list(statuses)
    for s in STATUS_ORDER:
        if s in statuses:
            return s
    return "miss"


def claim_status(claim, kernel_id, index):
    """A claim on one kernel: its worst case, or `miss` if none ran."""
    got = [index[(case, kernel_id)]["status"] for case in claim["cases"] if (case, kernel_id) in index]
    return worst(got) if got else "miss"


def counts(doc):
    out = {s: 0 for s in STATUS_ORDER}
    for r in doc["results"]:
        out[r["status"]] = out.get(r["status"], 0) + 1
    return out


def verdict_counts(doc):
    out = {v: 0 for v in VERDICT_ORDER}
    for c in doc["claims"]:
        out[c["note_verdict"]] = out.get(c["note_verdict"], 0) + 1
    return out


def unexpected(doc):
    """Results where a kernel did not do what the catalog says."""
    return [r for r in doc["results"] if r["status"] not in ("pass", "skip")]


def orphans(doc):
    """Results of cases the catalog does not know."""
    return [r for r in doc["results"] if not r["claim"]]


def kernel_label(k):
    parts = [k["id"]]
    if k.get("release"):
        parts.append(f"Linux {k['release']}")
    if k.get("machine"):
        parts.append(k["machine"])
    return " · ".join(parts)


def evidence_text(result):
    return ", ".join(f"{k}={v}" for k, v in result.get("evidence", {}).items())
