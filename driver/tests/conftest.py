import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from driver import build, kernels  # noqa: E402
from driver.acquire import debs  # noqa: E402


@pytest.fixture(scope="session")
def bindir():
    return build.build()


@pytest.fixture(scope="session")
def provision():
    """provision(kernel): installs what that kernel needs, as a run would.
    A test that needs a tool gets it itself, so that any test passes alone,
    in any order, on a machine where nothing was installed before."""
    done = set()

    def ensure(name):
        if name not in done:
            kernels.known()[name].provision(build.CACHE)
            done.add(name)
    return ensure


@pytest.fixture(scope="session")
def chromium():
    debs.ensure(["chromium", "fonts-wqy-zenhei"], "the browser tests")
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def run(tmp_path_factory, bindir):
    """One `./ipcproof run` on the host for every test that reads its output."""
    out = tmp_path_factory.mktemp("out")
    tmp = tmp_path_factory.mktemp("tmp")
    code, stdout, stderr = ipcproof("run", "--out", out, "--no-build", env={"TMPDIR": str(tmp)})
    return {"code": code, "stderr": stderr, "out": out, "tmp": tmp,
            "doc": json.loads((out / "results.json").read_text())}


def ipcproof(*args, env=None, timeout=900):
    """The command line as a user runs it: (exit code, stdout, stderr)."""
    done = subprocess.run([str(ROOT / "ipcproof"), *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})), timeout=timeout, stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout, done.stderr


def fake_build(tmp_path, bindir, binary="harness-fixtures"):
    """A build dir (for IPCPROOF_BUILD) whose `pipe` area is another binary:
    by default the harness's own fixtures, whose outcomes are known."""
    cases = tmp_path / "build" / "cases"
    cases.mkdir(parents=True)
    shutil.copy(bindir / binary, cases / "pipe")
    shutil.copy(bindir / "kernel-info", cases / "kernel-info")
    return tmp_path / "build"


def fixtures_inside(kernel, tmp_path, bindir):
    """The harness's fixtures run on a sandboxed kernel: checks what must
    hold on every kernel (a hang is a timeout that says where, stubborn
    descendants are swept, a crash is an error with its signal, the blocked
    child is detected by its state) and returns {case: result}."""
    _, _, stderr = ipcproof("run", "--kernels", kernel, "--areas", "pipe", "--no-build",
                            "--filter", "fixture/*", "--out", tmp_path / "out",
                            env={"IPCPROOF_BUILD": str(fake_build(tmp_path, bindir)),
                                 "IPCPROOF_CASE_LIMIT": "2"})
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    got = {r["case"]: r for r in doc["results"]}
    hung = got["fixture/case_that_hangs_is_timed_out"]
    assert hung["status"] == "timeout" and hung["timed_out"], stderr
    assert "reading a pipe nobody writes" in hung["message"]
    assert got["fixture/stubborn_descendants_are_swept"]["status"] == "pass"
    blocked = got["fixture/child_blocked_in_read_is_detected"]
    assert blocked["status"] == "pass" and blocked["evidence"]["detect"] == "proc-stat"
    assert blocked["evidence"]["settled"].startswith("asleep ")
    # where the kernel counts a task's context switches, one that sleeps
    # again and again is seen waking
    if blocked["evidence"]["settled"].endswith("no context switch"):
        sleeper = got["fixture/child_that_sleeps_again_and_again_is_not_taken_for_blocked"]
        assert sleeper["status"] == "fail" and "asleep and switching" in sleeper["message"], sleeper["message"]
    assert got["fixture/case_that_crashes_is_an_error"]["signal"] == "SIGSEGV"
    assert doc["kernels"][0]["complete"]
    return got


def processes_naming(path):
    """Live processes whose command line names path (a run's temp dir)."""
    found = []
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            if str(path).encode() in Path(f"/proc/{pid}/cmdline").read_bytes() and alive(pid):
                found.append(pid)
        except OSError:
            pass
    return found


def alive(pid):
    """A process that exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def interrupt_mid_run(kernel, tmp_path, processes, least, sig=signal.SIGINT):
    """`ipcproof run` on kernel, interrupted once processes(driver pid) shows
    at least `least` of the kernel's processes: (exit code, stderr, those
    processes, the driver's pid).  The run never outlives the test."""
    proc = subprocess.Popen([str(ROOT / "ipcproof"), "run", "--kernels", kernel, "--areas", "pipe",
                             "--no-build", "--out", str(tmp_path / "out")], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, TMPDIR=str(tmp_path)))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(processes(proc.pid)) < least:
            time.sleep(0.05)
        started = processes(proc.pid)
        assert len(started) >= least, f"{kernel}: fewer than {least} of its processes ever ran"
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=60)
        return proc.returncode, stderr, started, proc.pid
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def interrupted_cleanly(kernel, tmp_path, processes, least):
    """Ctrl-C mid-run on kernel: exit 130, none of its processes alive, and
    nothing left in the run's TMPDIR but the output; the driver's pid."""
    code, stderr, started, driver = interrupt_mid_run(kernel, tmp_path, processes, least)
    assert code == 130, stderr
    assert [p for p in started if alive(p)] == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    return driver


def pipe_area_run(kernel, tmp_path_factory):
    """One `ipcproof run` of the pipe area on kernel, with a temp dir of its
    own (to show that nothing is left in it): {code, stderr, out, tmp, doc}."""
    out = tmp_path_factory.mktemp("out")
    tmp = tmp_path_factory.mktemp("tmp")
    code, _, stderr = ipcproof("run", "--kernels", kernel, "--areas", "pipe", "--no-build", "--out", out,
                               env={"TMPDIR": str(tmp)})
    return {"code": code, "stderr": stderr, "out": out, "tmp": tmp,
            "doc": json.loads((out / "results.json").read_text())}
