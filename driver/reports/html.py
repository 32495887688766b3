"""report.html: one self-contained page (no scripts, no external assets):
a summary of kernels by area, where the kernels behave differently, where
the notes are wrong, then one matrix per area with a glyph per kernel and
the evidence a click away (<details>)."""
import json
from html import escape

from .. import catalog, i18n, view
from . import numbers

STYLE = """
body{font:15px/1.45 system-ui,"WenQuanYi Zen Hei",sans-serif;margin:1.5em auto;max-width:86em;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
nav a{margin-right:1em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.3em .45em;vertical-align:top;text-align:left}
th{background:#f4f4f4}
table.matrix{table-layout:fixed}
col.claim{width:32%} col.k{width:2.3em}
th.k{vertical-align:bottom;padding:.3em 0;height:9.5em}
th.k span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;display:block;margin:0 auto;font-weight:normal;font-size:13px}
td.g{text-align:center;vertical-align:middle;padding:.2em 0;font-size:16px;font-weight:bold}
td.g.odd{outline:3px solid #202124;outline-offset:-3px}
.pass,.xpass{background:#e6f4ea;color:#1e7d32}.xfail{background:#e8eaf6;color:#3949ab}
.skip{background:#f1f3f4;color:#5f6368}.fail{background:#fce8e6;color:#b3261e}
.error,.timeout{background:#fde293;color:#7a4f00}.miss{background:#eee;color:#999}
tr.diverges>td.case{border-left:6px solid #d93025}
.div{color:#b3261e;font-size:13px}
.refuted{color:#b3261e;font-weight:bold}.refined{color:#8a5a00;font-weight:bold}.holds{color:#1e7d32}
.note{font-size:1.05em}.truth{color:#333;font-size:14px}.why{color:#8a3b00;font-size:14px}
.refs{color:#666;font-size:12px}
code.case{overflow-wrap:anywhere}
.ev{font:12px/1.35 ui-monospace,"DejaVu Sans Mono",monospace;color:#444}
details>summary{cursor:pointer;color:#1a73e8;font-size:13px}
table.evt{margin:.3em 0;font:12px/1.35 ui-monospace,"DejaVu Sans Mono",monospace}
table.evt td{border:none;border-top:1px solid #eee;padding:.1em .4em;overflow-wrap:anywhere}
table.evt td:first-child{width:35%}
table.evt tr.beh{color:#777} table.evt tr.beh.differs{color:#222} table.evt tr.obs{color:#999}
mark{background:#ffe08a;padding:0 .15em}
.msg{font:12px/1.3 ui-monospace,monospace;color:#b3261e;white-space:pre-wrap;overflow-wrap:anywhere}
table.sum td.n{white-space:nowrap;font:13px ui-monospace,monospace}
table.sum td.n span{padding:0 .25em;margin-right:.15em;border-radius:3px}
table.sum span.zero{background:none;color:#bbb}
.profile{font-size:13px}
.legend span{display:inline-block;margin-right:1.1em;font-size:13px}
.legend b{display:inline-block;width:1.4em;text-align:center}
"""

GLYPH = {"pass": "✓", "fail": "✗", "error": "!", "timeout": "◷", "skip": "–",
         "xfail": "⊘", "xpass": "✓!", "miss": "·"}
SUMMED = ("pass", "fail", "xfail", "skip")


def h(text):
    return escape(str(text), quote=True)


def value_html(value):
    """An evidence value; an empty one visibly so."""
    return h(value) if value != "" else "<i>(empty)</i>"


def breakable(name):
    """A case name that may wrap after its underscores."""
    return h(name).replace("_", "_<wbr>").replace("/", "/<wbr>")


def page(title, body, lang, style=""):
    return "\n".join([f'<!DOCTYPE html><html lang="{h(lang)}"><head><meta charset="utf-8">',
                      '<meta name="viewport" content="width=device-width">',
                      f"<title>{h(title)}</title>", f"<style>{STYLE}{style}</style></head><body>",
                      *body, "</body></html>"]) + "\n"


def groups_html(key, groups, words, limit=3):
    """'key: gvisor 8193 · the other 6 16384', the minority first."""
    if key == "status":
        groups = [(words.status(value), kids) for value, kids in groups]
    (common, most), *few = groups
    shown = [f"{h(', '.join(kids))} <mark>{value_html(value)}</mark>" for value, kids in few[:limit]]
    if len(few) > limit:
        shown.append(h(words("more", n=len(few) - limit)))
    rest = words("the_other", n=len(most)) if len(most) > 2 else ", ".join(most)
    label = words["status_word"] if key == "status" else key
    return f"<b>{h(label)}</b>: " + "; ".join(shown) + f" · {h(rest)} {h(common)}"


def differences_html(diffs, words, limit=3):
    parts = [groups_html(key, groups, words) for key, groups in diffs[:limit]]
    if len(diffs) > limit:
        parts.append(h(words("more", n=len(diffs) - limit)))
    return "<br>".join(parts)


def profile_text(found, words, limit=6):
    """'9 behaviours differ: pipe_capacity=8193, fault.si_code=BUS_ADRALN ×4, ...'"""
    tally = {}
    for case, key, value in view.profile_items(found):
        label = f"{words['status_word']}={words.status(value)}" if key == "status" else f"{key}={value or chr(39) * 2}"
        tally.setdefault(label, []).append(case)
    items = [f'<span title="{h(", ".join(cases))}">{h(label)}{" ×" + str(len(cases)) if len(cases) > 1 else ""}</span>'
             for label, cases in tally.items()]
    if len(items) > limit:
        items = items[:limit] + [h(words("more", n=len(items) - limit))]
    return words("profile_line_1" if len(found) == 1 else "profile_line", n=len(found), items=", ".join(items))


def summary_section(doc, words):
    counts, profiles = view.area_counts(doc), view.profiles(doc)
    areas = [a for a in dict.fromkeys(c["area"] for c in view.ordered_claims(doc))]
    rows = [f'<section id="summary"><h2>{h(words["summary"])}</h2>', f'<p>{h(words["summary_intro"])}</p>',
            '<table class="sum"><tr><th>' + h(words["kernel"]) + "</th>"
            + "".join(f'<th><a href="#area-{h(a)}">{h(a)}</a></th>' for a in areas)
            + f"<th>{h(words['profile'])}</th></tr>"]
    for k in doc["kernels"]:
        kid = k["id"]
        if k.get("status") == "miss":
            cells = "".join('<td class="n miss">miss</td>' for _ in areas)
            profile = h(k.get("miss_reason", ""))
        else:
            cells = "".join(
                '<td class="n">' + "".join(
                    f'<span class="{s if counts[kid][a][s] else "zero"}" title="{h(words.status(s))}">'
                    f'{GLYPH[s]}{counts[kid][a][s]}</span>' for s in SUMMED) + "</td>" for a in areas)
            profile = profile_text(profiles[kid], words) if profiles[kid] else h(words["profile_none"])
        rows.append(f'<tr data-kernel="{h(kid)}"><td title="{h(view.kernel_label(k))}"><b>{h(kid)}</b>'
                    f'<div class="refs">{h(k.get("release", ""))} {h(k.get("machine", ""))}</div>'
                    f'<div class="refs">{h(numbers.kernel_facts(k, words.lang))}</div></td>'
                    f'{cells}<td class="profile">{profile}</td></tr>')
    rows.append("</table>")
    rows.append('<p class="legend">' + h(words.label("legend")) + "".join(
        f'<span><b class="{s}">{GLYPH[s]}</b> {h(words.status(s))}</span>' for s in GLYPH) + "</p></section>")
    return rows


def disagree_section(doc, words):
    if len(doc["kernels"]) < 2:
        return []
    out = [f'<section id="divergences"><h2>{h(words["disagree"])}</h2>', f'<p>{h(words["disagree_intro"])}</p>']
    rows = view.divergent_cases(doc)
    if not rows:
        out.append(f"<p>{h(words['agree'])}</p>")
    else:
        out.append(f"<table><tr><th>{h(words['case'])}</th><th>{h(words['how'])}</th></tr>")
        out += [f'<tr class="diverges"><td><a href="#{h(c["id"])}"><code class="case">{breakable(case)}</code></a>'
                f'<div class="refs">{h(c["id"])}</div></td><td class="ev">{differences_html(d, words)}</td></tr>'
                for c, case, d in rows]
        out.append("</table>")
    seen = view.divergent_cases(doc, "observation")
    if seen:
        out.append(f'<details id="observation"><summary>{h(words("observed", n=len(seen)))}</summary>'
                   f'<p>{h(words["observed_intro"])}</p><table>')
        out += [f'<tr><td><a href="#{h(c["id"])}"><code class="case">{breakable(case)}</code></a></td>'
                f'<td class="ev">{differences_html(d, words)}</td></tr>' for c, case, d in seen]
        out.append("</table></details>")
    out.append("</section>")
    return out


def wrong_section(doc, words):
    out = [f'<section id="wrong"><h2>{h(words["wrong"])}</h2>',
           f"<table><tr><th>{h(words['claim'])}</th><th>{h(words['note_says'])}</th>"
           f"<th>{h(words['verdict'])}</th><th>{h(words['how_off'])}</th></tr>"]
    for _, claims in view.areas(doc):
        out += [f'<tr><td><a href="#{h(c["id"])}"><code>{h(c["id"])}</code></a></td>'
                f'<td lang="zh">{h(c["note"])}</td>'
                f'<td class="{h(c["note_verdict"])}">{h(words.verdict(c["note_verdict"]))}</td>'
                f'<td>{h(c.get("why", ""))}</td></tr>' for c in claims
                if c["note_verdict"] != "holds" and not catalog.is_beyond(c)]
    out.append("</table>")
    false = numbers.literally_false(doc, view.result_index(doc))
    if false:
        w = lambda key: h(numbers.word(words.lang, key))  # noqa: E731
        out.append(f'<table id="numbers"><tr><th>{h(words["claim"])}</th><th>{w("number")}</th>'
                   f'<th>{w("false_on")}</th></tr>')
        out += [f'<tr><td><a href="#{h(c["id"])}"><code>{h(c["id"])}</code></a></td><td>{n} ({w(what)})</td>'
                f'<td>{h("; ".join(f"{kid}: {v}" for kid, v in off))}</td></tr>' for c, n, what, off in false]
        out.append("</table>")
    out.append("</section>")
    return out


def glyph_cell(kid, result, odd, words):
    if result is None:
        return f'<td class="g miss" data-kernel="{h(kid)}" data-status="miss" title="{h(kid)}: miss">{GLYPH["miss"]}</td>'
    status = result["status"]
    behaviour = view.behaviour_evidence(result)
    tip = f"{kid}: {words.status(status)}" + (f" — {view.evidence_text({'evidence': behaviour})}" if behaviour else "")
    return (f'<td class="g {h(status)}{" odd" if odd else ""}" data-kernel="{h(kid)}" '
            f'data-status="{h(view.outcome(result)[0])}" data-behaviour="{h(json.dumps(behaviour, sort_keys=True))}" '
            f'title="{h(tip)}">{GLYPH.get(status, "?")}</td>')


def evidence_details(case, kernels, index, words):
    """Every evidence key of the case: once when every kernel recorded the
    same, else each value with its kernels, highlighted; observation keys
    and messages after."""
    got = view.ran(case, kernels, index)
    if not got:
        return ""
    rows = []
    for kind, pick in (("beh", view.behaviour_evidence), ("obs", view.other_evidence)):
        values = {kid: pick(r) for kid, r in got.items()}
        for key in dict.fromkeys(k for ev in values.values() for k in ev):
            groups = {}
            for kid, ev in values.items():
                groups.setdefault(ev.get(key, "-"), []).append(kid)
            (common, most), *few = sorted(groups.items(), key=lambda g: -len(g[1]))
            if not few:
                rows.append(f'<tr class="{kind}"><td>{h(key)}</td>'
                            f'<td>{value_html(common)}{"" if len(got) < 2 else " · " + h(words["same_on_all"])}</td></tr>')
                continue
            who = ", ".join(most) if len(most) < 3 else words("the_other", n=len(most))
            # Only behaviour is highlighted: how a case saw the kernel, and
            # what differs on every run (addresses, inodes), is context.
            lines = [f"{value_html(common)} {h(who)}"] + [
                (f"<mark>{value_html(v)}</mark> " if kind == "beh" else f"{value_html(v)} ") + h(", ".join(kids))
                for v, kids in few[:3 if kind == "obs" else None]]
            if kind == "obs" and len(few) > 3:
                lines.append(h(words("more", n=len(few) - 3)))
            rows.append(f'<tr class="{kind} differs"><td>{h(key)}</td><td>' + "<br>".join(lines) + "</td></tr>")
    for kid, r in got.items():
        if r.get("divergence"):
            rows.append(f'<tr><td>{h(kid)}</td><td>{h(words.label("declared"))}{h(r["divergence"])}</td></tr>')
        if r["status"] != "pass" and r.get("message"):
            rows.append(f'<tr><td>{h(kid)} {h(words.status(r["status"]))}</td><td class="msg">{h(r["message"])}</td></tr>')
    if not rows:
        return ""
    return f'<details><summary>{h(words["evidence"])}</summary><table class="evt">{"".join(rows)}</table></details>'


def claim_rows(claim, kernels, index, words):
    rows = []
    diffs = {case: view.differences(case, kernels, index) for case in claim["cases"]}
    for i, case in enumerate(sorted(claim["cases"], key=lambda c: not diffs[c])):
        head = ""
        if i == 0:
            how_off = (f'<div class="why">{h(words.label("note_off"))}{h(claim["why"])}</div>'
                       if claim.get("why") else "")
            said = (f'<div class="statement">{h(claim["statement"])}</div>' if catalog.is_beyond(claim) else
                    f'<span class="{h(claim["note_verdict"])}">{h(words.verdict(claim["note_verdict"]))}</span>'
                    f'<div class="note" lang="zh">{h(claim["note"])}</div>')
            head = (f'<td rowspan="{len(claim["cases"])}" id="{h(claim["id"])}">'
                    f'<code>{h(claim["id"])}</code> {said}'
                    f'<div class="truth">{h(words.label("linux"))}{h(claim["truth"])}</div>{how_off}'
                    f'<div class="refs">{h(", ".join(claim.get("refs", [])))}</div></td>')
        odd = view.odd_kernels(diffs[case])
        cells = "".join(glyph_cell(k["id"], index.get((case, k["id"])), k["id"] in odd, words) for k in kernels)
        mark = ' class="diverges"' if diffs[case] else ""
        line = f'<div class="div">{differences_html(diffs[case], words, 2)}</div>' if diffs[case] else ""
        rows.append(f'<tr{mark} data-claim="{h(claim["id"])}" data-case="{h(case)}">{head}'
                    f'<td class="case"><code class="case">{breakable(case)}</code>{line}'
                    f'{evidence_details(case, kernels, index, words)}</td>{cells}</tr>')
    return "\n".join(rows)


def render(doc, lang="en"):
    words = i18n.Words(lang)
    doc = i18n.localised(doc, lang)
    kernels = doc["kernels"]
    index = view.result_index(doc)
    counts, verdicts = view.counts(doc), view.verdict_counts(doc)
    areas = [(a, [c for c in claims if not catalog.is_beyond(c)]) for a, claims in view.areas(doc)]
    beyond = [c for _, claims in view.areas(doc) for c in claims if catalog.is_beyond(c)]
    areas = [(a, claims) for a, claims in areas if claims]
    body = [f"<h1>{h(words['title'])}</h1>",
            "<nav>" + "".join(f'<a href="#{a}">{h(t)}</a>' for a, t in (
                ("summary", words["summary"]), ("divergences", words["disagree"]), ("wrong", words["wrong"])))
            + "".join(f'<a href="#area-{h(a)}">{h(a)}</a>' for a, _ in areas)
            + (f'<a href="#beyond">{h(words["beyond"])}</a>' if beyond else "")
            + f'<a href="notes.html">{h(words["notes_page"])}</a></nav>',
            f"<p>{h(words('generated', when=doc.get('generated', '?')))} {h(words('claims_n', n=len(doc['claims'])))}, "
            f"{h(words('results_n', n=len(doc['results'])))}: "
            + ("，" if words.zh else ", ").join(f'<span class="{h(s)}">{n} {h(words.status(s))}</span>' for s, n in counts.items() if n)
            + f"{'。' if words.zh else '. '}{h(words('verdict_line', **verdicts))}</p>",
            *[f'<p class="fail">{h(words("missed", kernel=k["id"], reason=k.get("miss_reason", ""), log=k.get("log", "")))}</p>'
              for k in kernels if k.get("status") == "miss"],
            *summary_section(doc, words),
            *disagree_section(doc, words),
            *wrong_section(doc, words)]
    bad = view.unexpected(doc)
    if bad:
        body.append(f"<h2>{h(words['unexpected'])}</h2><ul>")
        body += [f'<li><b class="{h(r["status"])}">{h(words.status(r["status"]))}</b> <code>{h(r["case"])}</code> '
                 f'{h(words["on"])} {h(r["kernel"])}: <span class="msg">{h(r["message"])}</span></li>' for r in bad]
        body.append("</ul>")
    header = "".join(f'<th class="k" title="{h(view.kernel_label(k))}"><span>{h(k["id"])}</span></th>' for k in kernels)
    cols = '<colgroup><col class="claim"><col class="case">' + '<col class="k">' * len(kernels) + "</colgroup>"
    for area, claims in areas:
        body.append(f'<section id="area-{h(area)}"><h2>{h(area)}</h2>')
        body.append(f'<table class="matrix">{cols}<tr><th>{h(words["claim"])}</th><th>{h(words["case"])}</th>{header}</tr>')
        body += [claim_rows(c, kernels, index, words) for c in claims]
        body.append("</table></section>")
    if beyond:
        body.append(f'<section id="beyond"><h2>{h(words["beyond"])}</h2><p>{h(words("beyond_intro", n=len(beyond)))}</p>')
        body.append(f'<table class="matrix">{cols}<tr><th>{h(words["claim"])}</th><th>{h(words["case"])}</th>{header}</tr>')
        body += [claim_rows(c, kernels, index, words) for c in beyond]
        body.append("</table></section>")
    orphans = view.orphans(doc)
    if orphans:
        body.append(f"<h2>{h(words['orphans'])}</h2><ul>")
        body += [f"<li><code>{h(r['case'])}</code>: {h(words.status(r['status']))}</li>" for r in orphans]
        body.append("</ul>")
    return page(words["title"], body, lang)
