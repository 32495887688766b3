"""The order kernels start in: the slowest first.  Two cores run two kernels
at a time; a slow emulated guest started last would run alone at the end
while the other core idles.  A kernel's cost is what its last full run took
on this machine (kept in the cache), else a guess from its time scale."""
import json
from pathlib import Path

from . import fsutil
from .errors import UserError
from .kernels import time_scale

TIMES = "run-times.json"
GUESS_S = 5     # seconds per unit of time scale, for a kernel never timed here (roughly what TCG guests take)


def seen(cache):
    """{kernel: seconds} from the last runs; nothing from a bad file."""
    try:
        data = json.loads((Path(cache) / TIMES).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: float(v) for k, v in data.items()
            if isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e6}


def slowest_first(kernels, cache):
    took = seen(cache)
    return sorted(kernels, key=lambda k: -took.get(k.name, GUESS_S * time_scale(k)))


def remember(outcomes, cache, complete):
    """Each kernel's boot and run time, from a run of every case (complete):
    a filtered run says nothing of a full one.  Best effort: the cache may
    be read-only."""
    if not complete or not Path(cache).is_dir():
        return
    took = seen(cache)
    for o in outcomes:
        k = o.kernel
        if k.get("status") == "ran" and isinstance(k.get("run_time_s"), (int, float)):
            took[k["id"]] = round(k["run_time_s"] + (k.get("boot_s") or 0), 1)
    try:
        fsutil.write_atomic(Path(cache) / TIMES, json.dumps(took, indent=1, sort_keys=True) + "\n")
    except (UserError, OSError):   # a cache that cannot be written costs only the order
        pass
