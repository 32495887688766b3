"""The kernels ipcproof knows, by name."""
from . import host
from .errors import UserError

TARGETS = {"host": host}


def resolve(names):
    """Target modules for a comma-separated list; unknown names are the
    user's error."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    if not wanted:
        raise UserError("no kernel named (--kernels host)")
    if wanted == ["all"]:
        return [t for t in TARGETS.values() if t.ready()[0]]
    unknown = [n for n in wanted if n not in TARGETS]
    if unknown:
        raise UserError(f"unknown kernel {unknown[0]!r}; known: {', '.join(TARGETS)}")
    return [TARGETS[n] for n in dict.fromkeys(wanted)]
