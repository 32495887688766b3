"""Expected divergences (cases/divergences.toml): a kernel that may
legitimately differ from the catalog's truth on a case, and why.  Such a
result is reported as xfail (shown, not failing the run); a declared
divergence whose kernel behaves after all is reported as xpass.

A declaration may name the releases it covers, as gVisor's and UML's
behaviour changes between them: `version` (a glob on the kernel's package
version, else its release) and `fixed_in` (the first package version, else
release, that behaves: it and every later one no longer match), so a
declaration stops matching the release that fixed it.  `intermittent =
true` declares a divergence that comes and goes between runs: a failure is
an xfail, but a pass stays a pass (never an xpass, which would say the
declaration can go)."""
import fnmatch
import re
import tomllib

from .catalog import ROOT
from .errors import UserError

FILE = ROOT / "cases" / "divergences.toml"
REQUIRED = ("kernel", "case", "reason")
KNOWN = set(REQUIRED) | {"version", "fixed_in", "intermittent"}


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
        unknown = sorted(set(d) - KNOWN)
        if unknown:
            raise UserError(f"{path}: divergence #{i + 1} has an unknown key {unknown[0]!r}")
        if not isinstance(d.get("intermittent", False), bool):
            raise UserError(f"{path}: divergence #{i + 1}: intermittent is true or false")
        # globs and versions: a number or a table there would fail at matching
        wrong = [k for k in ("kernel", "case", "reason", "version", "fixed_in") if k in d and not isinstance(d[k], str)]
        if wrong:
            raise UserError(f"{path}: divergence #{i + 1}: {wrong[0]} is a string")
    return items


def natural(text):
    """Version order as dpkg's for the versions met here (6.1.0-9 before
    6.1.0-10, 0.0~20221219 before 0.0~20230101)."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", str(text)) if p]


def version_of(kernel):
    return str(kernel.get("package_version") or kernel.get("release") or "")


def covers_version(d, kernel):
    version = version_of(kernel)
    if "version" in d and not fnmatch.fnmatchcase(version, d["version"]):
        return False
    if "fixed_in" in d and version and natural(version) >= natural(d["fixed_in"]):
        return False
    return True


def of_kernel(divs, kernel):
    """The declarations covering this kernel (its id or its runner, as a
    glob, and its version), in their order."""
    return [d for d in divs if (fnmatch.fnmatchcase(kernel["id"], d["kernel"])
                                or fnmatch.fnmatchcase(kernel.get("runner", ""), d["kernel"]))
            and covers_version(d, kernel)]


def first_for(divs, case):
    """The first of divs whose case glob takes case, or None."""
    return next((d for d in divs if fnmatch.fnmatchcase(case, d["case"])), None)


def matching(divs, kernel, case):
    """The first declaration covering this kernel and case, or None."""
    return first_for(of_kernel(divs, kernel), case)


def apply(divs, kernel, entries):
    """Marks the entries of one kernel: fail/error/timeout under a
    declaration become xfail, pass becomes xpass; the reason goes along."""
    divs = of_kernel(divs, kernel)   # once, not for each of its results
    for e in entries:
        d = first_for(divs, e["case"])
        if d is None:
            continue
        if e["status"] in ("fail", "error", "timeout"):
            e["status"], e["observed_status"] = "xfail", e["status"]
        elif e["status"] == "pass" and d.get("intermittent"):
            e["intermittent"] = True
        elif e["status"] == "pass":
            e["status"] = "xpass"
        e["divergence"] = d["reason"]
    return entries
