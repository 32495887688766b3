"""Faults of the environment: a binary that cannot run, a full disk, an
interrupted run. One clear line, a non-zero exit, nothing half-written,
nothing left running."""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ROOT, alive, fake_build, ipcproof
from driver import procs
from driver.acquire import debs
from driver.errors import UserError


def test_a_case_binary_that_is_not_executable(tmp_path, bindir):
    build = fake_build(tmp_path, bindir, "pipe")
    (build / "cases" / "pipe").chmod(0o644)
    code, _, stderr = ipcproof("run", "--no-build", "--areas", "pipe", "--out", tmp_path / "out",
                               env={"IPCPROOF_BUILD": str(build)})
    assert code == 2 and stderr.strip() == f"ipcproof: {build / 'cases' / 'pipe'} is not executable"
    assert not (tmp_path / "out" / "report.html").exists()


def test_a_missing_case_binary(tmp_path, bindir):
    build = fake_build(tmp_path, bindir, "pipe")
    code, _, stderr = ipcproof("run", "--no-build", "--areas", "fifo", "--out", tmp_path / "out",
                               env={"IPCPROOF_BUILD": str(build)})
    assert code == 2 and "no case binary for area fifo" in stderr and "Traceback" not in stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"), reason="needs root for a private mount")
def test_a_full_output_disk_leaves_no_partial_report(run, tmp_path):
    out = tmp_path / "small"
    out.mkdir()
    script = (f"mount -t tmpfs -o size=8k none {out} && "
              f"{ROOT / 'ipcproof'} report {run['out'] / 'results.json'} --out {out}; "
              f"rc=$?; echo files: $(ls -A {out}); exit $rc")
    done = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "No space left on device" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    files = done.stdout.split("files:")[1].split()
    assert [f for f in files if f.startswith(".")] == []  # no temp file left
    assert "report.html" not in files


def case_blocked_in_read(pid, binary):
    """A case process of `binary` below pid, asleep reading a pipe: the
    fixture that hangs, reached."""
    for d in procs.descendants(pid):
        try:
            if os.readlink(f"/proc/{d}/exe") == str(binary) and "pipe_read" in open(f"/proc/{d}/wchan").read():
                return True
        except OSError:
            pass
    return False


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["INT", "TERM", "HUP"])
def test_a_signal_mid_run_leaves_no_process(sig, tmp_path, bindir):
    """Ctrl-C, a cancelled CI job, a closed terminal: one path, 128 + the
    signal, nothing left running."""
    build = fake_build(tmp_path, bindir)
    driver = subprocess.Popen([str(ROOT / "ipcproof"), "run", "--no-build", "--areas", "pipe",
                               "--out", str(tmp_path / "out")],
                              env=dict(os.environ, IPCPROOF_BUILD=str(build), IPCPROOF_CASE_LIMIT="60"),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not case_blocked_in_read(driver.pid, build / "cases" / "pipe"):
            assert time.monotonic() < deadline and driver.poll() is None, "the run never reached its hung case"
            time.sleep(0.05)
        seen = procs.descendants(driver.pid)

        driver.send_signal(sig)

        _, stderr = driver.communicate(timeout=30)
    finally:
        if driver.poll() is None:  # a failed test must not leave the run behind
            procs.sweep(driver.pid)
            driver.wait()
    assert driver.returncode == 128 + sig, stderr
    assert stderr.strip().endswith("ipcproof: interrupted; nothing left running")
    assert [p for p in seen if alive(p)] == []
    assert [p for p in seen if os.path.exists(f"/tmp/criterion_{p}.sock")] == []


def test_a_kernel_image_whose_download_fails_is_a_missed_kernel(tmp_path, bindir, provision):
    provision("debian-6.1")   # QEMU itself is there: the download is what fails
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "apt-get").write_text("#!/bin/sh\necho 'E: Failed to fetch linux-image (404 Not Found)' >&2\nexit 100\n")
    (fake / "apt-get").chmod(0o755)
    code, _, stderr = ipcproof("run", "--kernels", "debian-6.1", "--areas", "pipe", "--no-build",
                               "--out", tmp_path / "out",
                               env={"PATH": f"{fake}:{os.environ['PATH']}", "IPCPROOF_CACHE": str(tmp_path / "cache")})
    assert code == 1 and "Traceback" not in stderr
    [kernel] = json.loads((tmp_path / "out" / "results.json").read_text())["kernels"]
    assert kernel["status"] == "miss" and "Failed to fetch" in kernel["miss_reason"]
    assert [p.name for p in (tmp_path / "cache" / "qemu" / "kernels").iterdir()] == []


def test_a_missing_tool_as_an_ordinary_user_is_the_apt_get_line(monkeypatch):
    monkeypatch.setattr(debs, "missing", lambda packages: list(packages))
    monkeypatch.setattr(debs.os, "geteuid", lambda: 1000)
    with pytest.raises(UserError) as e:
        debs.ensure(["runsc"], "the gvisor kernel")
    assert str(e.value) == "the gvisor kernel needs Debian packages; as root run: apt-get install -y runsc"
