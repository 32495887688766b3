"""diff.html: the behaviour changes between two runs as one page, kernel by
kernel, for reading after a kernel upgrade: what the kernel now does
differently first, how the cases observed it apart and collapsed."""
from .. import diff, i18n
from .html import breakable, h, page, value_html

STYLE = """
td.from{color:#777}td.to{font-weight:bold}
tr.kernel-head th{background:#e8eaed;font-size:15px}
"""


def change_rows(records, kind, words):
    rows = []
    for rec in records:
        head = (f'<td rowspan="{{n}}"><code class="case">{breakable(rec["case"])}</code>'
                f'<div class="refs">{h(rec["claim"])}</div></td>')
        lines = []
        if kind == "behaviour" and rec["only"]:
            lines.append(f'<td colspan="3">{h(words["only_" + rec["only"]])}</td>')
        if kind == "behaviour" and rec["status"]:
            s1, s2 = rec["status"]
            msg = f'<div class="msg">{h(rec["message"])}</div>' if rec["message"] else ""
            lines.append(f'<td>{h(words["status_word"])}</td><td class="from {h(s1)}">{h(words.status(s1))}</td>'
                         f'<td class="to {h(s2)}">{h(words.status(s2))}{msg}</td>')
        lines += [f'<td class="ev">{h(k)}</td><td class="from ev">{value_html(v1)}</td>'
                  f'<td class="to ev"><mark>{value_html(v2)}</mark></td>' for k, v1, v2 in rec[kind]]
        if lines:
            head = head.replace("{n}", str(len(lines)))
            rows.append(f'<tr data-kernel="{h(rec["kernel"])}" data-case="{h(rec["case"])}">{head}{lines[0]}</tr>')
            rows += [f"<tr>{line}</tr>" for line in lines[1:]]
    return rows


def table(records, kind, words):
    rows = [f"<table><tr><th>{h(words['case'])}</th><th>{h(words['evidence'])}</th>"
            f"<th>{h(words['old'])}</th><th>{h(words['new'])}</th></tr>"]
    for kid in dict.fromkeys(r["kernel"] for r in records):
        mine = [r for r in records if r["kernel"] == kid]
        rows.append(f'<tr class="kernel-head"><th colspan="4">{h(kid)}</th></tr>')
        rows += change_rows(mine, kind, words)
    rows.append("</table>")
    return rows


def render(old, new, old_name, new_name, lang="en"):
    words = i18n.Words(lang)
    gone, added, facts = diff.kernel_changes(old, new)
    records = diff.case_changes(old, new)
    behaviour = [r for r in records if diff.is_behaviour(r)]
    observed = [r for r in records if r["observation"]]
    n = len(gone) + len(added) + sum(bool(r["only"]) + bool(r["status"]) + len(r["behaviour"]) for r in behaviour)
    named = {side: f"{name} ({doc.get('generated', '?')})" for side, name, doc in (("old", old_name, old), ("new", new_name, new))}
    body = [f"<h1>{h(words['diff_title'])}</h1>", f"<p>{h(words('diff_intro', **named))}</p>"]
    if facts or gone or added:
        body.append(f"<h2>{h(words['diff_kernels'])}</h2><ul>")
        body += [f"<li><b>{h(kid)}</b>: {h(field)} {h(words('changed_from', old=v1, new=v2))}</li>"
                 for kid, field, v1, v2 in facts]
        body += [f"<li><b>{h(kid)}</b>: {h(words['only_old'])}</li>" for kid in gone]
        body += [f"<li><b>{h(kid)}</b>: {h(words['only_new'])}</li>" for kid in added]
        body.append("</ul>")
    body.append(f'<h2 id="changes">{h(words("diff_n", n=n))}</h2>')
    body += table(behaviour, "behaviour", words) if behaviour else [f"<p>{h(words['diff_none'])}</p>"]
    if observed:
        body.append(f'<details id="observation"><summary>{h(words("diff_obs", n=len(observed)))}</summary>'
                    f"<p>{h(words['observed_intro'])}</p>")
        body += table(observed, "observation", words)
        body.append("</details>")
    return page(words["diff_title"], body, lang, STYLE)
