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
                 "reader_a_bytes", "reader_b_bytes", "reader_a_reads", "reader_b_reads", "parent_address", "child_address",
                 # pids: the case checks them against each other, their values vary by nature
                 "stranger.launcher_parent", "si_pid", "clone_pid", "clone_tgid"}


def stable_evidence(result):
    return {k: v for k, v in result.get("evidence", {}).items()
            if not k.startswith(VOLATILE_PREFIXES) and k not in VOLATILE_KEYS}


def outcome(result):
    """What a kernel did on a case, for comparing kernels: an expected
    divergence compares as what was observed."""
    observed = {"xfail": result.get("observed_status", "fail"), "xpass": "pass"}
    return observed.get(result["status"], result["status"]), stable_evidence(result)


# How a case saw what happened, not what the kernel did: the way a blocked
# process was detected and the kernel function it slept in differ between
# kernels that behave the same (UML and gVisor have no /proc/PID/syscall;
# wchan names change between kernel versions).
OBSERVATION_KEYS = {"detect", "wchan", "blocked_in", "wchan_checked"}


def is_observation(key):
    return key in OBSERVATION_KEYS


def behaviour_evidence(result):
    return {k: v for k, v in stable_evidence(result).items() if not is_observation(k)}


def observation_evidence(result):
    return {k: v for k, v in stable_evidence(result).items() if is_observation(k)}


def other_evidence(result):
    """Everything a case recorded that is not behaviour: how it observed
    the kernel, and what differs on every run; shown, never compared."""
    behaviour = behaviour_evidence(result)
    return {k: v for k, v in result.get("evidence", {}).items() if k not in behaviour}


def ran(case, kernels, index):
    """{kernel id: result} for the kernels that ran case."""
    return {k["id"]: index[(case, k["id"])] for k in kernels if (case, k["id"]) in index}


def differences(case, kernels, index, kind="behaviour"):
    """[(key, [(value, [kernel ids]), ...])] for every key on which the
    kernels that ran case differ, each key's groups largest first; "status"
    is a behaviour key.  A key a kernel did not record groups as "-"."""
    got = ran(case, kernels, index)
    if len(got) < 2:
        return []
    pick = behaviour_evidence if kind == "behaviour" else observation_evidence
    values = {kid: pick(r) for kid, r in got.items()}
    if kind == "behaviour":
        for kid, r in got.items():
            values[kid] = {"status": outcome(r)[0], **values[kid]}
    keys = list(dict.fromkeys(k for ev in values.values() for k in ev))
    out = []
    for key in keys:
        groups = {}
        for kid, ev in values.items():
            groups.setdefault(ev.get(key, "-"), []).append(kid)
        if len(groups) > 1:
            out.append((key, sorted(groups.items(), key=lambda g: -len(g[1]))))
    return out


def odd_kernels(diffs):
    """Kernels outside the largest group on some key: the cells to mark."""
    return {kid for _, groups in diffs for _, kids in groups[1:] for kid in kids}


def difference_text(diffs, limit=4, other="the other {n}", more="+{n} more"):
    """The differences as one line: 'status: gvisor fail; the other 6 pass'."""
    parts = []
    for key, groups in diffs[:limit]:
        (common, most), *few = groups
        shown = "; ".join(f"{', '.join(kids)} {value}" for value, kids in few)
        rest = other.format(n=len(most)) if len(most) > 2 else ", ".join(most)
        parts.append(f"{key}: {shown}; {rest} {common}")
    if len(diffs) > limit:
        parts.append(more.format(n=len(diffs) - limit))
    return " | ".join(parts)


def case_divergence(case, kernels, index):
    """How the kernels that ran a case differ in behaviour, as a line, or ''."""
    return difference_text(differences(case, kernels, index))


def divergent_cases(doc, kind="behaviour"):
    """[(claim, case, differences)] where the kernels disagree, in report order."""
    index, kernels = result_index(doc), doc["kernels"]
    return [(c, case, d) for c in ordered_claims(doc) for case in c["cases"]
            if (d := differences(case, kernels, index, kind))]


def profiles(doc):
    """{kernel id: [(case, [(key, its value, most kernels' value)])]}: where
    each kernel's behaviour is not what most kernels did."""
    out = {k["id"]: [] for k in doc["kernels"]}
    for _, case, diffs in divergent_cases(doc):
        for kid in out:
            keys = [(key, value, groups[0][0]) for key, groups in diffs
                    for value, kids in groups[1:] if kid in kids]
            if keys:
                out[kid].append((case, keys))
    return out


def profile_items(found):
    """One short phrase per case a kernel differs on: the first evidence it
    recorded differently, else its status."""
    items = []
    for case, keys in found:
        told = [(k, v) for k, v, _ in keys if k != "status" and v != "-"]
        key, value = told[0] if told else next((k, v) for k, v, _ in keys)
        items.append((case, key, value))
    return items


def area_counts(doc):
    """{kernel id: {area: {pass, fail, xfail, skip}}}; fail counts error and
    timeout too, pass counts xpass."""
    fold = {"xpass": "pass", "error": "fail", "timeout": "fail"}
    out = {k["id"]: {a: dict.fromkeys(("pass", "fail", "xfail", "skip"), 0) for a in catalog.AREAS}
           for k in doc["kernels"]}
    for r in doc["results"]:
        area = r["case"].split("/")[0]
        if r["kernel"] in out and area in out[r["kernel"]]:
            s = fold.get(r["status"], r["status"])
            out[r["kernel"]][area][s] += 1
    return out


def ordered_for_matrix(doc, claims):
    """Within an area: claims where kernels disagree first, then the notes'
    wrong sentences, then the rest."""
    index, kernels = result_index(doc), doc["kernels"]
    def diverges(c):
        return any(case_divergence(case, kernels, index) for case in c["cases"])
    return sorted(claims, key=lambda c: (not diverges(c), VERDICT_ORDER.get(c["note_verdict"], 3)))
