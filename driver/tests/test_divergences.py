"""Declared divergences that name the releases they cover, and intermittent
ones that are never an xpass."""
import pytest

from driver import divergences
from driver.errors import UserError

GVISOR = {"id": "gvisor", "runner": "gvisor", "release": "4.4.0", "package_version": "0.0~20221219.0-2+b3"}


def entries(*statuses):
    return [{"case": "mmap/x", "status": s} for s in statuses]


def test_a_version_glob_covers_only_the_releases_it_names():
    declared = [{"kernel": "gvisor", "case": "mmap/*", "reason": "r", "version": "0.0~20221219*"}]
    assert divergences.matching(declared, GVISOR, "mmap/x")
    newer = dict(GVISOR, package_version="0.0~20240311.0-1")
    assert divergences.matching(declared, newer, "mmap/x") is None
    assert [e["status"] for e in divergences.apply(declared, newer, entries("fail"))] == ["fail"]


def test_fixed_in_stops_matching_the_release_that_fixed_it_and_every_later_one():
    declared = [{"kernel": "debian-*", "case": "mmap/x", "reason": "r", "fixed_in": "6.1.0-10"}]
    older, fixed, later = ({"id": "debian-6.1", "runner": "qemu", "package_version": v}
                           for v in ("6.1.0-9", "6.1.0-10", "6.1.0-57"))
    assert divergences.matching(declared, older, "mmap/x")
    assert divergences.matching(declared, fixed, "mmap/x") is None
    assert divergences.matching(declared, later, "mmap/x") is None
    # a kernel with no package is judged by its release
    assert divergences.matching(declared, {"id": "debian-x", "release": "6.1.0-8-amd64"}, "mmap/x")


def test_an_intermittent_divergence_is_xfail_when_it_fails_and_a_pass_when_it_passes():
    declared = [{"kernel": "gvisor", "case": "mmap/x", "reason": "comes and goes", "intermittent": True}]
    got = divergences.apply(declared, GVISOR, entries("fail", "pass"))
    assert [e["status"] for e in got] == ["xfail", "pass"]
    assert got[1]["intermittent"] is True and got[1]["divergence"] == "comes and goes"
    steady = [dict(declared[0], intermittent=False)]
    assert [e["status"] for e in divergences.apply(steady, GVISOR, entries("pass"))] == ["xpass"]


def test_every_declaration_of_the_project_names_its_version_and_loads(tmp_path):
    declared = divergences.load()
    assert declared and all(d.get("version") or d.get("fixed_in") for d in declared
                            if d["kernel"] in ("gvisor", "uml"))
    bad = tmp_path / "d.toml"
    bad.write_text('[[divergence]]\nkernel = "uml"\ncase = "x"\nreason = "r"\nrelease = "6.1"\n')
    with pytest.raises(UserError, match="unknown key 'release'"):
        divergences.load(bad)
    bad.write_text('[[divergence]]\nkernel = "uml"\ncase = "x"\nreason = "r"\nintermittent = "yes"\n')
    with pytest.raises(UserError, match="intermittent"):
        divergences.load(bad)
    bad.write_text('[[divergence]]\nkernel = "uml"\ncase = "x"\nreason = "r"\nfixed_in = 6.1\n')
    with pytest.raises(UserError, match="fixed_in is a string"):
        divergences.load(bad)


def test_every_declaration_names_a_case_of_the_catalog():
    import fnmatch
    from driver import catalog
    cases = list(catalog.claim_of_case(catalog.load()))
    assert [d["case"] for d in divergences.load() if not fnmatch.filter(cases, d["case"])] == []
