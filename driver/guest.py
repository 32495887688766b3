"""What every non-host target shares: the script that runs the cases inside
a kernel (guest-run.sh) and reading back what it wrote."""
import json
from pathlib import Path

from . import collect

SCRIPT = Path(__file__).resolve().parent / "guest-run.sh"


class Miss(Exception):
    """The kernel gave no results (could not be fetched, did not boot,
    panicked, hung): reported as `miss` with the reason and its log."""

    def __init__(self, reason, log=None, early=False):
        super().__init__(reason)
        # early: the kernel died before the cases started (worth a retry);
        # retries: the failed attempts before this one, for the kernel entry.
        self.reason, self.log, self.early, self.retries = reason, log, early, []


def read_outdir(outdir, kernel_id, runner):
    """(raw results, runs, kernel facts) from a guest-run.sh output dir;
    Miss if the run never started."""
    outdir = Path(outdir)
    try:
        facts = json.loads((outdir / "kernel.json").read_text())
    except (OSError, ValueError):
        raise Miss("the kernel produced no kernel.json: the run never started") from None
    runs = []
    runs_file = outdir / "runs.jsonl"
    if runs_file.exists():
        for line in runs_file.read_text(errors="replace").splitlines():
            try:
                runs.append(json.loads(line))
            except ValueError:
                pass
    complete = (outdir / "done").exists()
    kernel = {"id": kernel_id, "runner": runner, **facts, "complete": complete}
    return collect.parse_lines(outdir / "results.jsonl"), runs, kernel
