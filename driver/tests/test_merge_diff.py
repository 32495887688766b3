"""Merging results from several machines, and diffing against references."""
import json

from conftest import ROOT, ipcproof


def test_the_host_behaves_as_its_committed_reference(run):
    code, stdout, stderr = ipcproof("diff", ROOT / "reports" / "reference" / "host" / "results.json",
                                    run["out"] / "results.json")
    changes = [line for line in stdout.splitlines() if not line.startswith("note:")]
    assert changes == [] and code == 0, stdout


def changed_copy(doc, tmp_path):
    doc = json.loads(json.dumps(doc))
    doc["results"][0]["status"] = "fail"
    victim = next(r for r in doc["results"] if "pipe_capacity" in r["evidence"])
    victim["evidence"]["pipe_capacity"] = "4096"
    path = tmp_path / "new.json"
    path.write_text(json.dumps(doc))
    return path, doc["results"][0]["case"], victim["case"]


def test_diff_lists_each_status_and_evidence_change_and_exits_1(run, tmp_path):
    new, failed, shrunk = changed_copy(run["doc"], tmp_path)
    code, stdout, stderr = ipcproof("diff", run["out"] / "results.json", new)
    assert code == 1
    assert f"host {failed}: status pass -> fail" in stdout
    assert f"host {shrunk}: evidence pipe_capacity 65536 -> 4096" in stdout
    assert "2 behaviour changes" in stderr


def test_diff_ignores_evidence_that_varies_between_runs(run, tmp_path):
    doc = json.loads(json.dumps(run["doc"]))
    for r in doc["results"]:
        if "proc_fd_link" in r["evidence"]:
            r["evidence"]["proc_fd_link"] = "pipe:[1]"
    (tmp_path / "new.json").write_text(json.dumps(doc))
    assert ipcproof("diff", run["out"] / "results.json", tmp_path / "new.json")[0] == 0


def test_merge_keeps_same_named_kernels_from_two_machines_apart(run, tmp_path):
    for machine in ("ci-a", "ci-b"):
        doc = json.loads(json.dumps(run["doc"]))
        for k in doc["kernels"]:
            k["hostname"] = machine
        (tmp_path / machine).mkdir()
        (tmp_path / machine / "results.json").write_text(json.dumps(doc))
    code, _, stderr = ipcproof("merge", tmp_path / "ci-a", tmp_path / "ci-b", "--out", tmp_path / "merged")
    assert code == 0, stderr
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    assert [k["id"] for k in merged["kernels"]] == ["host", "host@ci-b"]
    assert len(merged["results"]) == 2 * len(run["doc"]["results"])
    assert {r["kernel"] for r in merged["results"]} == {"host", "host@ci-b"}


def test_merge_of_a_directory_without_results_is_one_clear_line(tmp_path):
    code, _, stderr = ipcproof("merge", tmp_path, "--out", tmp_path / "out")
    assert code == 2 and stderr.strip() == f"ipcproof: no results.json below {tmp_path}"


def test_kcidb_export_has_a_dotted_path_and_status_per_case(run):
    report = json.loads((run["out"] / "kcidb.json").read_text())
    assert report["version"]["major"] == 4
    tests = report["tests"]
    assert len(tests) == len(run["doc"]["results"])
    assert all(t["id"].startswith("ipcproof:") and t["origin"] == "ipcproof" for t in tests)
    assert {t["status"] for t in tests} == {"PASS"}
    paths = {t["path"] for t in tests}
    assert "ipcproof.pipe.write_to_full_pipe_blocks_until_a_read_makes_room@pipe" in paths
    assert {t["build_id"] for t in tests} == {b["id"] for b in report["builds"]}
    assert tests[0]["environment"]["comment"].startswith("host (host): Linux ")
