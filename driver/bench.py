"""`./ipcproof bench`: the notes' comparative claims, measured.

    ./ipcproof bench [--kernels host,...] [--out DIR] [--quick]
    /usr/bin/python3 -m driver.bench [same options]

Runs cases/bench/ipc-bench.c (round-trip latency of an 8-byte message and
bulk throughput for pipe, FIFO, UNIX stream socket, signal and shared mmap)
on each chosen kernel, one kernel at a time (two benchmarks at once would
measure each other), and writes bench.json, bench.md and bench.html (the
measurements as an inline SVG chart) with a verdict per kernel on each of
the notes' rankings, computed by a stated rule.

Other kernels run through their own targets unchanged: guest-run.sh runs
the area binaries it finds by name, so the benchmark is staged in place of
the `pipe` area binary by a small wrapper script, and its JSON comes back as
that binary's log.  Timings are noisy (shared cores, emulators): the rules
compare medians, say when the ranges overlap, and nothing here asserts a
speed."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from html import escape
from pathlib import Path
from types import SimpleNamespace

from . import build, catalog, fsutil, guest, procs, targets
from .errors import UserError

DEFAULT_OUT = catalog.ROOT / "reports" / "latest"
CACHE = build.CACHE
SCHEMA = "ipcproof/bench/1"

MECHANISMS = ("pipe", "fifo", "socket", "signal", "mmap")
LABELS = {"pipe": "pipe", "fifo": "FIFO", "socket": "UNIX stream socket", "signal": "signal",
          "mmap": "shared mmap"}
SIZES = ("rounds", "bytes", "chunk", "values", "repeat")
FULL = {"rounds": 10000, "bytes": 64 << 20, "chunk": 64 << 10, "values": 100000, "repeat": 7}
QUICK = {"rounds": 2000, "bytes": 8 << 20, "chunk": 64 << 10, "values": 20000, "repeat": 5}
SIZE_HELP = {"rounds": "round trips per run", "bytes": "bytes per bulk transfer",
             "chunk": "bytes per write in a bulk transfer", "values": "sigqueue values per signal transfer",
             "repeat": "recorded runs (after one warm-up)"}
MECHANISM_TIMEOUT_S = 300   # ipc-bench's own bound per mechanism, times the kernel's time scale
HOST_MARGIN_S = 60

# The notes' words (cases/notes/ipc-notes.md, the overview's list).
NOTE_PIPE, NOTE_SIGNAL, NOTE_MMAP, NOTE_SOCKET = "使用最简单", "开销最小", "速度快", "最稳定"

# guest-run.sh runs "$bindir/pipe" with Criterion's options and keeps its
# output as pipe.log: the benchmark stands in for it.  Without
# IPCPROOF_RESULTS (set only by guest-run.sh) it is the driver asking for a
# case list on the host, which must not start a benchmark there.
WRAPPER = """#!/bin/sh
# ipcproof bench: stands in for the pipe area binary under guest-run.sh
[ -n "$IPCPROOF_RESULTS" ] || exit 1
scale=${{IPCPROOF_TIME_SCALE:-1}}
scale=${{scale%.*}}
[ "${{scale:-0}}" -ge 1 ] 2>/dev/null || scale=1
exec "${{0%/*}}/ipc-bench" {args} --timeout $(({timeout} * scale)) 2> "${{IPCPROOF_RESULTS%/*}}/bench-stderr.log"
"""


# ---- running -------------------------------------------------------------

def bench_args(sizes):
    return [a for k in SIZES for a in (f"--{k}", str(sizes[k]))]


def parse_output(text, where):
    """The benchmark's JSON object; guest.Miss when there is none."""
    start = text.find("{")
    try:
        doc = json.loads(text[start:]) if start >= 0 else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("mechanisms"), dict):
        raise guest.Miss(f"ipc-bench printed no measurements ({where})")
    return doc


def run_host(exe, sizes):
    """(measurements, kernel facts) on the running kernel: ipc-bench in a
    session of its own (swept whatever happens) with a private TMPDIR for
    its FIFOs, removed afterwards."""
    from . import host
    tmp = tempfile.mkdtemp(prefix="ipcproof-bench-")
    limit = len(MECHANISMS) * MECHANISM_TIMEOUT_S + HOST_MARGIN_S
    proc = None
    try:
        proc = subprocess.Popen([str(exe), *bench_args(sizes), "--timeout", str(MECHANISM_TIMEOUT_S)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                env=dict(os.environ, TMPDIR=tmp))
        try:
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            procs.sweep(proc.pid)
            proc.communicate()
            raise guest.Miss(f"ipc-bench did not finish within {limit} s") from None
        doc = parse_output(out, (err.strip().splitlines() or [f"exit {proc.returncode}"])[-1])
        return doc, host.describe()
    finally:
        if proc is not None:
            procs.sweep(proc.pid)
        shutil.rmtree(tmp, ignore_errors=True)


def unsupported(target):
    """Why the benchmark cannot run on this target, or None.  The wrapper
    relies on the target running ctx.binaries as they are: ssh probes and
    inspects the first binary as an ELF case binary, and a foreign-arch
    QEMU target rebuilds the binaries by name (its `pipe` would be the real
    area binary)."""
    if target.runner == "ssh":
        return "the benchmark does not run over ssh yet"
    if target.runner == "qemu" and target.params.get("arch", "amd64") != "amd64":
        return f"the benchmark runs only on amd64 QEMU kernels yet, not {target.params.get('arch')}"
    return None


def run_guest(target, bindir, exe, sizes, logdir):
    """(measurements, kernel facts) through the target's own run(), with a
    bin directory holding kernel-info, ipc-bench and the wrapper named pipe.
    The stage lives in the cache, not /tmp: gVisor and UML give the guest a
    /tmp of its own, and the staged files must stay reachable."""
    CACHE.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="bench-stage-", dir=CACHE))
    try:
        (stage / "kernel-info").symlink_to((Path(bindir) / "kernel-info").resolve())
        (stage / "ipc-bench").symlink_to(Path(exe).resolve())
        wrapper = stage / "pipe"
        wrapper.write_text(WRAPPER.format(args=" ".join(bench_args(sizes)), timeout=MECHANISM_TIMEOUT_S))
        wrapper.chmod(0o755)
        ctx = SimpleNamespace(bindir=stage, binaries=[wrapper, stage / "ipc-bench"], jobs=1,
                              logdir=Path(logdir), filter=None, cache=CACHE)
        _, _, kernel = target.run(ctx)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    log = Path(logdir) / f"{target.name}-pipe.log"
    errlog = Path(logdir) / f"{target.name}-bench-stderr.log"
    try:
        text = log.read_text(errors="replace")
    except OSError:
        text = ""
    try:
        why = (errlog.read_text(errors="replace").strip().splitlines() or ["no stderr"])[-1]
    except OSError:
        why = "no stderr"
    return parse_output(text, f"{why}; see {log}"), kernel


# ---- verdicts --------------------------------------------------------------

def fmt(value, unit):
    if unit == "ns":
        return f"{value:,.0f} ns"
    return f"{value:,.1f} MB/s" if value >= 10 else f"{value:,.3g} MB/s"


def metric(mechs, key):
    """{mechanism: {median, min, max}} for those that measured key."""
    return {m: mechs[m][key] for m in MECHANISMS if isinstance(mechs.get(m), dict) and key in mechs[m]}


def ranking(values, lowest_first):
    return sorted(values, key=lambda m: values[m]["median"], reverse=not lowest_first)


def best_is(mechs, key, who, lowest_first, unit):
    """(verdict, figures, ranking, overlap) for "who has the best median of
    the five"; overlap: whether who's min-max range meets the range it is
    compared with (the runner-up's when it leads, the leader's otherwise)."""
    values = metric(mechs, key)
    if set(values) != set(MECHANISMS):
        missing = [m for m in MECHANISMS if m not in values]
        return "not measured", f"no measurement for {', '.join(missing)}", ranking(values, lowest_first), None
    order = ranking(values, lowest_first)
    mine = values[who]
    other = values[order[1] if order[0] == who else order[0]]
    overlap = not (mine["max"] < other["min"] or other["max"] < mine["min"])
    tail = "the ranges overlap: a close call" if overlap else "the ranges do not overlap"
    if order[0] == who:
        figures = (f"{LABELS[who]} {fmt(mine['median'], unit)} (median) vs the runner-up, "
                   f"{LABELS[order[1]]}, {fmt(other['median'], unit)}; {tail}")
        return "holds", figures, order, overlap
    figures = (f"{LABELS[who]} {fmt(mine['median'], unit)} (median), rank {order.index(who) + 1} of 5; "
               f"the best is {LABELS[order[0]]} at {fmt(other['median'], unit)}; {tail}")
    return "does not hold", figures, order, overlap


def verdicts(mechs):
    """One entry per comparative claim of the notes' overview."""
    out = []
    v, figures, order, overlap = best_is(mechs, "latency_ns", "signal", True, "ns")
    out.append({"claim": "signal has the smallest overhead", "mechanism": "signal", "note": NOTE_SIGNAL,
                "rule": "holds when signal's median round-trip latency (8-byte sigqueue value there and back, "
                        "sigwaitinfo on the blocked signal) is the lowest of the five mechanisms' medians",
                "verdict": v, "figures": figures, "ranking": order, "ranges_overlap": overlap})
    v, figures, order, overlap2 = best_is(mechs, "throughput_MBps", "mmap", False, "MB/s")
    lat = metric(mechs, "latency_ns")
    if "mmap" in lat and len(lat) == len(MECHANISMS):
        figures += f"; for information, its round trip ranks {ranking(lat, True).index('mmap') + 1} of 5"
    out.append({"claim": "mmap is fast", "mechanism": "mmap", "note": NOTE_MMAP,
                "rule": "holds when shared mmap's median bulk throughput (bytes copied into a MAP_SHARED area "
                        "and out by the other process, handed over with process-shared semaphores) is the "
                        "highest of the five; signal counts 8 bytes per sigqueue value",
                "verdict": v, "figures": figures, "ranking": order, "ranges_overlap": overlap2})
    out.append({"claim": "pipe is the simplest to use", "mechanism": "pipe", "note": NOTE_PIPE,
                "rule": "none: ease of use is a judgement about programmers, not a property of the kernel",
                "verdict": "not measurable",
                "figures": "proxy, not a verdict: calls ipc-bench makes before fork to get a two-way "
                           "channel: socket 1 (socketpair), pipe 2 (a pipe is one-way), signal 1 "
                           "(sigprocmask; but one value per signal), mmap 5 (mmap, 4 sem_init), FIFO 3 "
                           "(mkdtemp, 2 mkfifo) plus an open per end and the unlinks; for one-way data pipe "
                           "and socketpair tie at one call",
                "ranking": []})
    spread = {m: (s["max"] - s["min"]) / s["median"] for m, s in lat.items() if s["median"] > 0}
    steadiest = min(spread, key=spread.get) if spread else None
    out.append({"claim": "local sockets are the most stable", "mechanism": "socket", "note": NOTE_SOCKET,
                "rule": "none: 'most stable' has no testable meaning as written; the catalog's socket cases "
                        "check the nearest properties (reliable, in order, full duplex, boundaries)",
                "verdict": "not measurable",
                "figures": ("for information only, not what the notes mean: the steadiest round trip "
                            "((max - min) / median) is " + (f"{LABELS[steadiest]}'s" if steadiest else "unknown")
                            + (f", socket's spread {spread['socket']:.2f}" if "socket" in spread else "")),
                "ranking": sorted(spread, key=spread.get)})
    return out


def kernel_entry(target, doc, facts):
    mechs = doc["mechanisms"]
    errors = {m: mechs[m]["error"] for m in MECHANISMS if isinstance(mechs.get(m), dict) and "error" in mechs[m]}
    return {"id": target.name, "runner": target.runner, "status": "ran",
            "release": facts.get("release") or doc["uname"].get("release"),
            "machine": facts.get("machine") or doc["uname"].get("machine"),
            "page_size": doc.get("page_size"), "cpus": doc.get("cpus"), "uname": doc.get("uname"),
            "facts": {k: v for k, v in facts.items() if isinstance(v, (str, int, float, bool))},
            "params": doc.get("params"), "mechanisms": mechs, "errors": errors,
            "verdicts": verdicts(mechs)}


# ---- reports ----------------------------------------------------------------

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
    e = lambda t: escape(str(t), quote=True)
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


def render_html(doc):
    e = lambda t: escape(str(t), quote=True)
    p = doc["params"]
    body = ["<h1>IPC benchmark: the notes' rankings, measured</h1>",
            f"<p>Round trip: an {p['message_bytes']}-byte message there and back, {p['rounds']} round trips a run. "
            f"Throughput: {p['bytes']} bytes in {p['chunk']}-byte chunks (signal: {p['values']} sigqueue values, "
            f"8 bytes each). {p['repeat']} runs after a warm-up; bars are medians, whiskers min–max; "
            "MB = 10<sup>6</sup> bytes. Timings are noisy: a verdict whose ranges overlap is a close call.</p>"]
    ran = [k for k in doc["kernels"] if k["status"] == "ran"]
    if ran:
        body.append("<h2>Verdicts</h2><table><tr><th>the notes' claim</th>"
                    + "".join(f"<th>{e(k['id'])}</th>" for k in ran) + "</tr>")
        for i, v in enumerate(ran[0]["verdicts"]):
            cells = "".join(f'<td class="{e(k["verdicts"][i]["verdict"].replace(" ", "-"))}">'
                            f'{e(summary(k["verdicts"][i]))}</td>' for k in ran)
            body.append(f'<tr><td>{e(v["claim"])} (<span lang="zh">{e(v["note"])}</span>)</td>{cells}</tr>')
        body.append("</table>")
    for k in doc["kernels"]:
        body.append(f"<h2>{e(k['id'])}</h2>")
        if k["status"] != "ran":
            body.append(f'<p class="miss"><b>{e(k["status"])}</b>: {e(k.get("miss_reason", ""))}</p>')
            continue
        body.append(f"<p>{e(k.get('release'))} {e(k.get('machine'))}, page size {e(k.get('page_size'))}, "
                    f"{e(k.get('cpus'))} CPUs</p>")
        lat, thr = metric(k["mechanisms"], "latency_ns"), metric(k["mechanisms"], "throughput_MBps")
        body.append('<div class="charts">' + svg_chart("Round trip, 8 bytes", lat, "ns", "lower is better")
                    + svg_chart("Bulk throughput", thr, "MB/s", "higher is better") + "</div>")
        body.append("<table><tr><th>mechanism</th><th>round trip: median [min – max]</th>"
                    "<th>throughput: median [min – max]</th><th>how</th></tr>")
        for m in MECHANISMS:
            s = k["mechanisms"].get(m, {})
            if "latency_ns" not in s:
                body.append(f'<tr><td>{e(LABELS[m])}</td><td colspan="3" class="does-not-hold">'
                            f'error: {e(s.get("error", "not measured"))}</td></tr>')
                continue
            extra = f" ({s['values_per_s']['median']:,.0f} values/s)" if "values_per_s" in s else ""
            how = s.get("what", {})
            body.append(f'<tr><td>{e(LABELS[m])}</td><td class="num">{e(stat_text(s["latency_ns"], "ns"))}</td>'
                        f'<td class="num">{e(stat_text(s["throughput_MBps"], "MB/s") + extra)}</td>'
                        f'<td>{e(how.get("latency", ""))}; {e(how.get("throughput", ""))}</td></tr>')
        body.append("</table><table><tr><th>claim</th><th>rule</th><th>verdict</th><th>figures</th></tr>")
        for v in k["verdicts"]:
            body.append(f'<tr><td>{e(v["claim"])} (<span lang="zh">{e(v["note"])}</span>)</td><td>{e(v["rule"])}</td>'
                        f'<td class="{e(v["verdict"].replace(" ", "-"))}"><b>{e(v["verdict"])}</b></td>'
                        f'<td>{e(v["figures"])}</td></tr>')
        body.append("</table>")
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>ipcproof bench</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


# ---- the command -------------------------------------------------------------

def add_arguments(p):
    p.add_argument("--kernels", default="host", help="comma-separated targets (default: host)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: reports/latest)")
    p.add_argument("--quick", action="store_true",
                   help=f"smaller sizes ({QUICK['bytes'] >> 20} MiB, {QUICK['rounds']} round trips, "
                        f"{QUICK['repeat']} runs)")
    for k, what in SIZE_HELP.items():
        p.add_argument(f"--{k}", type=int, help=f"{what} (default {FULL[k]}; --quick {QUICK[k]})")
    p.add_argument("--no-build", action="store_true", help="use the binaries already built")


def sizes_of(args):
    sizes = dict(QUICK if args.quick else FULL)
    for k in SIZES:
        value = getattr(args, k, None)
        if value is not None:
            if value < 1:
                raise UserError(f"--{k} must be a positive integer, not {value}")
            sizes[k] = value
    return sizes


def cmd_bench(args):
    sizes = sizes_of(args)
    chosen = targets.resolve(args.kernels)
    out = fsutil.output_dir(args.out)
    bindir = build.bindir() if args.no_build else build.build()
    exe = Path(bindir) / "ipc-bench"
    if not os.access(exe, os.X_OK):
        raise UserError(f"no ipc-bench in {bindir} (is the build complete?)")
    logdir = out / "bench-logs"
    logdir.mkdir(exist_ok=True)
    procs.become_subreaper()
    kernels = []
    for target in chosen:  # one at a time: concurrent benchmarks would slow each other
        print(f"ipcproof: bench: {target.name}: starting", file=sys.stderr, flush=True)
        try:
            if unsupported(target):
                raise guest.Miss(unsupported(target))
            if target.name == "host":
                doc, facts = run_host(exe, sizes)
            else:
                doc, facts = run_guest(target, bindir, exe, sizes, logdir)
        except guest.Miss as miss:
            print(f"ipcproof: bench: {target.name}: miss: {miss.reason}", file=sys.stderr)
            kernels.append({"id": target.name, "runner": target.runner, "status": "miss",
                            "miss_reason": miss.reason, "log": str(miss.log or "")})
            continue
        entry = kernel_entry(target, doc, facts)
        kernels.append(entry)
        said = "; ".join(f"{v['claim']}: {v['verdict']}" for v in entry["verdicts"][:2])
        print(f"ipcproof: bench: {target.name}: done; {said}", file=sys.stderr)
    params = dict(next((k["params"] for k in kernels if k.get("params")), None) or
                  dict(sizes, message_bytes=8))
    doc = {"schema": SCHEMA, "params": params, "kernels": kernels}
    fsutil.write_all({out / "bench.json": json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
                      out / "bench.md": render_md(doc), out / "bench.html": render_html(doc)})
    print(f"ipcproof: bench: report: {out / 'bench.html'}", file=sys.stderr)
    complete = all(k["status"] == "ran" and not k["errors"] for k in kernels)
    return 0 if complete else 1


def main(argv=None):
    """`python3 -m driver.bench ...`, the same as `./ipcproof bench ...`."""
    from .cli import main as cli_main
    return cli_main(["bench", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
