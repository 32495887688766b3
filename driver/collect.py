"""What the driver knows of a case binary without running its cases: its
cases (Criterion's --list), its time bound, and reading its result lines."""
import os
import subprocess
from pathlib import Path

from . import validate


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


def parse_lines(path):
    """{case: result} from the harness's JSON lines; a torn last line (the
    binary was killed mid-write) is dropped.  A line that parses but breaks
    the contract (a wrong type, a case named twice, a control character in
    a name) raises validate.Bad: what sent it cannot be trusted."""
    out = {}
    for item in validate.json_lines(path, validate.CASE, ("case", "status")):
        if item["case"] in out:
            raise validate.Bad(f"{Path(path).name} names {validate.term(item['case'])} twice")
        out[item["case"]] = item
    return out
