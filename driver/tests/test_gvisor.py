"""gVisor: Debian's runsc runs the host-built cases in a sandbox whose
kernel is gVisor's own; the results come back through a shared directory."""
import json
import os
import time
from pathlib import Path

import pytest

from conftest import alive, fixtures_inside, interrupted_cleanly, pipe_area_run, processes_naming
from driver import catalog, procs
from driver.errors import Miss
from driver.kernels import gvisor, package_version, sandbox


@pytest.fixture(scope="module")
def tools(provision):
    provision("gvisor")


@pytest.fixture(scope="module")
def pipe_run(tmp_path_factory, bindir, tools):
    return pipe_area_run("gvisor", tmp_path_factory)


def test_pipe_area_runs_in_gvisor(pipe_run):
    [kernel] = pipe_run["doc"]["kernels"]
    assert kernel["id"] == "gvisor" and kernel["runner"] == "gvisor", pipe_run["stderr"]
    assert kernel["status"] == "ran" and kernel["complete"] and not kernel["hung"]
    # gVisor's uname is its own, not the host's
    assert kernel["release"] != os.uname().release and kernel["release"] == "4.4.0"
    assert kernel["machine"] == "x86_64" and kernel["page_size"] == 4096
    assert kernel["package_version"] == package_version("runsc")
    assert kernel["runsc_version"] and kernel["runsc_version"] in kernel["package_version"]
    assert kernel["platform"] == "ptrace"
    assert 0 < kernel["boot_s"] < 30 and kernel["run_s"] > 0


def test_every_pipe_case_has_a_status(pipe_run):
    claimed = sorted(c for c in catalog.claim_of_case(catalog.load()) if c.startswith("pipe/"))
    got = {r["case"]: r for r in pipe_run["doc"]["results"]}
    assert sorted(got) == claimed
    assert not [c for c, r in got.items() if r["status"] in ("error", "timeout")]
    assert {r["status"] for r in got.values()} >= {"pass"}


def test_gvisor_pipe_capacity_is_counted_in_bytes_not_pages(pipe_run):
    """A divergence gVisor really has (see the declared divergences): Linux
    gives each 1000-byte write its own page, 16 of them; gVisor counts
    bytes, 65 writes of 1000."""
    by_case = {r["case"]: r for r in pipe_run["doc"]["results"]}
    ev = by_case["pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports@pipe"]["evidence"]
    assert ev["pipe_capacity"] == ev["f_getpipe_sz"] == "65536"
    ev = by_case["pipe/capacity_in_bytes_depends_on_the_size_of_the_writes@pipe"]["evidence"]
    assert ev["filled_with_1000_byte_writes"] == "65000"
    # and so reading page - 1 bytes already releases a blocked writer there:
    # the declared divergence, seen
    full = by_case["pipe/write_to_full_pipe_blocks_until_a_read_makes_room@pipe"]
    assert full["status"] == "xfail" and "counts bytes" in full["divergence"], full


def test_the_run_leaves_no_temp_files_and_no_runsc_process(pipe_run):
    assert list(pipe_run["tmp"].iterdir()) == []
    assert processes_naming(pipe_run["tmp"]) == []


def runsc_processes(root):
    pids = procs.descendants(root)
    found = []
    for pid in pids:
        try:
            argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            if os.path.basename(argv0).startswith(b"runsc") and alive(pid):  # runsc, -gofer, -sandbox
                found.append(pid)
        except OSError:
            pass
    return found


def test_the_harness_works_inside_gvisor_watchdog_subreaper_faults(tmp_path, bindir, tools):
    fault = fixtures_inside("gvisor", tmp_path, bindir)["fixture/fault_offset_is_recorded"]
    # the offset is right; the code is SEGV_MAPERR where Linux says SEGV_ACCERR
    assert fault["status"] == "pass" and fault["evidence"]["fault.offset"] == "123"
    assert fault["evidence"]["fault.signal"] == "SIGSEGV"


def test_a_sandbox_that_cannot_start_the_cases_is_a_miss_with_its_log(tmp_path, tools):
    work = tmp_path / "work"
    (work / "state").mkdir(parents=True)
    bundle = work / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(gvisor.spec(work, work / "out", work / "no-such-script")))
    (work / "out" / "tmp").mkdir(parents=True)
    log = tmp_path / "boot.log"
    with pytest.raises(Miss) as miss:
        sandbox.launch("test", gvisor.command(work, bundle), work, 60, log)
    assert "before running the cases" in miss.value.reason and miss.value.log == log
    assert "no-such-script" in log.read_text(errors="replace")
    assert not [p for p in procs.descendants(os.getpid()) if alive(p)]


def test_interrupting_a_run_leaves_no_runsc_process(tmp_path, bindir, tools):
    # runsc, its gofer and its sandbox
    driver = interrupted_cleanly("gvisor", tmp_path, runsc_processes, 3)
    assert not list(Path("/sys/fs/cgroup").glob(f"*/ipcproof-{driver}-*"))  # no cgroup left


def sandbox_running(tmp_path, script_text, limit):
    """sandbox.launch of a bundle whose process runs script_text (work is
    its {work}): (launched, ended, cut, seconds taken)."""
    work = tmp_path / "work"
    (work / "state").mkdir(parents=True)
    (work / "out" / "tmp").mkdir(parents=True)
    script = work / "script.sh"
    script.write_text(script_text.format(work=work))
    bundle = work / "bundle"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps(gvisor.spec(work, work / "out", script)))
    start = time.monotonic()
    launched, ended, cut = sandbox.launch("test", gvisor.command(work, bundle), work, limit, tmp_path / "log")
    return launched, ended, cut, time.monotonic() - start


def test_a_sandbox_that_hangs_is_cut_at_its_limit_and_killed(tmp_path, tools):
    launched, ended, cut, took = sandbox_running(tmp_path, "date +%s.%N > {work}/started\nsleep 1000\n", 2)
    assert cut and ended > launched and took < 30
    assert not [p for p in procs.descendants(os.getpid()) if alive(p)]


def test_a_sandbox_that_outlives_its_plan_is_swept_soon_after_and_not_cut(tmp_path, tools, monkeypatch):
    monkeypatch.setattr(sandbox, "ENDING_LIMIT_S", 1)
    # the plan's two stamps, then a process the sandbox waits for
    _, _, cut, took = sandbox_running(
        tmp_path, "date +%s.%N > {work}/started\ndate +%s.%N > {work}/ended\nsleep 1000\n", 600)
    assert not cut and took < 30
    assert not [p for p in procs.descendants(os.getpid()) if alive(p)]
