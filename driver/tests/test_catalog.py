"""The catalog is the spine: every claim has a case, every case a claim."""
import filecmp

import pytest

from conftest import ROOT
from driver import catalog, collect


@pytest.fixture(scope="module")
def claims():
    return catalog.load()


def test_catalog_has_no_problems(claims):
    notes = catalog.NOTES.read_text(encoding="utf-8")
    assert catalog.problems(claims, notes) == []


def built_cases(bindir):
    return {case for area in catalog.AREAS if (bindir / area).exists()
            for case in collect.list_cases(bindir / area)}


def test_every_built_case_has_a_claim(claims, bindir):
    known = set(catalog.claim_of_case(claims))
    assert sorted(built_cases(bindir) - known) == []


def test_every_claimed_case_is_built(claims, bindir):
    assert sorted(set(catalog.claim_of_case(claims)) - built_cases(bindir)) == []


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
