"""notes.html: the study notes as written, each sentence the catalog judges
marked with its verdict and followed by what Linux does and the evidence;
lines that carry no checked claim are shown as such.  For students and
teachers reading their own notes."""
from .. import catalog, i18n, view
from .html import GLYPH, breakable, evidence_details, h, page

VERDICT_RANK = {"refuted": 0, "refined": 1, "holds": 2}

STYLE = """
.notes{font-size:15px;line-height:1.6}
.line{display:grid;grid-template-columns:7.5em 1fr;gap:.8em;border-top:1px solid #f0f0f0}
.line>.text{white-space:pre-wrap;overflow-wrap:anywhere}
.line.plain>.text,.plainnote{color:#888}
.gutter{font-size:12px;color:#aaa;padding-top:.2em}
.gutter b{font-weight:bold}
a.m{text-decoration:none;color:inherit;border-bottom:3px solid;padding:0 .1em}
a.m.refuted{background:#fce8e6;border-color:#d93025}
a.m.refined{background:#fef7e0;border-color:#e3a008}
a.m.holds{background:#e6f4ea;border-color:#34a853}
sup{font-size:10px;color:#555}
.cards{grid-column:2;margin:.2em 0 .8em}
.card{border-left:4px solid #ccc;padding:.3em .7em;margin:.35em 0;background:#fafafa;font-size:14px}
.card.v-refuted{border-color:#d93025}.card.v-refined{border-color:#e3a008}.card.v-holds{border-color:#34a853}
.card .case{font-size:12px}
.card .glyphs span{display:inline-block;min-width:1.6em;text-align:center;margin-right:.2em;border-radius:3px;font-size:12px}
"""


def spans(notes, claims):
    """[(start, end, claim)]: where each claim's words are in the notes.  A
    claim's fragments are looked for in order, each after the one before,
    so a short fragment ("管道") lands next to the rest of its claim."""
    out = []
    for c in claims:
        at = 0
        for fragment in (f.strip() for f in c["note"].split(catalog.FRAGMENT_SEPARATOR)):
            start = notes.find(fragment, at)
            if start < 0:
                start = notes.find(fragment)
            if start < 0 or not fragment:
                continue
            out.append((start, start + len(fragment), c))
            at = start + len(fragment)
    return out


def as_read(text):
    """Notes text as its author sees it rendered: the notes end some lines
    with an HTML line break, which a reader never sees as characters."""
    return h(text.replace("</br>", ""))


def worst(claims):
    return min(claims, key=lambda c: VERDICT_RANK.get(c["note_verdict"], 3))["note_verdict"]


def card(c, number, doc, index, words):
    kernels = doc["kernels"]
    glyphs = "".join(
        f'<span class="{s}" title="{h(k["id"])}: {h(words.status(s))}">{GLYPH.get(s, "?")} {h(k["id"])}</span>'
        for k in kernels for s in [view.claim_status(c, k["id"], index)])
    cases = "".join(f'<div><code class="case">{breakable(case)}</code>{evidence_details(case, kernels, index, words)}</div>'
                    for case in c["cases"])
    cases = f'<details><summary>{h(words["evidence"])} ({len(c["cases"])})</summary>{cases}</details>'
    why = f'<div class="why">{h(words.label("note_off"))}{h(c["why"])}</div>' if c.get("why") else ""
    return (f'<div class="card v-{h(c["note_verdict"])}" id="n-{h(c["id"])}" data-claim="{h(c["id"])}">'
            f'<sup>{number}</sup> <b class="{h(c["note_verdict"])}">{h(words.verdict(c["note_verdict"]))}</b> '
            f'<a href="report.html#{h(c["id"])}"><code>{h(c["id"])}</code></a>'
            f'<div>{h(words.label("statement"))}{h(c["statement"])}</div>'
            f'<div class="truth">{h(words.label("linux"))}{h(c["truth"])}</div>{why}'
            f'<div class="glyphs">{glyphs}</div>{cases}</div>')


def marked(line, here, numbers, words):
    """One line of the notes, each judged piece a link marked by the worst
    verdict on it; (html, the claims first seen on this line)."""
    cuts = sorted({0, len(line), *(s for s, _, _ in here), *(e for _, e, _ in here)})
    text, new = [], []
    for a, b in zip(cuts, cuts[1:]):
        covering = [c for s, e, c in here if s <= a and b <= e]
        piece = as_read(line[a:b])
        if not covering:
            text.append(piece)
            continue
        for c in covering:
            if c["id"] not in numbers:
                numbers[c["id"]] = len(numbers) + 1
                new.append(c)
        last = [c for c in covering if any(e == b for s, e, cc in here if cc is c)]
        marks = f"<sup>{','.join(str(numbers[c['id']]) for c in last)}</sup>" if last else ""
        tip = " · ".join(f"{words.verdict(c['note_verdict'])}: {c['truth']}" for c in covering)
        text.append(f'<a class="m {worst(covering)}" href="#n-{h(covering[0]["id"])}" title="{h(tip)}" '
                    f'data-claims="{h(" ".join(c["id"] for c in covering))}">{piece}</a>{marks}')
    return "".join(text), new


def line_div(line, text, here, words):
    """The line with its gutter: the count of each verdict on it, or a dash
    for a line that carries no claim."""
    if here:
        verdicts = [c["note_verdict"] for c in {c["id"]: c for _, _, c in here}.values()]
        gutter = " ".join(f'<b class="{v}">{verdicts.count(v)} {h(words.verdict(v))}</b>'
                          for v in VERDICT_RANK if v in verdicts)
        return f'<div class="line judged"><div class="gutter">{gutter}</div><div class="text">{text}</div>'
    mark = f'<span title="{h(words["no_claim"])}">—</span>' if line.strip() else ""
    return f'<div class="line plain"><div class="gutter">{mark}</div><div class="text">{text}</div>'


def render(doc, lang="en", notes_text=None):
    words = i18n.Words(lang)
    doc = i18n.localised(doc, lang)
    notes = catalog.NOTES.read_text(encoding="utf-8") if notes_text is None else notes_text
    index = view.result_index(doc)
    found = spans(notes, view.ordered_claims(doc))
    numbers = {}
    body = [f"<h1>{h(words['notes_title'])}</h1>",
            f'<nav><a href="report.html">{h(words["back_report"])}</a></nav>',
            f"<p>{h(words['notes_intro'])}</p>",
            '<p class="legend">' + "".join(f'<span><a class="m {v}">{h(words.verdict(v))}</a></span> '
                                           for v in VERDICT_RANK)
            + f'<span class="plainnote">— {h(words["no_claim"])}</span></p>',
            '<div class="notes" lang="zh">']
    offset = 0
    for line in notes.split("\n"):
        end = offset + len(line)
        here = [(max(s, offset) - offset, min(e, end) - offset, c) for s, e, c in found if s < end and e > offset]
        text, new = marked(line, here, numbers, words)
        body.append(line_div(line, text, here, words))
        if new:
            body.append('<div class="cards">' + "".join(card(c, numbers[c["id"]], doc, index, words) for c in new) + "</div>")
        body.append("</div>")
        offset = end + 1
    body.append("</div>")
    return page(words["notes_title"], body, lang, STYLE)
