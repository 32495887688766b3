"""`./ipcproof bench`: the notes' comparative claims, measured.

    ./ipcproof bench [--kernels host,...] [--out DIR] [--quick]
    /usr/bin/python3 -m driver.bench [same options]

Runs cases/bench/ipc-bench.c (round-trip latency of an 8-byte message and
bulk throughput for pipe, FIFO, UNIX stream socket, signal and shared mmap)
on each chosen kernel, one kernel at a time (two benchmarks at once would
measure each other), as a one-step plan through the same session and runner
as the cases, so it runs on every kernel that can run them; it writes
bench.json, bench.md and bench.html (the measurements as an inline SVG chart)
with a verdict per kernel on each of the notes' rankings, computed by a
stated rule (verdicts.py).  Timings are noisy (shared cores, emulators): the
rules compare medians, say when the ranges overlap, and nothing here asserts
a speed."""
import json
import os
import sys
from pathlib import Path

from .. import build, catalog, fsutil, kernels, session
from ..errors import Miss, UserError
from ..runner import Step, read_text
from .render import render_html, render_md
from .verdicts import MECHANISMS, verdicts

DEFAULT_OUT = catalog.ROOT / "reports" / "latest"
SCHEMA = "ipcproof/bench/1"
SIZES = ("rounds", "bytes", "chunk", "values", "repeat")
FULL = {"rounds": 10000, "bytes": 64 << 20, "chunk": 64 << 10, "values": 100000, "repeat": 7}
QUICK = {"rounds": 2000, "bytes": 8 << 20, "chunk": 64 << 10, "values": 20000, "repeat": 5}
SIZE_HELP = {"rounds": "round trips per run", "bytes": "bytes per bulk transfer",
             "chunk": "bytes per write in a bulk transfer", "values": "sigqueue values per signal transfer",
             "repeat": "recorded runs (after one warm-up)"}
MECHANISM_TIMEOUT_S = 300   # ipc-bench's own bound per mechanism, times the kernel's time scale


def bench_args(sizes):
    return [a for k in SIZES for a in (f"--{k}", str(sizes[k]))]


def step(sizes, scale):
    timeout = int(MECHANISM_TIMEOUT_S * max(scale, 1))
    return Step("bench", "ipc-bench", [*bench_args(sizes), "--timeout", str(timeout)],
                limit_s=len(MECHANISMS) * timeout + 60)


def parse_output(text, where):
    """The benchmark's JSON object (its first line that opens one: stderr
    shares the log); Miss when there is none."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("{")), None)
    try:
        doc = json.loads("\n".join(lines[start:])) if start is not None else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict) or not isinstance(doc.get("mechanisms"), dict):
        raise Miss(f"ipc-bench printed no measurements ({where})")
    return doc


def kernel_entry(outcome, logdir):
    k = outcome.kernel
    if k["status"] == "miss":
        return k
    log = Path(logdir) / f"{session.safe(k['id'])}-bench.log"
    try:
        doc = parse_output(read_text(log), f"see {log}")
    except Miss as miss:
        return {"id": k["id"], "runner": k["runner"], "status": "miss", "miss_reason": miss.reason, "log": str(log)}
    mechs = doc["mechanisms"]
    errors = {m: mechs[m]["error"] for m in MECHANISMS if isinstance(mechs.get(m), dict) and "error" in mechs[m]}
    return {"id": k["id"], "runner": k["runner"], "status": "ran",
            "release": k.get("release") or doc["uname"].get("release"),
            "machine": k.get("machine") or doc["uname"].get("machine"),
            "page_size": doc.get("page_size"), "cpus": doc.get("cpus"), "uname": doc.get("uname"),
            "facts": {key: v for key, v in k.items() if isinstance(v, (str, int, float, bool))},
            "params": doc.get("params"), "mechanisms": mechs, "errors": errors,
            "verdicts": verdicts(mechs)}


def add_arguments(p):
    p.add_argument("--kernels", default="host", help="comma-separated kernels (default: host)")
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
    chosen = kernels.resolve(args.kernels)
    out = fsutil.output_dir(args.out)
    bindir = build.bindir() if args.no_build else build.build()
    if not os.access(Path(bindir) / "ipc-bench", os.X_OK):
        raise UserError(f"no ipc-bench in {bindir} (is the build complete?)")
    ctx = session.Context(bindir, fsutil.log_dir(out, "bench-logs"), build.CACHE, 1)
    # One kernel at a time: concurrent benchmarks would slow each other.
    outcomes = session.run(chosen, lambda kernel, scale: [step(sizes, scale)], ctx, jobs=1)
    entries = [kernel_entry(o, ctx.logdir) for o in outcomes]
    for e in entries:
        said = "; ".join(f"{v['claim']}: {v['verdict']}" for v in e.get("verdicts", [])[:2])
        print(f"ipcproof: bench: {e['id']}: {said or e.get('miss_reason', '')}", file=sys.stderr)
    params = dict(next((k["params"] for k in entries if k.get("params")), None) or dict(sizes, message_bytes=8))
    doc = {"schema": SCHEMA, "params": params, "kernels": entries}
    fsutil.write_all({out / "bench.json": json.dumps(doc, indent=1, ensure_ascii=False) + "\n",
                      out / "bench.md": render_md(doc), out / "bench.html": render_html(doc)})
    print(f"ipcproof: bench: report: {out / 'bench.html'}", file=sys.stderr)
    complete = all(k["status"] == "ran" and not k["errors"] for k in entries)
    return 0 if complete else 1


def main(argv=None):
    """`python3 -m driver.bench ...`, the same as `./ipcproof bench ...`."""
    from ..cli import main as cli_main
    return cli_main(["bench", *(sys.argv[1:] if argv is None else argv)])
