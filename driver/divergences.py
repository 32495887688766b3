"""Expected divergences (cases/divergences.toml): a kernel that may
legitimately differ from the catalog's truth on a case, and why.  Such a
result is reported as xfail (shown, not failing the run); a declared
divergence whose kernel behaves after all is reported as xpass."""
import fnmatch
import tomllib

from .catalog import ROOT
from .errors import UserError

FILE = ROOT / "cases" / "divergences.toml"
REQUIRED = ("kernel", "case", "reason")


def load(path=FILE):
    try:
        with open(path, "rb") as f:
            items = tomllib.load(f).get("divergence", [])
    except FileNotFoundError:
        return []
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise UserError(f"cannot read the divergences file {path}: {e}") from None
    for i, d in enumerate(items):
        missing = [k for k in REQUIRED if not d.get(k)]
        if missing:
            raise UserError(f"{path}: divergence #{i + 1} has no {missing[0]}")
    return items


def matching(divs, kernel, case):
    """The declaration covering this kernel (its id or its runner, as a
    glob) and case (a glob), or None."""
    for d in divs:
        if (fnmatch.fnmatchcase(kernel["id"], d["kernel"]) or fnmatch.fnmatchcase(kernel.get("runner", ""), d["kernel"])) \
                and fnmatch.fnmatchcase(case, d["case"]):
            return d
    return None


def apply(divs, kernel, entries):
    """Marks the entries of one kernel: fail/error/timeout under a
    declaration become xfail, pass becomes xpass; the reason goes along."""
    for e in entries:
        d = matching(divs, kernel, e["case"])
        if d is None:
            continue
        if e["status"] in ("fail", "error", "timeout"):
            e["status"], e["observed_status"] = "xfail", e["status"]
        elif e["status"] == "pass":
            e["status"] = "xpass"
        e["divergence"] = d["reason"]
    return entries
