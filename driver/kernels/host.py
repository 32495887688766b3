"""The `host` kernel: the plan runs directly on the running kernel, from a
private work directory."""
import time

from .. import procs
from . import Kernel
from .sandbox import Workdir


def ready():
    return True, "the running kernel"


class Channel(Workdir):
    def __init__(self, ctx):
        super().__init__("host")

    def run(self, argv, limit):
        """In a session of its own, swept whatever happens."""
        start = time.monotonic()
        proc = procs.popen(argv, stdin=procs.subprocess.DEVNULL, stdout=procs.subprocess.DEVNULL,
                           stderr=procs.subprocess.DEVNULL, cwd=self.work)
        try:
            proc.wait(timeout=limit)
            hung = False
        except procs.subprocess.TimeoutExpired:
            hung = True
        finally:
            procs.sweep(proc.pid)
            proc.wait()
        return {"run_s": round(time.monotonic() - start, 3), "hung": hung}


def kernels():
    return {"host": Kernel("host", "host", ready, Channel)}
