"""report.md: the conformance report as Markdown (job summaries, reviews)."""
from . import view


def esc(text):
    """Markdown-inert text for a table cell or a line: no HTML, no markup,
    no line breaks that end the cell."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\`*_[]|#":
        text = text.replace(ch, "\\" + ch)
    text = text.replace("\r", "").replace("\n", "<br>")
    return "".join(ch if ch >= " " else "\ufffd" for ch in text)


def code(text):
    """A code span: markup is inert inside it, but a backtick would end it
    and a bar would end a table cell."""
    return "`" + str(text).replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def render(doc):
    kernels = doc["kernels"]
    index = view.result_index(doc)
    counts, verdicts = view.counts(doc), view.verdict_counts(doc)
    out = ["# ipcproof conformance report", ""]
    out.append(f"Generated {esc(doc.get('generated', '?'))}. Kernels: "
               + "; ".join(esc(view.kernel_label(k)) for k in kernels) + ".")
    out.append("")
    out.append(f"**{len(doc['claims'])} claims, {len(doc['results'])} results:** "
               + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + ".  ")
    out.append(f"**The notes:** {verdicts['refuted']} claims refuted, {verdicts['refined']} refined, "
               f"{verdicts['holds']} hold.")
    for k in kernels:
        if k.get("status") == "miss":
            out.append(f"**Missed kernel {esc(k['id'])}:** {esc(k.get('miss_reason', ''))} "
                       f"(log: {esc(k.get('log', ''))})  ")
    divergent = view.divergent_cases(doc)
    if len(kernels) > 1:
        out += ["", "## Where the kernels disagree", ""]
        if divergent:
            out += ["| claim | case | how |", "| --- | --- | --- |"]
            out += [f"| {code(c['id'])} | {code(case)} | {esc(why)} |" for c, case, why in divergent]
        else:
            out.append("Every kernel that ran a case did the same on it.")
    out += ["", "## Where the notes are wrong or imprecise", "",
            "| claim | the note says | verdict | how it is off |", "| --- | --- | --- | --- |"]
    for area, claims in view.areas(doc):
        for c in claims:
            if c["note_verdict"] != "holds":
                out.append(f"| {code(c['id'])} | {esc(c['note'])} | **{esc(c['note_verdict'])}** "
                           f"| {esc(c.get('why', ''))} |")
    bad = view.unexpected(doc)
    if bad:
        out += ["", "## Kernels that did not behave as the catalog says", ""]
        for r in bad:
            out.append(f"- **{esc(r['status'])}** {code(r['case'])} on {esc(r['kernel'])}: "
                       f"{esc(r['message'])}")
            if r.get("evidence"):
                out.append(f"  - evidence: {esc(view.evidence_text(r))}")
    for area, claims in view.areas(doc):
        out += ["", f"## {esc(area)}", ""]
        for c in claims:
            out += [f"### {code(c['id'])} — note {esc(c['note_verdict'])}", "",
                    f"> {esc(c['note'])}", "",
                    f"**Claim:** {esc(c['statement'])}  ",
                    f"**Linux:** {esc(c['truth'])}  "]
            if c.get("why"):
                out.append(f"**How the note is off:** {esc(c['why'])}  ")
            out.append(f"**References:** {esc(', '.join(c.get('refs', [])))}")
            out += ["", "| case | " + " | ".join(esc(k["id"]) for k in kernels) + " |",
                    "| --- |" + " --- |" * len(kernels)]
            for case in c["cases"]:
                cells = []
                for k in kernels:
                    r = index.get((case, k["id"]))
                    if r is None:
                        cells.append("miss")
                        continue
                    cell = f"**{esc(r['status'])}**"
                    if r.get("evidence"):
                        cell += f" · {esc(view.evidence_text(r))}"
                    if r.get("divergence"):
                        cell += f" · declared divergence: {esc(r['divergence'])}"
                    if r["status"] not in ("pass", "skip") and r.get("message"):
                        cell += f" · {esc(r['message'])}"
                    cells.append(cell)
                out.append(f"| {code(case)} | " + " | ".join(cells) + " |")
            out.append("")
    orphans = view.orphans(doc)
    if orphans:
        out += ["", "## Cases with no claim in the catalog", ""]
        out += [f"- {code(r['case'])} on {esc(r['kernel'])}: {esc(r['status'])}" for r in orphans]
    return "\n".join(out) + "\n"
