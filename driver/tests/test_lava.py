"""The LAVA test definition, its script and the QEMU job template, checked
with LAVA's own validators (Debian's lava-common schemas, and lava-run's
--validate, which builds the dispatcher's whole pipeline for the device
without running it), and the script run here with stand-ins for LAVA's
lava-test-case and lava-test-set."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, fake_build
from driver import catalog
from driver.acquire import debs

LAVA = ROOT / "driver" / "lava"
DEFINITION = LAVA / "ipcproof.yaml"
SCRIPT = LAVA / "ipcproof-lava.sh"
TEMPLATE = LAVA / "qemu-debian-job.yaml.jinja2"
DEVICE = LAVA / "qemu-device.yaml"
URLS = dict(kernel_url="https://deb.example/vmlinuz", ramdisk_url="https://deb.example/initrd.cpio.gz",
            repository="https://git.example/ipcproof.git")


@pytest.fixture(scope="module")
def schemas():
    debs.ensure(["lava-common", "lava-dispatcher"], "validating the LAVA test definition and job")
    import lava_common.schemas
    import lava_common.schemas.test.testdef
    return lava_common.schemas


def render(**values):
    import jinja2
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return yaml.safe_load(env.from_string(TEMPLATE.read_text()).render(**values))


def test_the_test_definition_passes_lavas_validator(schemas):
    definition = yaml.safe_load(DEFINITION.read_text())
    schemas.test.testdef.validate(definition)
    # Strictly too: inline in a job, where no key outside LAVA's schema passes.
    job = render(**URLS, rootfs_url="", bindir="", revision="")
    job["actions"][-1]["test"]["definitions"] = [
        {"repository": definition, "from": "inline", "path": "inline/ipcproof.yaml", "name": "ipcproof"}]
    schemas.validate(job, strict=True)
    assert definition["run"]["steps"] == [
        'BINDIR="$BINDIR" AREAS="$AREAS" FILTER="$FILTER" TIME_SCALE="$TIME_SCALE" ./driver/lava/ipcproof-lava.sh']


@pytest.mark.parametrize("variant", [
    dict(rootfs_url="", bindir="/ipcproof/bin", revision=""),
    dict(rootfs_url="https://deb.example/debian-12.ext4", bindir="", revision="0123abc"),
])
def test_the_job_template_renders_jobs_lava_accepts(schemas, variant):
    job = render(**URLS, **variant)
    schemas.validate(job, strict=True)
    (test,) = job["actions"][-1]["test"]["definitions"]
    assert (test["path"], test["from"], test["repository"]) == ("driver/lava/ipcproof.yaml", "git", URLS["repository"])
    images = job["actions"][0]["deploy"]["images"]
    carrier = images["rootfs"] if variant["rootfs_url"] else images["ramdisk"]
    assert carrier["overlays"] == {"lava": True}
    assert ("skip_install" in test) == bool(variant["bindir"])


def test_the_validator_is_not_vacuous(schemas):
    from voluptuous import Invalid
    job = render(**URLS, rootfs_url="", bindir="", revision="")
    job["actions"][-1]["test"]["definitions"][0]["name"] = "has spaces"
    with pytest.raises(Invalid):
        schemas.validate(job, strict=True)
    with pytest.raises(Invalid):
        schemas.test.testdef.validate({"metadata": {"format": "Lava-Test Test Definition 2.0", "name": "x"}})


@pytest.mark.skipif(os.geteuid() != 0, reason="lava-run needs root")
def test_lava_run_validates_the_job_for_the_qemu_device(schemas, tmp_path):
    """The dispatcher's pipeline for this job on the device dictionary: every
    action's own checks, nothing booted."""
    (tmp_path / "vmlinuz").write_bytes(b"kernel")
    (tmp_path / "initrd.cpio.gz").write_bytes(b"\x1f\x8b")
    job = render(kernel_url=f"file://{tmp_path}/vmlinuz", ramdisk_url=f"file://{tmp_path}/initrd.cpio.gz",
                 repository=str(ROOT), rootfs_url="", bindir="/ipcproof/bin", revision="")
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job))
    job_id = str(os.getpid())
    try:
        done = subprocess.run(["lava-run", "--validate", "--job-id", job_id, "--output-dir", str(tmp_path / "out"),
                               "--device", str(DEVICE), str(tmp_path / "job.yaml")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
                              stdin=subprocess.DEVNULL)
    finally:
        # --validate leaves the dispatcher's work directory for the job behind.
        shutil.rmtree(Path("/var/lib/lava/dispatcher/tmp") / job_id, ignore_errors=True)
    results = [yaml.safe_load(line)["msg"] for line in done.stdout.splitlines()
               if line.startswith("{") and '"results"' in line]
    assert done.returncode == 0, "\n".join(str(r) for r in results) or done.stdout[-3000:]
    assert {"case": "validate", "definition": "lava", "result": "pass"} in results


@pytest.fixture
def lava_helpers(tmp_path):
    """lava-test-case and lava-test-set that write their arguments, one call
    a line, to calls.txt: what the device would signal to LAVA."""
    bin_ = tmp_path / "lava-bin"
    bin_.mkdir()
    calls = tmp_path / "calls.txt"
    for name in ("lava-test-case", "lava-test-set"):
        (bin_ / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n')
        (bin_ / name).chmod(0o755)
    return bin_, calls


def run_script(tmp_path, helpers, bindir, areas, **env):
    bin_, calls = helpers
    done = subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, PATH=f"{bin_}:{os.environ['PATH']}", BINDIR=str(bindir),
                                   AREAS=areas, OUT=str(tmp_path / "out"), TMPDIR=str(tmp_path), **env))
    assert done.returncode == 0, done.stderr
    return [line.split() for line in calls.read_text().splitlines()]


def ktap_results(path):
    """(case, ok, directive, {numeric evidence}) from a KTAP file, plainly."""
    out, evidence = [], {}
    for line in path.read_text().splitlines():
        if line.startswith("# evidence: "):
            k, _, v = line[12:].partition("=")
            if v.lstrip("-").replace(".", "", 1).isdigit():
                evidence[k] = v
        elif line.startswith(("ok ", "not ok ")):
            head, _, tail = line.partition(" # ")
            out.append((head.split(" ")[-1], not line.startswith("not"), tail.split(" ")[0] or None, evidence))
            evidence = {}
    return out


def test_the_script_reports_every_case_with_its_claim_and_measurements(tmp_path, bindir, lava_helpers):
    calls = run_script(tmp_path, lava_helpers, bindir, "pipe fifo")
    claims = catalog.claim_of_case(catalog.load())
    assert calls[0] == ["lava-test-set", "start", "pipe"] and ["lava-test-set", "stop"] in calls
    want = []
    for area in ("pipe", "fifo"):
        want.append(["lava-test-set", "start", area])
        for case, ok, directive, evidence in ktap_results(tmp_path / "out" / f"{area}.ktap"):
            name = f"{claims[case]}.{case.split('/')[1]}".replace("@", ".")
            want.append(["lava-test-case", name, "--result", "skip" if directive == "SKIP" else "pass" if ok else "fail"])
            want += [["lava-test-case", f"{name}.{k}", "--result", "pass", "--measurement", v] for k, v in evidence.items()]
        want += [["lava-test-case", f"{area}.complete", "--result", "pass"], ["lava-test-set", "stop"]]
    assert calls == want
    names = [c[1] for c in calls if c[0] == "lava-test-case" and "--measurement" not in c]
    assert len(names) == len(set(names)) == sum(1 for c in claims if c.split("/")[0] in ("pipe", "fifo")) + 2
    assert sum("--measurement" in c for c in calls) > 20


def test_failures_skips_and_a_crashed_binary_reach_lava(tmp_path, bindir, lava_helpers):
    """The harness's fixtures: failures and errors are fail, a skip is skip;
    a binary whose runner dies before its plan is complete is <area>.complete
    fail."""
    fake = fake_build(tmp_path, bindir) / "cases"
    calls = run_script(tmp_path, lava_helpers, fake, "pipe", FILTER="fixture/*", IPCPROOF_CASE_LIMIT="2")
    results = {c[1]: c[3] for c in calls if c[0] == "lava-test-case" and "--measurement" not in c}
    # each result carries the claim its case names (the fixtures name one of their own)
    assert results["fixture.harness.case_that_crashes_is_an_error"] == "fail"
    assert results["fixture.harness.case_that_hangs_is_timed_out"] == "fail"
    assert results["fixture.harness.skip_says_why"] == "skip"
    assert results["fixture.harness.child_exit_code_is_seen"] == "pass"
    assert results["pipe.complete"] == "pass"
    # A runner that ends half way: the plan is not met.
    (tmp_path / "calls.txt").unlink()
    half = tmp_path / "half"
    half.mkdir()
    (half / "pipe").write_text("#!/bin/sh\nprintf 'KTAP version 1\\n1..3\\nok 1 pipe/a\\n'\nkill -9 $$\n")
    (half / "pipe").chmod(0o755)
    calls = run_script(tmp_path, lava_helpers, half, "pipe")
    assert ["lava-test-case", "unclaimed.a", "--result", "pass"] in calls
    assert ["lava-test-case", "pipe.complete", "--result", "fail"] in calls


def test_outside_lava_the_script_says_so_in_one_line(tmp_path, bindir):
    done = subprocess.run(["sh", str(SCRIPT)], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, PATH="/usr/bin:/bin", BINDIR=str(bindir), OUT=str(tmp_path / "out")))
    assert done.returncode == 2
    assert done.stderr.strip() == "ipcproof-lava: lava-test-case is not on PATH (this runs inside a LAVA test shell)"
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="lava-run needs root")
def test_lava_run_boots_debian_under_qemu_and_the_pipe_cases_come_back(bindir, tmp_path):
    """One real LAVA job (driver/lava/e2e.py): lava-run boots Debian's 6.12
    kernel under QEMU with the test definition, and every pipe case comes
    back through lava-test-case as the committed reference has it."""
    done = subprocess.run(["/usr/bin/python3", "-m", "driver.lava.e2e", "--areas", "pipe", "--out", str(tmp_path),
                           "--timeout", "900"], cwd=ROOT, capture_output=True, text=True, timeout=1200,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 mismatches against reports/reference/all (debian-6.12)" in done.stderr
    from driver.lava import e2e
    cases, job = e2e.lava_results((tmp_path / "lava-run.log").read_text())
    assert {"case": "job", "definition": "lava", "result": "pass"} in [
        {k: j[k] for k in ("case", "definition", "result")} for j in job]
    plain = [c for c in cases if "measurement" not in c]
    assert len(plain) == len(e2e.expected(["pipe"])) + 1 and {c["set"] for c in cases} == {"pipe"}
    assert any(c["case"].endswith(".page_size") and float(c["measurement"]) == 4096.0 for c in cases)


def test_the_end_to_end_script_refuses_an_unknown_area_in_one_line():
    done = subprocess.run(["/usr/bin/python3", "-m", "driver.lava.e2e", "--areas", "pipe,pipes"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stderr) == (2, "ipcproof-lava: unknown area pipes; the areas: pipe fifo mmap ipc\n")
