"""The claims catalog (cases/claims.toml, the notes' claims, and
cases/beyond.toml, claims from the man pages beyond the notes' sentences):
loading and checking it.

The catalog keeps the prose; which cases check a claim is written once, in
the C code (`CASE(area, name, "claim.id")`), and derived here from the
sources rather than from the built binaries: the catalog is read where
nothing is built (`claims`, `report`, `merge`) and for kernels whose
binaries cannot run on this machine (arm64).  The project's tests check
that the sources' list is the built binaries' own (`--ipcproof-list`)."""
import re
import tomllib
from pathlib import Path

from .errors import UserError

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "cases" / "claims.toml"
BEYOND = ROOT / "cases" / "beyond.toml"
NOTES = ROOT / "cases" / "notes" / "ipc-notes.md"
SOURCES = ROOT / "cases"

VERDICTS = ("holds", "refined", "refuted")
# cases/areas lists them, once for the whole project (CMake and the LAVA
# script read it too).
AREAS = tuple(line.strip() for line in (ROOT / "cases" / "areas").read_text().splitlines()
              if line.strip() and not line.startswith("#"))
REQUIRED = ("id", "area", "note", "statement", "truth", "note_verdict", "refs", "cases")
# A claim beyond the notes has no note to judge: it says where it comes from.
BEYOND_SOURCES = ("man",)
BEYOND_REQUIRED = ("id", "area", "source", "statement", "truth", "refs", "cases")
BEYOND_FORBIDDEN = ("note", "note_verdict", "why")
FRAGMENT_SEPARATOR = " … "
# CASE(area, name, "claim") or CASE_F(area, name, "claim", fixture, variant, ...):
# one case, or one case per variant named name@variant.
CASE_MACRO = re.compile(r'^CASE(_F)?\(\s*(\w+)\s*,\s*(\w+)\s*,\s*"([^"]*)"'
                        r'((?:\s*,\s*(?:\w+|NEEDS\("[^"]*"\)))*)\s*\)', re.M)
NEEDS_MACRO = re.compile(r'NEEDS\("([^"]*)"\)')


def case_sources(root=SOURCES):
    """Every case written in the area sources, in file and line order:
    [{case, area, claim, source: "cases/<area>/<file>.c:<line>", variant,
    needs}] (needs: the case's own, declared with NEEDS; a variant's are in
    the binary's listing)."""
    found = []
    for path in sorted(root.glob("*/*.c")):
        if path.parent.name not in AREAS or path.name.startswith("peer-"):
            continue
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(root.parent).as_posix()
        for m in CASE_MACRO.finditer(text):
            fixture, area, name, claim, rest = m.groups()
            line = text.count("\n", 0, m.start()) + 1
            needs = [n for m in NEEDS_MACRO.findall(rest) for n in m.split()]
            args = [a.strip() for a in NEEDS_MACRO.sub("", rest).split(",")[1:]]
            variants = args[1:] if fixture else [None]
            for v in variants:
                found.append({"case": f"{area}/{name}" + (f"@{v}" if v else ""), "area": area,
                              "claim": claim, "source": f"{rel}:{line}", "variant": v,
                              "needs": needs})
    return found


def read_toml(path):
    """The [[claim]] tables of one catalog file; UserError when unreadable."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f).get("claim", [])
    except OSError as e:
        raise UserError(f"cannot read the catalog {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"the catalog {path} is not valid TOML: {e}") from None


def load(path=CATALOG, sources=None, beyond=BEYOND):
    """The claims, in catalog order (the notes' own, then those beyond
    them; beyond=None: the notes' only), each with the cases that name it
    (from sources, default: the area sources); UserError when a file is
    unreadable."""
    claims = read_toml(path) + (read_toml(beyond) if beyond is not None else [])
    cases = {}
    for c in case_sources() if sources is None else sources:
        cases.setdefault(c["claim"], []).append(c["case"])
    for claim in claims:
        if "cases" in claim:
            claim["cases_in_toml"] = claim["cases"]
        claim["cases"] = cases.get(claim.get("id"), [])
    return claims


def is_beyond(claim):
    """A claim beyond the notes' sentences (it has a source, not a note)."""
    return "source" in claim and bool(claim["source"])


def problems(claims, notes_text=None, sources=None):
    """Everything wrong with the catalog and the cases' claims, as
    sentences; sources: the cases (default: the area sources)."""
    found = []
    seen_ids, seen_cases = set(), {}
    for i, claim in enumerate(claims):
        cid = claim.get("id", f"#{i + 1}")
        found += claim_problems(cid, claim, notes_text)
        if cid in seen_ids:
            found.append(f"{cid}: id used twice")
        seen_ids.add(cid)
        for case in claim.get("cases", []):
            if case in seen_cases:
                found.append(f"{case}: in both {seen_cases[case]} and {cid}")
            seen_cases[case] = cid
            if not case.startswith(claim.get("area", "") + "/"):
                found.append(f"{cid}: case {case} is not in area {claim.get('area')}")
    return found + source_problems(claims, case_sources() if sources is None else sources)


def claim_problems(cid, claim, notes_text):
    """What is wrong with one claim by itself: its fields, its area, its
    verdict, its note's words."""
    beyond = is_beyond(claim)
    found = [f"{cid}: no {field}" for field in (BEYOND_REQUIRED if beyond else REQUIRED) if not claim.get(field)]
    if beyond:
        if claim["source"] not in BEYOND_SOURCES:
            found.append(f"{cid}: source {claim['source']!r} is not one of {BEYOND_SOURCES}")
        found += [f"{cid}: a claim beyond the notes has no {field} (there is no note to judge)"
                  for field in BEYOND_FORBIDDEN if field in claim]
    if claim.get("area") not in AREAS:
        found.append(f"{cid}: unknown area {claim.get('area')!r}")
    elif not cid.startswith(claim["area"] + "."):
        found.append(f"{cid}: id does not start with its area")
    if "cases_in_toml" in claim:
        found.append(f"{cid}: a cases list in claims.toml (the cases name their claim in the C code)")
    verdict = claim.get("note_verdict")
    if not beyond and verdict not in VERDICTS:
        found.append(f"{cid}: note_verdict {verdict!r} is not one of {VERDICTS}")
    elif not beyond and verdict != "holds" and not claim.get("why"):
        found.append(f"{cid}: a {verdict} verdict needs a why")
    if notes_text is not None and not beyond:
        found += [f"{cid}: note words not in the notes: {fragment.strip()!r}"
                  for fragment in claim.get("note", "").split(FRAGMENT_SEPARATOR) if fragment.strip() not in notes_text]
    return found


def source_problems(claims, sources):
    """Cases whose claim is not in the catalog, or in another area."""
    found = []
    areas = {c.get("id"): c.get("area") for c in claims}
    for case in sources:
        where = f"{case['source']}: {case['case']}"
        if case["claim"] not in areas:
            found.append(f"{where} names no claim of the catalog: {case['claim']!r}")
        elif case["area"] != areas[case["claim"]]:
            found.append(f"{where} is in area {case['area']} but its claim "
                         f"{case['claim']} is in {areas[case['claim']]}")
    return found


def where(claim_id, claims=None, sources=None):
    """[(case, source)] of one claim; UserError for an unknown id."""
    claims = load() if claims is None else claims
    if claim_id not in {c["id"] for c in claims}:
        near = sorted(c["id"] for c in claims if claim_id in c["id"])
        hint = f"; did you mean {', '.join(near[:3])}?" if near else ""
        raise UserError(f"no claim {claim_id!r} in the catalog{hint}")
    return [(c["case"], c["source"]) for c in (case_sources() if sources is None else sources)
            if c["claim"] == claim_id]


def claim_of_case(claims):
    """{case: claim id}."""
    return {case: c["id"] for c in claims for case in c["cases"]}


def public(claim):
    """A claim as results.json carries it; one beyond the notes has an
    empty note and note_verdict, and its source."""
    keys = ("id", "area", "note", "statement", "truth", "note_verdict", "why", "refs", "cases")
    out = {k: claim.get(k, "") for k in keys}
    if is_beyond(claim):
        out["source"] = claim["source"]
    return out
