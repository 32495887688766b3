"""results.ktap: the results as KTAP version 1 (the kernel's
Documentation/dev-tools/ktap.rst), the format kselftest and KUnit print and
lab tooling (LAVA, KernelCI, LKFT) already parses.

One top-level test per kernel, one subtest per area, one sub-subtest per
case that ran (a catalogued case of a binary that left no result is
already an error in results.json; a missed kernel is a `not ok # ERROR`
with the reason and no subtests). Statuses map to
what KTAP defines: skip is `ok # SKIP`, a declared divergence is
`ok # XFAIL`, an error `not ok # ERROR`, a timeout `not ok # TIMEOUT`.
KTAP has no XPASS directive: an xpass is a plain `ok` with a diagnostic
line saying the declared divergence did not happen. The claim, the
evidence and the message are diagnostic lines right before each result
line, as the spec recommends."""

RESULT = {"pass": ("ok", None), "fail": ("not ok", None), "error": ("not ok", "ERROR"),
          "timeout": ("not ok", "TIMEOUT"), "skip": ("ok", "SKIP"), "xfail": ("ok", "XFAIL"),
          "xpass": ("ok", None)}
INDENT = "  "


def escape(value):
    """One line: evidence values may hold newlines (the harness allows them)."""
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def description(name):
    """A KTAP description cannot hold '#': it would start the directive."""
    return str(name).replace("#", "_").replace("\n", " ").strip() or "unnamed"


def first_line(text):
    return (str(text or "").strip().splitlines() or [""])[0].strip()


class Writer:
    def __init__(self):
        self.lines = []

    def add(self, depth, text):
        self.lines.append(INDENT * depth + text)

    def diag(self, depth, text):
        for line in str(text).splitlines() or [""]:
            self.add(depth, f"# {line}".rstrip())

    def result(self, depth, number, ok, name, directive=None, data=""):
        tail = " # " + " ".join(x for x in (directive, data) if x) if directive or data else ""
        self.add(depth, f"{ok} {number} {description(name)}{tail}")


def case_lines(w, depth, number, name, r):
    if r.get("claim"):
        w.diag(depth, f"claim: {r['claim']}")
    for key, value in r.get("evidence", {}).items():
        w.diag(depth, f"evidence: {key}={escape(value)}")
    if r.get("divergence"):
        w.diag(depth, f"divergence: {r['divergence']}")
    if r["status"] == "xfail":
        w.diag(depth, f"observed: {r.get('observed_status', '?')}")
    if r["status"] == "xpass":
        w.diag(depth, "xpass: declared to diverge here, but behaved as the catalog says")
    message = str(r.get("message") or "").strip()
    ok, directive = RESULT.get(r["status"], ("not ok", "ERROR"))
    data = ""
    if directive == "XFAIL":
        data = first_line(r.get("divergence"))
    elif directive:
        data = first_line(message)
    for line in message.splitlines()[1 if directive in ("SKIP", "ERROR", "TIMEOUT") else 0:]:
        if line.strip():
            w.diag(depth, f"message: {line}")
    w.result(depth, number, ok, name, directive, data)
    return ok, directive


def summary(results):
    """A parent's result: not ok when any subtest is, skipped when all are."""
    if any(ok == "not ok" for ok, _ in results):
        return "not ok", None
    if results and all(d == "SKIP" for _, d in results):
        return "ok", "SKIP"
    return "ok", None


def render(doc):
    w = Writer()
    w.add(0, "KTAP version 1")
    w.add(0, f"1..{len(doc['kernels'])}")
    for kn, k in enumerate(doc["kernels"], 1):
        areas = {}
        for r in doc["results"]:
            if r["kernel"] == k["id"]:
                areas.setdefault(r["case"].partition("/")[0], []).append(r)
        if areas:
            w.add(1, "KTAP version 1")
            w.add(1, f"1..{len(areas)}")
        area_results = []
        for an, (area, results) in enumerate(areas.items(), 1):
            w.add(2, "KTAP version 1")
            w.add(2, f"1..{len(results)}")
            got = [case_lines(w, 2, cn, r["case"].partition("/")[2], r) for cn, r in enumerate(results, 1)]
            ok, directive = summary(got)
            w.result(1, an, ok, area, directive)
            area_results.append((ok, directive))
        w.diag(0, f"kernel: {k['id']} ({k.get('runner', '?')}) Linux {k.get('release', '?')} "
                  f"{k.get('machine', '?')} page_size={k.get('page_size', '?')}")
        if k.get("status") == "miss":
            reason = first_line(k.get("miss_reason")) or "no reason given"
            w.result(0, kn, "not ok", k["id"], "ERROR", f"kernel missed: {reason}")
        else:
            ok, directive = summary(area_results)
            w.result(0, kn, ok, k["id"], directive)
    return "\n".join(w.lines) + "\n"
