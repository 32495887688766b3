"""The claims catalog (cases/claims.toml): loading and checking it."""
import tomllib
from pathlib import Path

from .errors import UserError

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "cases" / "claims.toml"
NOTES = ROOT / "cases" / "notes" / "ipc-notes.md"

VERDICTS = ("holds", "refined", "refuted")
AREAS = ("pipe", "fifo", "mmap", "ipc")
REQUIRED = ("id", "area", "note", "statement", "truth", "note_verdict", "refs", "cases")
FRAGMENT_SEPARATOR = " … "


def load(path=CATALOG):
    """The claims, in catalog order; UserError when the file is unreadable."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise UserError(f"cannot read the catalog {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"the catalog {path} is not valid TOML: {e}") from None
    return data.get("claim", [])


def problems(claims, notes_text=None):
    """Everything wrong with the catalog itself, as sentences."""
    found = []
    seen_ids, seen_cases = set(), {}
    for i, claim in enumerate(claims):
        cid = claim.get("id", f"#{i + 1}")
        for field in REQUIRED:
            if not claim.get(field):
                found.append(f"{cid}: no {field}")
        if cid in seen_ids:
            found.append(f"{cid}: id used twice")
        seen_ids.add(cid)
        if claim.get("area") not in AREAS:
            found.append(f"{cid}: unknown area {claim.get('area')!r}")
        elif not cid.startswith(claim["area"] + "."):
            found.append(f"{cid}: id does not start with its area")
        verdict = claim.get("note_verdict")
        if verdict not in VERDICTS:
            found.append(f"{cid}: note_verdict {verdict!r} is not one of {VERDICTS}")
        elif verdict != "holds" and not claim.get("why"):
            found.append(f"{cid}: a {verdict} verdict needs a why")
        for case in claim.get("cases", []):
            if case in seen_cases:
                found.append(f"{case}: in both {seen_cases[case]} and {cid}")
            seen_cases[case] = cid
            if not case.startswith(claim.get("area", "") + "/"):
                found.append(f"{cid}: case {case} is not in area {claim.get('area')}")
        if notes_text is not None:
            for fragment in claim.get("note", "").split(FRAGMENT_SEPARATOR):
                if fragment.strip() not in notes_text:
                    found.append(f"{cid}: note words not in the notes: {fragment.strip()!r}")
    return found


def claim_of_case(claims):
    """{case: claim id}."""
    return {case: c["id"] for c in claims for case in c["cases"]}


def public(claim):
    """A claim as results.json carries it."""
    keys = ("id", "area", "note", "statement", "truth", "note_verdict", "why", "refs", "cases")
    return {k: claim.get(k, "") for k in keys}
