"""The catalog is the spine: every claim has a case, every case a claim."""
import filecmp
import itertools
import json
import re
import subprocess
import tomllib

import pytest

from conftest import ROOT
from driver import catalog, collect
from driver.errors import UserError


@pytest.fixture(scope="module")
def claims():
    return catalog.load()


def test_catalog_has_no_problems(claims):
    notes = catalog.NOTES.read_text(encoding="utf-8")
    assert catalog.problems(claims, notes) == []


# The heading of the notes' list of methods: each method it introduces is a
# statement of its own, and every one of their claims quotes the heading.
LEAD_INS = {"内核提供的IPC方法有"}


def judged_spans(claims, notes):
    """(start, end, claim id) of every note fragment found once in the notes
    (a fragment as common as 不可以 locates nothing)."""
    spans = []
    for c in (c for c in claims if not catalog.is_beyond(c)):  # beyond the notes: no words to judge
        for fragment in c["note"].split(catalog.FRAGMENT_SEPARATOR):
            fragment = fragment.strip()
            starts = [m.start() for m in re.finditer(re.escape(fragment), notes)]
            if fragment not in LEAD_INS and len(starts) == 1:
                spans.append((starts[0], starts[0] + len(fragment), c["id"]))
    return sorted(spans)


def overlaps(claims, notes):
    """The pairs of claims that judge overlapping words, each pair sorted."""
    return sorted({tuple(sorted((a[2], b[2]))) for a, b in itertools.combinations(judged_spans(claims, notes), 2)
                   if b[0] < a[1] and a[2] != b[2]})


def test_no_two_claims_judge_the_same_words(claims):
    """One verdict per fragment of the notes, or one per distinct statement."""
    assert overlaps(claims, catalog.NOTES.read_text(encoding="utf-8")) == []


def test_two_claims_quoting_one_fragment_are_caught(claims):
    signal = next(c for c in claims if c.get("note") == "携带信息量最小的")
    twice = claims + [dict(signal, id="ipc.signal.again")]
    assert ("ipc.signal.again", signal["id"]) in overlaps(twice, catalog.NOTES.read_text(encoding="utf-8"))


def test_a_retired_id_is_never_used_again(claims):
    with open(catalog.CATALOG, "rb") as f:
        retired = {r["id"]: r["into"] for r in tomllib.load(f).get("retired", [])}
    ids = {c["id"] for c in claims}
    assert sorted(ids & retired.keys()) == []
    assert sorted(set(retired.values()) - ids) == []
    assert sorted({c["claim"] for c in catalog.case_sources()} & retired.keys()) == []


def built_cases(bindir):
    return {case for area in catalog.AREAS if (bindir / area).exists()
            for case in collect.list_cases(bindir / area)}


def test_every_built_case_has_a_claim(claims, bindir):
    known = set(catalog.claim_of_case(claims))
    assert sorted(built_cases(bindir) - known) == []


def test_every_claimed_case_is_built(claims, bindir):
    assert sorted(set(catalog.claim_of_case(claims)) - built_cases(bindir)) == []


def listed(bindir):
    """Every case as the built binaries describe themselves."""
    rows = []
    for area in catalog.AREAS:
        out = subprocess.run([str(bindir / area), "--ipcproof-list"], capture_output=True,
                             text=True, check=True).stdout
        rows += [json.loads(line) for line in out.splitlines()]
    return rows


def test_the_binaries_say_what_the_sources_say(bindir):
    """Claim, source line and variant of every case, read from the sources
    (what the catalog uses) and from the binaries (what runs), agree."""
    def key(r):
        return r["case"], r["claim"], r["source"], r["variant"]
    assert sorted(map(key, listed(bindir))) == sorted(map(key, catalog.case_sources()))


def test_a_case_naming_an_unknown_claim_or_another_area_is_a_problem(claims):
    fifo = next(c for c in claims if c["area"] == "fifo")
    sources = [{"case": "pipe/x", "area": "pipe", "claim": "pipe.no.such", "source": "a.c:1", "variant": None},
               {"case": "pipe/y", "area": "pipe", "claim": fifo["id"], "source": "a.c:9", "variant": None}]
    found = catalog.problems(claims, sources=sources)
    assert "a.c:1: pipe/x names no claim of the catalog: 'pipe.no.such'" in found
    assert f"a.c:9: pipe/y is in area pipe but its claim {fifo['id']} is in fifo" in found


def test_a_claim_whose_cases_are_gone_is_a_problem(claims):
    found = catalog.problems(catalog.load(sources=[]), sources=[])
    assert f"{claims[0]['id']}: no cases" in found


def test_a_hand_kept_cases_list_is_a_problem(tmp_path, claims):
    toml = catalog.CATALOG.read_text(encoding="utf-8") + '\n[[claim]]\nid = "pipe.x.y"\ncases = ["pipe/a"]\n'
    (tmp_path / "claims.toml").write_text(toml, encoding="utf-8")
    found = catalog.problems(catalog.load(tmp_path / "claims.toml"))
    assert any("pipe.x.y: a cases list in claims.toml" in p for p in found)


def test_where_names_each_case_and_its_line():
    rows = catalog.where("pipe.read.eof-after-writers-close")
    cases = [case for case, _ in rows]
    assert "pipe/read_drains_queued_bytes_before_returning_zero@fifo" in cases
    for case, source in rows:
        path, line = source.rsplit(":", 1)
        text = (ROOT / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
        assert text.startswith("CASE") and case.split("/")[1].split("@")[0] in text


def test_where_refuses_an_unknown_claim_with_a_hint():
    with pytest.raises(UserError, match="no claim 'pipe.read.eof' .*pipe.read.eof-after-writers-close"):
        catalog.where("pipe.read.eof")


def test_the_notes_copy_is_the_shared_notes():
    shared = ROOT.parent / "shared" / "notes" / "ipc-notes.md"
    if not shared.exists():
        pytest.skip("no shared/ beside this checkout")
    assert filecmp.cmp(shared, catalog.NOTES, shallow=False)


def test_problems_catches_a_claim_without_case_and_a_case_in_two_claims(claims):
    broken = [dict(claims[0], cases=[]), dict(claims[1], id=claims[1]["id"] + "-copy"), claims[1]]
    found = catalog.problems(broken)
    assert f"{claims[0]['id']}: no cases" in found
    assert any("in both" in p for p in found)


def test_problems_catches_note_words_that_are_not_in_the_notes(claims):
    fake = dict(claims[0], note="管道是全双工的")
    assert any("note words not in the notes" in p for p in catalog.problems([fake], "notes text"))


def test_claims_beyond_the_notes_come_from_their_own_file_and_judge_no_note(claims):
    beyond = [c for c in claims if catalog.is_beyond(c)]
    notes_only = catalog.load(beyond=None)
    assert len(beyond) >= 40 and len(notes_only) == len(claims) - len(beyond)
    assert not any(catalog.is_beyond(c) for c in notes_only)
    for c in beyond:
        assert c["source"] == "man" and c["refs"] and c["cases"], c["id"]
        assert not {"note", "note_verdict", "why"} & c.keys(), c["id"]
        assert all(case.split("/")[1].split("@")[0] for case in c["cases"])
    sources = {s["case"]: s["source"] for s in catalog.case_sources()}
    for c in beyond:
        for case in c["cases"]:
            assert sources[case].split("/")[-1].startswith("beyond_"), case


def test_a_beyond_claim_with_a_note_or_without_refs_is_a_problem(claims):
    beyond = next(c for c in claims if catalog.is_beyond(c))
    found = catalog.problems([dict(beyond, note="管道", note_verdict="holds"), dict(beyond, id=beyond["id"] + "-x", refs=[])])
    assert f"{beyond['id']}: a claim beyond the notes has no note (there is no note to judge)" in found
    assert f"{beyond['id']}: a claim beyond the notes has no note_verdict (there is no note to judge)" in found
    assert f"{beyond['id']}-x: no refs" in found
    unknown = catalog.problems([dict(beyond, source="blog")])
    assert any("source 'blog' is not one of" in p for p in unknown)


def test_a_notes_claim_still_needs_its_note_and_verdict(claims):
    noted = dict(claims[0])
    del noted["note"]
    found = catalog.problems([noted])
    assert f"{noted['id']}: no note" in found


def test_an_id_in_both_catalog_files_is_a_problem(tmp_path, claims):
    beyond = next(c for c in claims if catalog.is_beyond(c))
    toml = catalog.BEYOND.read_text(encoding="utf-8") + (
        f'\n[[claim]]\nid = "{claims[0]["id"]}"\narea = "pipe"\nsource = "man"\n'
        'statement = "s"\ntruth = "t"\nrefs = ["pipe(7)"]\n')
    (tmp_path / "beyond.toml").write_text(toml, encoding="utf-8")
    found = catalog.problems(catalog.load(beyond=tmp_path / "beyond.toml"))
    assert f"{claims[0]['id']}: id used twice" in found
    assert beyond["id"] not in " ".join(found)


def test_claims_lists_the_beyond_claims_with_their_source():
    from conftest import ipcproof
    code, out, err = ipcproof("claims", "--area", "fifo")
    assert code == 0, err
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert rows["fifo.nonblock.write-eagain-when-full"] == "man"
    assert rows["fifo.open.read-side"] in catalog.VERDICTS
