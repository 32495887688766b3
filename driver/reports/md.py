"""report.md: the conformance report as Markdown (job summaries, reviews)."""
from .. import catalog, i18n, relpaths, view
from . import numbers


# The characters that would break a line or a cell: C0 controls, DEL, the
# line and paragraph separators (str.translate: a report has thousands of
# cells, a generator over each character cost 10 ms of every run).
BREAKERS = [*range(0x20), 0x7F, 0x2028, 0x2029]
REPLACED = str.maketrans(dict.fromkeys(BREAKERS, "\ufffd"))
BLANKED = str.maketrans(dict.fromkeys(BREAKERS, " "))


def esc(text):
    """Markdown-inert text for a table cell or a line: no HTML, no markup,
    no line breaks that end the cell."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#":
        text = text.replace(ch, "\\" + ch)
    text = text.replace("\r", "").replace("\n", "<br>")
    return text.translate(REPLACED)


def code(text):
    """A code span: markup is inert inside it, but a backtick would end it
    and a bar would end a table cell."""
    text = str(text).replace("`", "'").replace("|", "\\|")
    # any line break (CR, LS, PS too) would end the span for some renderer
    return "`" + text.translate(BLANKED) + "`"


def case_table(c, kernels, index, words):
    """A claim's cases, a row each, a column per kernel."""
    out = ["", "| case | " + " | ".join(esc(k["id"]) for k in kernels) + " |",
           "| --- |" + " --- |" * len(kernels)]
    for case in c["cases"]:
        cells = []
        for k in kernels:
            r = index.get((case, k["id"]))
            if r is None:
                cells.append("miss")
                continue
            cell = f"**{esc(words.status(r['status']))}**"
            if r.get("evidence"):
                cell += f" · {esc(view.evidence_text(r))}"
            if r.get("divergence"):
                cell += f" · {esc(words['declared'])}: {esc(r['divergence'])}"
            if r["status"] not in ("pass", "skip") and r.get("message"):
                cell += f" · {esc(r['message'])}"
            cells.append(cell)
        out.append(f"| {code(case)} | " + " | ".join(cells) + " |")
    out.append("")
    return out


def beyond_section(doc, kernels, index, words):
    """The claims from the man pages, apart from the notes' own."""
    claims = [c for _, area in view.areas(doc) for c in area if catalog.is_beyond(c)]
    if not claims:
        return []
    out = ["", f"## {words['beyond']}", "", esc(words("beyond_intro", n=len(claims))), ""]
    for c in claims:
        out += [f"### {code(c['id'])}", "",
                f"**{esc(words['statement'])}:** {esc(c['statement'])}  ",
                f"**{esc(words['linux'])}:** {esc(c['truth'])}  ",
                f"**{esc(words['source'])}:** {esc(c['source'])} · **{esc(words['refs'])}:** {esc(', '.join(c.get('refs', [])))}"]
        out += case_table(c, kernels, index, words)
    return out


def head(doc, kernels, words, lang):
    """The title, the counts, the verdicts and one row of facts per kernel."""
    counts, verdicts = view.counts(doc), view.verdict_counts(doc)
    w = lambda key: esc(numbers.word(lang, key))  # noqa: E731
    out = [f"# {words['title']}", "",
           esc(words("generated", when=doc.get("generated", "?"))) + f" {words['kernels']}: "
           + "; ".join(esc(view.kernel_label(k)) for k in kernels) + ".", "",
           f"**{esc(words('claims_n', n=len(doc['claims'])))}, {esc(words('results_n', n=len(doc['results'])))}:** "
           + ", ".join(f"{n} {esc(words.status(s))}" for s, n in counts.items() if n) + ".  ",
           esc(words("verdict_line", **verdicts)),
           "", f"| {esc(words['kernel'])} | {w('release')} | {w('machine')} | {w('facts')} |", "| --- | --- | --- | --- |"]
    out += [f"| {esc(k['id'])} | {esc(k.get('release', ''))} | {esc(k.get('machine', ''))} "
            f"| {esc(numbers.kernel_facts(k, lang))} |" for k in kernels]
    out.append("")
    out += [esc(words("missed", kernel=k["id"], reason=k.get("miss_reason", ""), log=k.get("log", ""))) + "  "
            for k in kernels if k.get("status") == "miss"]
    return out


def summary(doc, kernels, words):
    """Per kernel its divergence profile; then where the kernels disagree,
    behaviour first, observation apart."""
    out = ["", f"## {words['summary']}", "", f"| {words['kernel']} | {words['profile']} |", "| --- | --- |"]
    profiles = view.profiles(doc)
    for k in kernels:
        items = [f"{key}={value}" for _, key, value in view.profile_items(profiles[k["id"]])]
        told = (words("profile_line_1" if len(items) == 1 else "profile_line", n=len(items),
                      items=", ".join(dict.fromkeys(items))) if items else words["profile_none"])
        out.append(f"| {esc(k['id'])} | {esc(told)} |")
    fmt = {"other": words["the_other"], "more": words["more"]}
    for kind, title in (("behaviour", words["disagree"]),
                        ("observation", words("observed", n=len(view.divergent_cases(doc, "observation"))))):
        divergent = view.divergent_cases(doc, kind)
        out += ["", f"## {title}", ""]
        if divergent:
            out += [f"| {words['claim']} | {words['case']} | {words['how']} |", "| --- | --- | --- |"]
            out += [f"| {code(c['id'])} | {code(case)} | {esc(view.difference_text(d, **fmt))} |"
                    for c, case, d in divergent]
        elif kind == "behaviour":
            out.append(esc(words["agree"]))
    return out


def wrong_notes(doc, index, words, lang):
    """The notes' refined and refuted sentences, the numbers of the notes
    that are literally false on some kernel, and the kernels that did not
    behave as the catalog says."""
    w = lambda key: esc(numbers.word(lang, key))  # noqa: E731
    out = ["", f"## {words['wrong']}", "",
           f"| {words['claim']} | {words['note_says']} | {words['verdict']} | {words['how_off']} |", "| --- | --- | --- | --- |"]
    out += [f"| {code(c['id'])} | {esc(c['note'])} | **{esc(words.verdict(c['note_verdict']))}** | {esc(c.get('why', ''))} |"
            for _, claims in view.areas(doc) for c in claims
            if c["note_verdict"] != "holds" and not catalog.is_beyond(c)]
    false = numbers.literally_false(doc, index)
    if false:
        out += ["", f"| {esc(words['claim'])} | {w('number')} | {w('false_on')} |", "| --- | --- | --- |"]
        out += [f"| {code(c['id'])} | {n} ({w(what)}) | "
                + esc("; ".join(f"{kid}: {v}" for kid, v in off)) + " |" for c, n, what, off in false]
    bad = view.unexpected(doc)
    if bad:
        out += ["", f"## {words['unexpected']}", ""]
        for r in bad:
            out.append(f"- **{esc(words.status(r['status']))}** {code(r['case'])} {esc(words['on'])} {esc(r['kernel'])}: "
                       f"{esc(r['message'])}")
            if r.get("evidence"):
                out.append(f"  - evidence: {esc(view.evidence_text(r))}")
    return out


def area_sections(doc, kernels, index, words):
    out = []
    for area, claims in view.areas(doc):
        claims = [c for c in claims if not catalog.is_beyond(c)]
        if not claims:
            continue
        out += ["", f"## {esc(area)}", ""]
        for c in claims:
            out += [f"### {code(c['id'])} — {esc(words.verdict(c['note_verdict']))}", "",
                    f"> {esc(c['note'])}", "",
                    f"**{esc(words['statement'])}:** {esc(c['statement'])}  ",
                    f"**{esc(words['linux'])}:** {esc(c['truth'])}  "]
            if c.get("why"):
                out.append(f"**{esc(words['note_off'])}:** {esc(c['why'])}  ")
            out.append(f"**{esc(words['refs'])}:** {esc(', '.join(c.get('refs', [])))}")
            out += case_table(c, kernels, index, words)
    return out


def render(doc, lang="en", neutral=False):
    """neutral: doc is relpaths.document's already (reports.write's)."""
    words = i18n.Words(lang)
    doc = i18n.localised(doc if neutral else relpaths.document(doc), lang)
    kernels = doc["kernels"]
    index = view.result_index(doc)
    out = head(doc, kernels, words, lang)
    if len(kernels) > 1:
        out += summary(doc, kernels, words)
    out += wrong_notes(doc, index, words, lang)
    out += area_sections(doc, kernels, index, words)
    out += beyond_section(doc, kernels, index, words)
    orphans = view.orphans(doc)
    if orphans:
        out += ["", f"## {words['orphans']}", ""]
        out += [f"- {code(r['case'])} {esc(words['on'])} {esc(r['kernel'])}: {esc(words.status(r['status']))}" for r in orphans]
    return "\n".join(out) + "\n"
