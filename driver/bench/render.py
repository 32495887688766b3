"""bench.md and bench.html (one self-contained page, the measurements as
inline SVG charts)."""
from html import escape

from .verdicts import LABELS, MECHANISMS, fmt, metric


def summary(v):
    return v["verdict"] + (" (ranges overlap)" if v.get("ranges_overlap") else "")


def stat_text(s, unit):
    return f"{fmt(s['median'], unit)} [{fmt(s['min'], unit)} – {fmt(s['max'], unit)}]"


def render_md(doc):
    p = doc["params"]
    lines = ["# IPC benchmark: the notes' rankings, measured", "",
             f"Round trip: an {p['message_bytes']}-byte message there and back, {p['rounds']} round trips a run. "
             f"Throughput: {p['bytes']} bytes in {p['chunk']}-byte chunks (signal: {p['values']} sigqueue values, "
             f"8 bytes each). {p['repeat']} runs after a warm-up; median [min – max]; MB = 10^6 bytes. "
             "Timings are noisy: a verdict whose ranges overlap is a close call.", ""]
    ran = [k for k in doc["kernels"] if k["status"] == "ran"]
    if ran:
        lines += ["## Verdicts", "", "| the notes' claim | " + " | ".join(k["id"] for k in ran) + " |",
                  "| --- |" + " --- |" * len(ran)]
        for i, v in enumerate(ran[0]["verdicts"]):
            lines.append(f"| {v['claim']} ({v['note']}) | " + " | ".join(summary(k["verdicts"][i]) for k in ran) + " |")
        lines.append("")
    for k in doc["kernels"]:
        lines += [f"## {k['id']}", ""]
        if k["status"] != "ran":
            lines += [f"**{k['status']}**: {k.get('miss_reason', '')}", ""]
            continue
        lines += [f"{k.get('release')} {k.get('machine')}, page size {k.get('page_size')}, {k.get('cpus')} CPUs", "",
                  "| mechanism | round trip | throughput |", "| --- | --- | --- |"]
        for m in MECHANISMS:
            s = k["mechanisms"].get(m, {})
            if "error" in s or "latency_ns" not in s:
                lines.append(f"| {LABELS[m]} | error: {s.get('error', 'not measured')} | |")
                continue
            extra = f" ({s['values_per_s']['median']:,.0f} values/s)" if "values_per_s" in s else ""
            lines.append(f"| {LABELS[m]} | {stat_text(s['latency_ns'], 'ns')} | "
                         f"{stat_text(s['throughput_MBps'], 'MB/s')}{extra} |")
        lines += ["", "| claim | rule | verdict | figures |", "| --- | --- | --- | --- |"]
        for v in k["verdicts"]:
            lines.append(f"| {v['claim']} ({v['note']}) | {v['rule']} | **{v['verdict']}** | {v['figures']} |")
        lines.append("")
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:80em;padding:0 1em;color:#222}
h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}
.holds{background:#e6f4ea}.does-not-hold{background:#fce8e6}.not-measurable,.not-measured{background:#f1f3f4}
.charts{display:flex;flex-wrap:wrap;gap:1em}.miss{color:#777}
"""

COLOURS = {"pipe": "#4e79a7", "fifo": "#76b7b2", "socket": "#59a14f", "signal": "#e15759", "mmap": "#f28e2b"}


def svg_chart(title, values, unit, better):
    """A horizontal bar per mechanism (the median) with a whisker from min
    to max; linear scale, the figures printed, so a small bar still reads."""
    w, left, right, row, top = 520, 140, 150, 26, 30
    h = top + row * len(values) + 10
    peak = max((s["max"] for s in values.values()), default=1) or 1
    scale = (w - left - right) / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
             f'role="img" aria-label="{e(title)}">',
             f'<text x="4" y="18" font-size="13" font-weight="bold">{e(title)} ({e(better)})</text>']
    for i, (m, s) in enumerate(values.items()):
        y = top + i * row
        bar = max(s["median"] * scale, 1)
        lo, hi = left + s["min"] * scale, left + s["max"] * scale
        parts += [f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">{e(LABELS[m])}</text>',
                  f'<rect x="{left}" y="{y + 4}" width="{bar:.1f}" height="16" fill="{COLOURS[m]}">'
                  f'<title>{e(LABELS[m])}: {e(stat_text(s, unit))}</title></rect>',
                  f'<line x1="{lo:.1f}" y1="{y + 12}" x2="{hi:.1f}" y2="{y + 12}" stroke="#222" stroke-width="1"/>',
                  f'<line x1="{lo:.1f}" y1="{y + 7}" x2="{lo:.1f}" y2="{y + 17}" stroke="#222" stroke-width="1"/>',
                  f'<line x1="{hi:.1f}" y1="{y + 7}" x2="{hi:.1f}" y2="{y + 17}" stroke="#222" stroke-width="1"/>',
                  f'<text x="{hi + 6:.1f}" y="{y + 16}" font-size="11">{e(fmt(s["median"], unit))}</text>']
    parts.append("</svg>")
    return "".join(parts)


def e(text):
    return escape(str(text), quote=True)


def verdict_table(ran):
    rows = ["<h2>Verdicts</h2><table><tr><th>the notes' claim</th>"
            + "".join(f"<th>{e(k['id'])}</th>" for k in ran) + "</tr>"]
    for i, v in enumerate(ran[0]["verdicts"]):
        cells = "".join(f'<td class="{e(k["verdicts"][i]["verdict"].replace(" ", "-"))}">'
                        f'{e(summary(k["verdicts"][i]))}</td>' for k in ran)
        rows.append(f'<tr><td>{e(v["claim"])} (<span lang="zh">{e(v["note"])}</span>)</td>{cells}</tr>')
    return rows + ["</table>"]


def mechanism_rows(k):
    rows = ["<table><tr><th>mechanism</th><th>round trip: median [min – max]</th>"
            "<th>throughput: median [min – max]</th><th>how</th></tr>"]
    for m in MECHANISMS:
        s = k["mechanisms"].get(m, {})
        if "latency_ns" not in s:
            rows.append(f'<tr><td>{e(LABELS[m])}</td><td colspan="3" class="does-not-hold">'
                        f'error: {e(s.get("error", "not measured"))}</td></tr>')
            continue
        extra = f" ({s['values_per_s']['median']:,.0f} values/s)" if "values_per_s" in s else ""
        how = s.get("what", {})
        rows.append(f'<tr><td>{e(LABELS[m])}</td><td class="num">{e(stat_text(s["latency_ns"], "ns"))}</td>'
                    f'<td class="num">{e(stat_text(s["throughput_MBps"], "MB/s") + extra)}</td>'
                    f'<td>{e(how.get("latency", ""))}; {e(how.get("throughput", ""))}</td></tr>')
    return rows + ["</table>"]


def kernel_section(k):
    if k["status"] != "ran":
        return [f"<h2>{e(k['id'])}</h2>", f'<p class="miss"><b>{e(k["status"])}</b>: {e(k.get("miss_reason", ""))}</p>']
    lat, thr = metric(k["mechanisms"], "latency_ns"), metric(k["mechanisms"], "throughput_MBps")
    rows = [f"<h2>{e(k['id'])}</h2>", f"<p>{e(k.get('release'))} {e(k.get('machine'))}, page size "
            f"{e(k.get('page_size'))}, {e(k.get('cpus'))} CPUs</p>",
            '<div class="charts">' + svg_chart("Round trip, 8 bytes", lat, "ns", "lower is better")
            + svg_chart("Bulk throughput", thr, "MB/s", "higher is better") + "</div>", *mechanism_rows(k),
            "<table><tr><th>claim</th><th>rule</th><th>verdict</th><th>figures</th></tr>"]
    for v in k["verdicts"]:
        rows.append(f'<tr><td>{e(v["claim"])} (<span lang="zh">{e(v["note"])}</span>)</td><td>{e(v["rule"])}</td>'
                    f'<td class="{e(v["verdict"].replace(" ", "-"))}"><b>{e(v["verdict"])}</b></td>'
                    f'<td>{e(v["figures"])}</td></tr>')
    return rows + ["</table>"]


def render_html(doc):
    p = doc["params"]
    body = ["<h1>IPC benchmark: the notes' rankings, measured</h1>",
            f"<p>Round trip: an {p['message_bytes']}-byte message there and back, {p['rounds']} round trips a run. "
            f"Throughput: {p['bytes']} bytes in {p['chunk']}-byte chunks (signal: {p['values']} sigqueue values, "
            f"8 bytes each). {p['repeat']} runs after a warm-up; bars are medians, whiskers min–max; "
            "MB = 10<sup>6</sup> bytes. Timings are noisy: a verdict whose ranges overlap is a close call.</p>"]
    ran = [k for k in doc["kernels"] if k["status"] == "ran"]
    body += verdict_table(ran) if ran else []
    for k in doc["kernels"]:
        body += kernel_section(k)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>ipcproof bench</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
