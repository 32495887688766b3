"""report.html: one self-contained page (no scripts, no external assets):
a summary of kernels by area, where the kernels behave differently, where
the notes are wrong, then one matrix per area with a glyph per kernel and
the evidence a click away (<details>)."""
import json
from html import escape
from pathlib import Path

from .. import catalog, i18n, view
from . import numbers

# The page's one style sheet, inlined: the report stays one file.
STYLE = Path(__file__).with_name("report.css").read_text(encoding="utf-8")

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


def top(doc, words, kernels, areas, beyond):
    """The title, the contents, the counts and the missed kernels."""
    counts, verdicts = view.counts(doc), view.verdict_counts(doc)
    return [f"<h1>{h(words['title'])}</h1>",
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
              for k in kernels if k.get("status") == "miss"]]


def listed(title, items):
    return [f"<h2>{h(title)}</h2><ul>", *items, "</ul>"] if items else []


def matrix(section, title, intro, claims, kernels, index, words):
    """One area's (or the claims beyond the notes') matrix: claims down,
    kernels across."""
    header = "".join(f'<th class="k" title="{h(view.kernel_label(k))}"><span>{h(k["id"])}</span></th>' for k in kernels)
    cols = '<colgroup><col class="claim"><col class="case">' + '<col class="k">' * len(kernels) + "</colgroup>"
    return [f'<section id="{h(section)}"><h2>{h(title)}</h2>{intro}',
            f'<table class="matrix">{cols}<tr><th>{h(words["claim"])}</th><th>{h(words["case"])}</th>{header}</tr>',
            *[claim_rows(c, kernels, index, words) for c in claims], "</table></section>"]


def render(doc, lang="en"):
    words = i18n.Words(lang)
    doc = i18n.localised(doc, lang)
    kernels = doc["kernels"]
    index = view.result_index(doc)
    areas = [(a, [c for c in claims if not catalog.is_beyond(c)]) for a, claims in view.areas(doc)]
    beyond = [c for _, claims in view.areas(doc) for c in claims if catalog.is_beyond(c)]
    areas = [(a, claims) for a, claims in areas if claims]
    body = [*top(doc, words, kernels, areas, beyond), *summary_section(doc, words),
            *disagree_section(doc, words), *wrong_section(doc, words)]
    body += listed(words["unexpected"], [
        f'<li><b class="{h(r["status"])}">{h(words.status(r["status"]))}</b> <code>{h(r["case"])}</code> '
        f'{h(words["on"])} {h(r["kernel"])}: <span class="msg">{h(r["message"])}</span></li>' for r in view.unexpected(doc)])
    for area, claims in areas:
        body += matrix(f"area-{area}", area, "", claims, kernels, index, words)
    if beyond:
        body += matrix("beyond", words["beyond"], f'<p>{h(words("beyond_intro", n=len(beyond)))}</p>',
                       beyond, kernels, index, words)
    body += listed(words["orphans"], [f"<li><code>{h(r['case'])}</code>: {h(words.status(r['status']))}</li>"
                                      for r in view.orphans(doc)])
    return page(words["title"], body, lang)
