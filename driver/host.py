"""The `host` target: the cases run directly on the running kernel."""
import os
import platform

from . import collect
from .targets import Target


def describe():
    return {"id": "host", "runner": "host", "release": platform.release(),
            "machine": platform.machine(), "page_size": os.sysconf("SC_PAGE_SIZE"),
            "version": platform.version()}


def ready():
    return True, "the running kernel"


def run(ctx):
    kernel = describe()
    raw, runs = {}, []
    for binary in ctx.binaries:
        got, facts = collect.run_binary(binary, ctx.jobs, log=ctx.logdir / f"host-{binary.name}.log",
                                        filter_=ctx.filter)
        raw.update(got)
        runs.append(facts)
    kernel["run_time_s"] = round(sum(r["wall_s"] for r in runs), 3)
    return raw, runs, kernel


def targets():
    return {"host": Target("host", "host", ready, run)}
