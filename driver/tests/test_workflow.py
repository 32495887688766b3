"""The CI-matrix example: a GitHub Actions workflow that runs ipcproof on
several runner images and merges their results into the job summary."""
import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ipcproof-matrix.yml"


def load():
    return yaml.safe_load(WORKFLOW.read_text())


def steps(job):
    return job["steps"]


def test_workflow_is_valid_yaml_with_a_run_matrix_and_a_merge_job():
    wf = load()
    assert set(wf["jobs"]) == {"run", "merge"}
    assert len(wf["jobs"]["run"]["strategy"]["matrix"]["os"]) >= 2
    assert wf["jobs"]["run"]["runs-on"] == "${{ matrix.os }}"
    assert wf["jobs"]["merge"]["needs"] == "run"


def test_each_machine_uploads_its_results_json():
    upload = [s for s in steps(load()["jobs"]["run"]) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload and upload[0]["with"]["path"].endswith("results.json")
    runs = " ".join(s.get("run", "") for s in steps(load()["jobs"]["run"]))
    assert "./ipcproof run --out" in runs


def test_merge_job_writes_the_markdown_report_to_the_job_summary():
    merge = steps(load()["jobs"]["merge"])
    assert any(s.get("uses", "").startswith("actions/download-artifact") for s in merge)
    script = " ".join(s.get("run", "") for s in merge)
    assert "./ipcproof merge artifacts --out merged" in script
    assert 'cat merged/report.md >> "$GITHUB_STEP_SUMMARY"' in script
