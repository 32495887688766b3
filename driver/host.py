"""The `host` target: the cases run directly on the running kernel."""
import os
import platform

from . import collect

RUNNER = "host"


def describe():
    return {"id": "host", "runner": RUNNER, "release": platform.release(),
            "machine": platform.machine(), "page_size": os.sysconf("SC_PAGE_SIZE"),
            "version": platform.version()}


def ready():
    """(can it run here, why not)."""
    return True, "the running kernel"


def run(binaries, jobs, logdir, filter_=None):
    """{case: raw result}, kernel facts."""
    kernel = describe()
    raw, runs = {}, []
    for binary in binaries:
        got, facts = collect.run_binary(binary, jobs, log=logdir / f"host-{binary.name}.log",
                                        filter_=filter_)
        raw.update(got)
        runs.append(facts)
    kernel["run_time_s"] = round(sum(r["wall_s"] for r in runs), 3)
    return raw, runs, kernel
