"""What every report format shows, in the order it shows it."""
from . import catalog

VERDICT_ORDER = {"refuted": 0, "refined": 1, "holds": 2}
STATUS_ORDER = ("error", "timeout", "fail", "xpass", "xfail", "skip", "pass")


def ordered_claims(doc):
    """Claims grouped by area (catalog order of areas), and within an area
    the notes' wrong sentences first, then imprecise ones, then the rest."""
    area_rank = {a: i for i, a in enumerate(catalog.AREAS)}
    return sorted(doc["claims"], key=lambda c: (area_rank.get(c["area"], 99),
                                                VERDICT_ORDER.get(c["note_verdict"], 3)))


def areas(doc):
    claims = ordered_claims(doc)
    return [(a, ordered_for_matrix(doc, [c for c in claims if c["area"] == a]))
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
    """Results where a kernel did not do what the catalog says, and was not
    declared to differ; then declarations that no longer hold."""
    return [r for r in doc["results"] if r["status"] not in ("pass", "skip", "xfail")]


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


# Evidence that differs from run to run on any kernel (process ids, temp
# paths, interleavings): never a divergence or a behaviour change.
VOLATILE_PREFIXES = ("harness.", "child.")
VOLATILE_KEYS = {"hung_child", "proc_fd_link", "late_fds", "path", "maps", "first_page", "writer_switches",
                 "reader_a_bytes", "reader_b_bytes", "reader_a_reads", "reader_b_reads", "parent_address", "child_address"}


def stable_evidence(result):
    return {k: v for k, v in result.get("evidence", {}).items()
            if not k.startswith(VOLATILE_PREFIXES) and k not in VOLATILE_KEYS}


def outcome(result):
    """What a kernel did on a case, for comparing kernels: an expected
    divergence compares as what was observed."""
    observed = {"xfail": result.get("observed_status", "fail"), "xpass": "pass"}
    return observed.get(result["status"], result["status"]), stable_evidence(result)


def case_divergence(case, kernels, index):
    """How the kernels that ran a case differ on it, as a sentence, or ''."""
    got = {k["id"]: index[(case, k["id"])] for k in kernels if (case, k["id"]) in index}
    if len(got) < 2:
        return ""
    statuses = {kid: outcome(r)[0] for kid, r in got.items()}
    if len(set(statuses.values())) > 1:
        return "status: " + ", ".join(f"{kid} {s}" for kid, s in statuses.items())
    evidence = {kid: outcome(r)[1] for kid, r in got.items()}
    keys = sorted({k for ev in evidence.values() for k in ev})
    differ = [k for k in keys if len({ev.get(k) for ev in evidence.values()}) > 1]
    if differ:
        return "evidence: " + "; ".join(
            f"{k} " + ", ".join(f"{kid}={ev.get(k, '-')}" for kid, ev in evidence.items()) for k in differ[:4])
    return ""


def divergent_cases(doc):
    """[(claim, case, sentence)] where the kernels disagree, in report order."""
    index, kernels = result_index(doc), doc["kernels"]
    return [(c, case, why) for c in ordered_claims(doc) for case in c["cases"]
            if (why := case_divergence(case, kernels, index))]


def ordered_for_matrix(doc, claims):
    """Within an area: claims where kernels disagree first, then the notes'
    wrong sentences, then the rest."""
    index, kernels = result_index(doc), doc["kernels"]
    def diverges(c):
        return any(case_divergence(case, kernels, index) for case in c["cases"])
    return sorted(claims, key=lambda c: (not diverges(c), VERDICT_ORDER.get(c["note_verdict"], 3)))
