"""junit.xml as CI tools read it: Debian's python3-junitparser (the parser
behind several CI annotation and summary tools) reads every suite and
case, and what it reads matches results.json."""
import copy
import json

import pytest

from conftest import ROOT, fake_build, ipcproof
from driver.acquire import debs

# What each status must be to a JUnit reader: the result element, or None
# for a passed case (a declared divergence is not a CI failure).
EXPECTED = {"pass": None, "xfail": None, "xpass": None, "fail": "Failure", "error": "Error",
            "timeout": "Error", "skip": "Skipped"}


@pytest.fixture(scope="module")
def junitparser():
    debs.ensure(["python3-junitparser"], "reading junit.xml as CI tools do")
    import junitparser
    return junitparser


def check(junitparser, path, doc):
    """Every suite's counts are what its cases say; every result is read
    back as results.json has it. Returns the statuses seen."""
    xml = junitparser.JUnitXml.fromfile(str(path))
    cases = {}
    for suite in xml:
        declared = (suite.tests, suite.failures, suite.errors, suite.skipped)
        recount = copy.deepcopy(suite)
        recount.update_statistics()
        assert declared == (recount.tests, recount.failures, recount.errors, recount.skipped), suite.name
        # each case's time is rounded to the millisecond on its own
        assert abs(suite.time - recount.time) <= 0.0005 * max(suite.tests, 1) + 1e-6, suite.name
        for case in suite:
            assert case.classname == suite.name
            cases[f"{suite.name}/{case.name}"] = case
    assert len(cases) == len(doc["results"])
    seen = set()
    for r in doc["results"]:
        area, _, name = r["case"].partition("/")
        case = cases[f"{r['kernel']}.{area}/{name}"]
        kinds = [type(x).__name__ for x in case.result]
        assert kinds == ([EXPECTED[r["status"]]] if EXPECTED[r["status"]] else []), (r["case"], kinds)
        assert case.is_passed == (EXPECTED[r["status"]] is None)
        assert case.time == pytest.approx(r["duration_s"], abs=1e-6)
        assert case.system_out.splitlines()[0] == f"claim={r['claim']}"
        for x in case.result:
            assert x.type == r["status"] and x.message == r["message"].split("\n")[0][:500]
        seen.add(r["status"])
    return seen


def test_a_runs_junit_parses_and_matches_its_results(run, junitparser):
    assert check(junitparser, run["out"] / "junit.xml", run["doc"]) >= {"pass"}


def test_failures_errors_timeouts_and_skips_are_read_as_such(tmp_path, bindir, junitparser):
    code, _, stderr = ipcproof("run", "--areas", "pipe", "--no-build", "--filter", "fixture/*",
                               "--out", tmp_path / "out",
                               env={"IPCPROOF_BUILD": str(fake_build(tmp_path, bindir)), "IPCPROOF_CASE_LIMIT": "2"})
    assert code == 1, stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    assert check(junitparser, tmp_path / "out" / "junit.xml", doc) == {"pass", "fail", "error", "timeout", "skip"}


def test_every_kernel_of_the_reference_with_declared_divergences(tmp_path, junitparser):
    doc = json.loads((ROOT / "reports" / "reference" / "all" / "results.json").read_text())
    # a declaration whose kernel behaved after all (the reference has none now)
    xfail = next(r for r in doc["results"] if r["status"] == "xfail")
    xfail["status"] = "xpass"
    del xfail["observed_status"]
    (tmp_path / "in.json").write_text(json.dumps(doc))
    code, _, stderr = ipcproof("report", tmp_path / "in.json", "--out", tmp_path / "out")
    assert code == 0, stderr
    seen = check(junitparser, tmp_path / "out" / "junit.xml", doc)
    assert seen == {"pass", "skip", "xfail", "xpass"}
