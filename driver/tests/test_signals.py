"""SIGINT, SIGTERM and SIGHUP at several moments of a run (the build, a
multi-area host run, UML's boot, a gVisor run, QEMU's boot): 128 + the
signal, one last line, nothing left running, nothing left in TMPDIR or
/dev/shm."""
import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import ROOT, alive, fake_build, processes_naming
from driver import procs

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
IDS = ["INT", "TERM", "HUP"]


def exe_names(pid):
    names = set()
    for d in procs.descendants(pid):
        try:
            names.add(os.path.basename(os.readlink(f"/proc/{d}/exe")))
        except OSError:
            pass
    return names


def running(*names):
    """The moment: a descendant of the driver runs one of these programs."""
    return lambda pid: bool(exe_names(pid) & set(names))


def hung_case_of(binary):
    def reached(pid):
        for d in procs.descendants(pid):
            try:
                if os.readlink(f"/proc/{d}/exe") == str(binary) and "pipe_read" in open(f"/proc/{d}/wchan").read():
                    return True
            except OSError:
                pass
        return False
    return reached


def shm():
    return set(os.listdir("/dev/shm"))


def interrupt(tmp_path, sig, args, env, reached, provision_first=None, deadline_s=300):
    """Starts a run, signals it at the moment reached(pid) holds, and checks
    what it left."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    before = shm()
    driver = subprocess.Popen([str(ROOT / "ipcproof"), "run", "--out", str(tmp_path / "out"), *map(str, args)],
                              env=dict(os.environ, TMPDIR=str(tmp), **env), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + deadline_s
        while not reached(driver.pid):
            assert time.monotonic() < deadline and driver.poll() is None, \
                f"the run never reached the moment: {driver.stderr.read() if driver.poll() is not None else ''}"
            time.sleep(0.05)
        seen = procs.descendants(driver.pid)

        driver.send_signal(sig)

        _, stderr = driver.communicate(timeout=60)
    finally:
        if driver.poll() is None:  # a failed test must not leave the run behind
            procs.sweep(driver.pid)
            driver.wait()
    assert driver.returncode == 128 + sig, stderr
    assert stderr.strip().endswith("ipcproof: interrupted; nothing left running") and "Traceback" not in stderr
    assert [p for p in seen if alive(p)] == []
    assert processes_naming(tmp_path) == []
    assert [p for p in seen if os.path.exists(f"/tmp/criterion_{p}.sock")] == []
    assert sorted(os.listdir(tmp)) == []
    # other tests of this machine make /dev/shm files too: only this run's
    # (Criterion's bxfi_<pid>, UML's vm_file-*) count
    ours = [n for n in shm() - before
            if n.startswith("vm_file") or any(n.endswith(f"_{p}") or f"_{p}_" in n for p in seen)]
    assert ours == []


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_a_signal_during_the_build(sig, tmp_path):
    interrupt(tmp_path, sig, ["--areas", "pipe"], {"IPCPROOF_BUILD": str(tmp_path / "build")},
              running("cc1", "as", "ld", "collect2"))


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_a_signal_mid_run_leaves_no_process(sig, tmp_path, bindir):
    """Ctrl-C, a cancelled CI job, a closed terminal: one path, 128 + the
    signal, nothing left running."""
    build = fake_build(tmp_path, bindir)
    interrupt(tmp_path, sig, ["--no-build", "--areas", "pipe"],
              {"IPCPROOF_BUILD": str(build), "IPCPROOF_CASE_LIMIT": "60"}, hung_case_of(build / "cases" / "pipe"))


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
def test_a_signal_in_a_multi_area_run_starts_no_further_area(sig, tmp_path, bindir):
    """The first area hangs; the second must never start."""
    build = fake_build(tmp_path, bindir)
    shutil.copy(bindir / "harness-fixtures", build / "cases" / "fifo")
    interrupt(tmp_path, sig, ["--no-build", "--areas", "pipe,fifo", "--jobs", "1"],
              {"IPCPROOF_BUILD": str(build), "IPCPROOF_CASE_LIMIT": "60"}, hung_case_of(build / "cases" / "pipe"))


KERNELS = {"uml": running("linux.uml", "linux"), "gvisor": running("runsc"),
           "debian-6.1": running("qemu-system-x86_64")}


@pytest.mark.parametrize("sig", SIGNALS, ids=IDS)
@pytest.mark.parametrize("kernel", KERNELS, ids=["UML boot", "gVisor run", "QEMU boot"])
def test_a_signal_while_a_kernel_runs(kernel, sig, tmp_path, bindir, provision):
    provision(kernel)
    interrupt(tmp_path, sig, ["--kernels", kernel, "--no-build", "--areas", "pipe", "--filter", "fixture/case_that_hangs*"],
              {"IPCPROOF_BUILD": str(fake_build(tmp_path, bindir)), "IPCPROOF_CASE_LIMIT": "60"},
              KERNELS[kernel])
