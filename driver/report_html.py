"""report.html: one self-contained page (no scripts, no external assets)."""
from html import escape

from . import view

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:80em;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f4f4f4}
.pass,.xpass{background:#e6f4ea}.xfail{background:#e8eaf6}
tr.diverges>td:first-child{border-left:6px solid #d93025}
.div{color:#d93025;font-weight:bold}.skip{background:#f1f3f4}.fail{background:#fce8e6}
.error,.timeout{background:#fde293}.miss{background:#eee;color:#777}
.refuted{color:#b3261e;font-weight:bold}.refined{color:#8a5a00;font-weight:bold}.holds{color:#1e7d32}
.note{font-size:1.05em}.truth{color:#333}.why{color:#8a3b00}
.ev{font:12px/1.3 ui-monospace,monospace;color:#444;white-space:pre-wrap;word-break:break-all}
.msg{font:12px/1.3 ui-monospace,monospace;color:#b3261e;white-space:pre-wrap}
.summary span{display:inline-block;margin-right:1.2em}
code{font-size:.92em}
"""


def h(text):
    return escape(str(text), quote=True)


def cell(result):
    if result is None:
        return '<td class="miss">miss</td>'
    status = result["status"]
    body = f"<b>{h(status)}</b>"
    ev = "\n".join(f"{k}={v}" for k, v in result.get("evidence", {}).items())
    if ev:
        body += f'<div class="ev">{h(ev)}</div>'
    if result.get("divergence"):
        body += f'<div class="ev">declared divergence: {h(result["divergence"])}</div>'
    if status not in ("pass", "skip") and result.get("message"):
        body += f'<div class="msg">{h(result["message"])}</div>'
    return f'<td class="{h(status)}">{body}</td>'


def claim_rows(claim, kernels, index):
    rows = []
    whys = {case: view.case_divergence(case, kernels, index) for case in claim["cases"]}
    for i, case in enumerate(sorted(claim["cases"], key=lambda c: not whys[c])):
        why = whys[case]
        head = ""
        if i == 0:
            refs = ", ".join(claim.get("refs", []))
            why = f'<div class="why">How the note is off: {h(claim["why"])}</div>' if claim.get("why") else ""
            head = (f'<td rowspan="{len(claim["cases"])}" id="{h(claim["id"])}">'
                    f'<code>{h(claim["id"])}</code> '
                    f'<span class="{h(claim["note_verdict"])}">{h(claim["note_verdict"])}</span>'
                    f'<div class="note" lang="zh">{h(claim["note"])}</div>'
                    f'<div class="truth">Linux: {h(claim["truth"])}</div>{why}'
                    f'<div class="ev">{h(refs)}</div></td>')
        cells = "".join(cell(index.get((case, k["id"]))) for k in kernels)
        mark = f' class="diverges" title="{h(why)}"' if why else ""
        note = f'<div class="div">{h(why)}</div>' if why else ""
        rows.append(f'<tr{mark} data-claim="{h(claim["id"])}" data-case="{h(case)}">{head}<td><code>{h(case)}</code>{note}</td>{cells}</tr>')
    return "\n".join(rows)


def divergence_section(doc):
    if len(doc["kernels"]) < 2:
        return []
    rows = view.divergent_cases(doc)
    if not rows:
        return ["<h2>Where the kernels disagree</h2><p>Every kernel that ran a case did the same on it.</p>"]
    return ['<h2 id="divergences">Where the kernels disagree</h2>',
            "<table><tr><th>claim</th><th>case</th><th>how</th></tr>",
            *[f'<tr class="diverges"><td><a href="#{h(c["id"])}"><code>{h(c["id"])}</code></a></td>'
              f'<td><code>{h(case)}</code></td><td>{h(why)}</td></tr>' for c, case, why in rows],
            "</table>"]


def render(doc):
    kernels = doc["kernels"]
    index = view.result_index(doc)
    counts, verdicts = view.counts(doc), view.verdict_counts(doc)
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             "<title>ipcproof conformance report</title>",
             f"<style>{STYLE}</style></head><body>",
             "<h1>ipcproof conformance report</h1>",
             f"<p>Generated {h(doc.get('generated', '?'))}. Kernels: "
             + "; ".join(f"<b>{h(view.kernel_label(k))}</b>" for k in kernels) + "</p>",
             '<p class="summary">'
             + "".join(f'<span class="{h(s)}">{n} {h(s)}</span>' for s, n in counts.items() if n)
             + f"<span>{len(doc['claims'])} claims</span></p>",
             f'<p class="summary"><span class="refuted">{verdicts["refuted"]} refuted</span>'
             f'<span class="refined">{verdicts["refined"]} refined</span>'
             f'<span class="holds">{verdicts["holds"]} hold</span> — verdicts on the notes</p>',
             *[f'<p class="fail">Missed kernel <b>{h(k["id"])}</b>: {h(k.get("miss_reason", ""))} '
               f'(log: {h(k.get("log", ""))})</p>' for k in kernels if k.get("status") == "miss"],
             *divergence_section(doc),
             "<h2>Where the notes are wrong or imprecise</h2>",
             "<table><tr><th>claim</th><th>the note says</th><th>verdict</th><th>how it is off</th></tr>"]
    for area, claims in view.areas(doc):
        for c in claims:
            if c["note_verdict"] != "holds":
                parts.append(f'<tr><td><a href="#{h(c["id"])}"><code>{h(c["id"])}</code></a></td>'
                             f'<td lang="zh">{h(c["note"])}</td>'
                             f'<td class="{h(c["note_verdict"])}">{h(c["note_verdict"])}</td>'
                             f'<td>{h(c.get("why", ""))}</td></tr>')
    parts.append("</table>")
    bad = view.unexpected(doc)
    if bad:
        parts.append("<h2>Kernels that did not behave as the catalog says</h2><ul>")
        parts += [f'<li class="{h(r["status"])}"><b>{h(r["status"])}</b> <code>{h(r["case"])}</code> '
                  f'on {h(r["kernel"])}: <span class="msg">{h(r["message"])}</span></li>' for r in bad]
        parts.append("</ul>")
    header = "".join(f'<th class="kernel" title="{h(view.kernel_label(k))}">{h(k["id"])}'
                     f'<div class="ev">{h(k.get("release", k.get("miss_reason", "")))}</div></th>' for k in kernels)
    for area, claims in view.areas(doc):
        parts.append(f'<h2 id="area-{h(area)}">{h(area)}</h2>')
        parts.append(f"<table><tr><th>claim</th><th>case</th>{header}</tr>")
        parts += [claim_rows(c, kernels, index) for c in claims]
        parts.append("</table>")
    orphans = view.orphans(doc)
    if orphans:
        parts.append("<h2>Cases with no claim in the catalog</h2><ul>")
        parts += [f"<li><code>{h(r['case'])}</code>: {h(r['status'])}</li>" for r in orphans]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
