"""qemu-user-arm64: the arm64 cases on the host kernel through qemu-aarch64,
routed by a binfmt_misc entry the driver makes and removes itself."""
import json
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import ROOT, ipcproof
from driver import build, catalog, results
from driver.kernels import qemu_user

NAME = "qemu-user-arm64"


@pytest.fixture(scope="module")
def tools(provision):
    provision(NAME)


def entries():
    return sorted(p.name for p in Path(qemu_user.BINFMT).glob(f"{qemu_user.PREFIX}*"))


def test_pipe_area_runs_through_qemu_user_and_leaves_no_binfmt_entry(tools, bindir, tmp_path):
    mounted = Path(qemu_user.BINFMT, "register").exists()
    code, _, stderr = ipcproof("run", "--kernels", NAME, "--areas", "pipe", "--no-build", "--out", tmp_path)
    doc = json.loads((tmp_path / "results.json").read_text())
    [kernel] = doc["kernels"]
    assert kernel["status"] == "ran" and kernel["complete"], stderr
    assert kernel["runner"] == "qemu-user" and kernel["machine"] == "aarch64" and kernel["word_bits"] == 64
    assert kernel["emulator"].startswith("qemu-aarch64 version")
    got = {r["case"]: r for r in doc["results"]}
    assert sorted(got) == sorted(c for c in catalog.claim_of_case(catalog.load()) if c.startswith("pipe/"))
    # Criterion re-executed its arm64 binary for every case (without the
    # entry none would have a result other than an error), and the harness
    # saw the blocked ones by their state: qemu-user's tasks report the
    # host's system-call numbers, which the harness does not take for its own
    bad = {c: r["message"] for c, r in got.items() if r["status"] not in results.MATCHED}
    assert bad == {}, stderr
    blocked = [r for r in got.values() if r["evidence"].get("detect")]
    assert blocked and {r["evidence"]["detect"] for r in blocked} == {"proc-stat"}
    assert entries() == []
    assert Path(qemu_user.BINFMT, "register").exists() == mounted


def test_an_entry_left_by_a_killed_driver_is_removed_by_the_next(tools):
    ctx = SimpleNamespace(cache=build.CACHE, bindir=None)
    with qemu_user.Channel(ctx) as channel:
        channel.register()
        stale = Path(qemu_user.BINFMT, f"{qemu_user.PREFIX}999999999")    # no such process
        Path(qemu_user.BINFMT, "register").write_text(qemu_user.rule(stale.name) + "\n")
        assert stale.exists()
        qemu_user.remove_stale()
        assert not stale.exists() and channel.entry.exists()
    assert entries() == []


def test_interrupting_a_run_removes_the_entry(tools, bindir, tmp_path):
    proc = subprocess.Popen([str(ROOT / "ipcproof"), "run", "--kernels", NAME, "--areas", "pipe", "--no-build",
                             "--out", str(tmp_path)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not entries():
            time.sleep(0.1)
        assert entries() == [f"{qemu_user.PREFIX}{proc.pid}"]
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 130, stderr
        assert entries() == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
