"""kcidb.json against the published KCIDB schemas (v5.3 by default, v4.3
with --kcidb-schema v4), validated with Debian's python3-jsonschema, format
checking on. The schemas are in shared/ beside the checkout (CI has a copy
there): a missing schema is an error, not a skip."""
import copy
import json
import os
from pathlib import Path

import pytest

from conftest import ROOT, ipcproof
from driver.reports import kcidb as report_kcidb
from driver.acquire import debs

# IPCPROOF_SCHEMAS: for a checkout that is not beside shared/, e.g. a git worktree.
SCHEMAS = Path(os.environ.get("IPCPROOF_SCHEMAS") or ROOT.parent / "shared" / "schemas")
FILES = {"v5": "kcidb-v05.03.schema.json", "v4": "kcidb-v04.03.schema.json"}


@pytest.fixture(scope="module")
def validators():
    debs.ensure(["python3-jsonschema"], "validating kcidb.json against the KCIDB schemas")
    import jsonschema
    out = {}
    for version, name in FILES.items():
        path = SCHEMAS / name
        assert path.is_file(), f"the KCIDB schema {path} is missing (shared/ must sit beside the checkout, or IPCPROOF_SCHEMAS name it)"
        schema = json.loads(path.read_text())
        jsonschema.Draft7Validator.check_schema(schema)
        out[version] = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    return out


def errors(validator, report):
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in validator.iter_errors(report)]


def reference():
    return json.loads((ROOT / "reports" / "reference" / "all" / "results.json").read_text())


@pytest.mark.parametrize("version", ["v5", "v4"])
def test_a_run_exports_kcidb_that_the_published_schema_accepts(run, tmp_path, validators, version):
    code, _, stderr = ipcproof("report", run["out"] / "results.json", "--out", tmp_path,
                               "--kcidb-schema", version)
    assert code == 0, stderr
    report = json.loads((tmp_path / "kcidb.json").read_text())
    assert report["version"] == report_kcidb.VERSION[version]
    assert errors(validators[version], report) == []
    assert len(report["tests"]) == len(run["doc"]["results"]) > 100


def test_v5_is_the_default(run, validators):
    report = json.loads((run["out"] / "kcidb.json").read_text())
    assert report["version"] == {"major": 5, "minor": 3}
    assert errors(validators["v5"], report) == []
    assert {b["status"] for b in report["builds"]} == {"PASS"}
    assert all("waived" not in t for t in report["tests"])


def test_declared_divergences_are_issues_and_incidents_in_v5_and_waived_in_v4(validators):
    doc = reference()
    v5 = json.loads(report_kcidb.render(doc, "v5"))
    v4 = json.loads(report_kcidb.render(doc, "v4"))
    assert errors(validators["v5"], v5) == [] and errors(validators["v4"], v4) == []
    declared = {f"ipcproof:{r['kernel']}:{r['case']}": r for r in doc["results"] if r["status"] in ("xfail", "xpass")}
    assert declared  # the reference holds declared divergences (gVisor, UML)
    assert {i["test_id"]: i["present"] for i in v5["incidents"]} == {
        k: r["status"] == "xfail" for k, r in declared.items()}
    issues = {i["id"]: i for i in v5["issues"]}
    for incident in v5["incidents"]:
        assert issues[incident["issue_id"]]["comment"] == declared[incident["test_id"]]["divergence"]
    assert {t["id"] for t in v4["tests"] if t["waived"]} == set(declared)


def test_a_missed_kernel_is_a_missed_build_and_missed_tests():
    doc = reference()
    doc["kernels"][1] = dict(doc["kernels"][1], status="miss", miss_reason="did not boot")
    doc["results"] = [r for r in doc["results"] if r["kernel"] != doc["kernels"][1]["id"]]
    report = json.loads(report_kcidb.render(doc, "v5"))
    build = next(b for b in report["builds"] if b["id"] == f"ipcproof:{doc['kernels'][1]['id']}")
    assert build["status"] == "MISS"
    assert {t["status"] for t in report["tests"] if t["build_id"] == build["id"]} == {"MISS"}


@pytest.mark.parametrize("version", ["v5", "v4"])
def test_the_validators_are_not_vacuous(validators, version):
    """A wrong status, and an e-mail that is none: format checking is on."""
    report = json.loads(report_kcidb.render(reference(), version))
    bad = copy.deepcopy(report)
    bad["tests"][0]["status"] = "XFAIL"
    assert any("XFAIL" in e for e in errors(validators[version], bad))
    bad = copy.deepcopy(report)
    bad["checkouts"][0]["message_id"] = "not an e-mail address"
    assert any("is not a 'email'" in e for e in errors(validators[version], bad))


def test_an_unknown_schema_is_one_clear_line(run, tmp_path):
    code, _, stderr = ipcproof("report", run["out"] / "results.json", "--out", tmp_path, "--kcidb-schema", "v3")
    assert code == 2 and "invalid choice: 'v3'" in stderr
    assert "Traceback" not in stderr and not (tmp_path / "kcidb.json").exists()
