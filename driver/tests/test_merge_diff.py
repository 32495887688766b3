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
    assert report["version"]["major"] == 5
    tests = report["tests"]
    assert len(tests) == len(run["doc"]["results"])
    assert all(t["id"].startswith("ipcproof:") and t["origin"] == "ipcproof" for t in tests)
    skipped = {f"ipcproof:host:{r['case']}" for r in run["doc"]["results"] if r["status"] == "skip"}
    assert {t["id"] for t in tests if t["status"] == "SKIP"} == skipped
    assert {t["status"] for t in tests if t["id"] not in skipped} == {"PASS"}
    paths = {t["path"] for t in tests}
    assert "ipcproof.pipe.write_to_full_pipe_blocks_until_a_read_makes_room.pipe" in paths  # the variant a node
    assert {t["build_id"] for t in tests} == {b["id"] for b in report["builds"]}
    assert tests[0]["environment"]["comment"].startswith("host (host): Linux ")


def with_wchan_changed(path):
    doc = json.loads(path.read_text())
    blocked = next(r for r in doc["results"] if "wchan" in r["evidence"])
    blocked["evidence"]["wchan"] = "some_other_function"
    path.write_text(json.dumps(doc))
    return blocked["case"]


def test_how_a_case_observed_the_kernel_is_a_note_not_a_change(run, tmp_path):
    (tmp_path / "new.json").write_text(json.dumps(run["doc"]))
    case = with_wchan_changed(tmp_path / "new.json")
    code, stdout, stderr = ipcproof("diff", run["out"] / "results.json", tmp_path / "new.json")
    assert code == 0 and "0 behaviour changes" in stderr
    assert f"note: host {case}: observed wchan " in stdout


def test_diff_out_writes_the_behaviour_changes_as_a_page(run, tmp_path):
    new, failed, shrunk = changed_copy(run["doc"], tmp_path)
    blocked = with_wchan_changed(new)
    code, stdout, stderr = ipcproof("diff", run["out"] / "results.json", new, "--out", tmp_path / "page")
    assert code == 1 and "2 behaviour changes" in stderr
    page = (tmp_path / "page" / "diff.html").read_text()
    assert "<script" not in page and "<link" not in page
    changes, observed = page.split('<details id="observation">')
    assert "2 behaviour changes" in changes
    assert f'data-kernel="host" data-case="{failed}"' in changes
    assert f'data-case="{shrunk}"' in changes and "<mark>4096</mark>" in changes and "65536" in changes
    assert "some_other_function" not in changes and blocked in observed and "some_other_function" in observed
    ipcproof("diff", run["out"] / "results.json", new, "--out", tmp_path / "zh", "--lang", "zh")
    assert "2 处行为变化" in (tmp_path / "zh" / "diff.html").read_text()


def test_diff_without_out_writes_nothing(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    new, _, _ = changed_copy(run["doc"], tmp_path)
    assert ipcproof("diff", run["out"] / "results.json", new)[0] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json"]
