"""Running one area's Criterion binary and reading its results lines."""
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from . import procs

CASE_LIMIT_S = 10.0


def list_cases(binary):
    """The area/case names a binary holds, from Criterion's --list."""
    out = subprocess.run([str(binary), "--list"], capture_output=True, text=True, check=True).stdout
    suite, names = None, []
    for line in out.splitlines():
        if not line.startswith(("├", "└", "│")):
            suite = line.split(":")[0].strip()
            continue
        names.append(f"{suite}/{line.lstrip('├└─│ ').strip()}")
    return names


def case_limit():
    """IPCPROOF_CASE_LIMIT as the harness reads it (seconds per case)."""
    try:
        return float(os.environ["IPCPROOF_CASE_LIMIT"])
    except (KeyError, ValueError):
        return CASE_LIMIT_S


def binary_bound(cases, jobs, time_scale):
    """Seconds one binary of `cases` cases may take before it counts as
    hung: every case's own limit fits in."""
    return 30 + cases * case_limit() * time_scale / max(jobs, 1)


def run_bound(binaries, jobs, time_scale):
    """The same for a run of several binaries (inside a slower kernel)."""
    total = 0.0
    for b in binaries:
        try:
            n = len(list_cases(b))
        except (OSError, subprocess.CalledProcessError):
            n = 100
        total += binary_bound(n, jobs, time_scale)
    return total


def run_binary(binary, jobs, env=None, prefix=(), log=None, time_scale=1.0, filter_=None,
               workdir=None):
    """Runs a case binary (behind an optional wrapper such as a sandbox) and
    returns ({case: raw result}, run facts).  A binary that hangs as a whole
    is killed at a bound that every case's own limit fits in.  The cases'
    temp files go below workdir (a private temp dir unless given)."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="ipcproof-run-") as tmp:
            return run_binary(binary, jobs, env, prefix, log, time_scale, filter_, tmp)
    binary = Path(binary)
    cases = list_cases(binary)
    bound = binary_bound(len(cases), jobs, time_scale)
    results = Path(workdir) / "results.jsonl"
    run_env = dict(os.environ, **(env or {}))
    run_env.update(IPCPROOF_RESULTS=str(results), IPCPROOF_TIME_SCALE=str(time_scale),
                   TMPDIR=str(workdir))
    cmd = [*prefix, str(binary), f"--jobs={jobs}", "--short-filename", "--ascii"]
    if filter_:
        cmd.append(f"--filter={filter_}")
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=run_env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=bound)
        hung = False
    except subprocess.TimeoutExpired:
        procs.sweep(proc.pid)
        output, _ = proc.communicate()
        hung = True
    procs.sweep(proc.pid)
    # Criterion's runner keeps its socket in /tmp whatever TMPDIR says, and
    # removes it only when it ends by itself.
    Path(f"/tmp/criterion_{proc.pid}.sock").unlink(missing_ok=True)
    facts = {"binary": binary.name, "exit_code": proc.returncode, "hung": hung,
             "wall_s": round(time.monotonic() - start, 3), "cases": cases}
    if log:
        Path(log).write_bytes(output)
    return parse_lines(results), facts


def parse_lines(path):
    """{case: result} from the harness's JSON lines; a torn last line (the
    binary was killed mid-write) is dropped."""
    out = {}
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return out
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(item, dict) and "case" in item:
            out[item["case"]] = item
    return out
