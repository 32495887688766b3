"""User-Mode Linux: Debian's UML kernel booted with the host's root through
hostfs, the host-built cases run inside, the results read back."""
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import alive, fixtures_inside, interrupted_cleanly, pipe_area_run, processes_naming
from driver import build, catalog, procs, results, session
from driver.errors import Miss
from driver.kernels import package_version, sandbox, uml


@pytest.fixture(scope="module")
def tools(provision):
    provision("uml")


@pytest.fixture(scope="module")
def pipe_run(tmp_path_factory, bindir, tools):
    return pipe_area_run("uml", tmp_path_factory)


def uml_release():
    """The kernel version the UML binary itself announces."""
    return subprocess.run([str(uml.LINUX), "--version"], capture_output=True, text=True).stdout.strip()


def test_pipe_area_runs_on_user_mode_linux(pipe_run):
    [kernel] = pipe_run["doc"]["kernels"]
    assert kernel["id"] == "uml" and kernel["runner"] == "uml", pipe_run["stderr"]
    assert kernel["status"] == "ran" and kernel["complete"] and not kernel["hung"]
    assert kernel["release"] == uml_release() and kernel["release"].startswith("6.1.")
    assert kernel["machine"] == "x86_64" and kernel["page_size"] == 4096
    assert kernel["package_version"] == package_version("user-mode-linux")
    assert 0 < kernel["boot_s"] < sandbox.BOOT_LIMIT_S and kernel["run_s"] > 0
    assert "Power down" in (pipe_run["out"] / kernel["boot_log"]).read_text(errors="replace")


def test_every_pipe_case_has_a_status_and_matches_the_catalog(pipe_run):
    claimed = sorted(c for c in catalog.claim_of_case(catalog.load()) if c.startswith("pipe/"))
    got = {r["case"]: r for r in pipe_run["doc"]["results"]}
    assert sorted(got) == claimed
    bad = [(c, r["status"], r["message"]) for c, r in got.items() if r["status"] not in results.MATCHED]
    assert bad == []
    assert pipe_run["code"] == 0, pipe_run["stderr"]


def test_uml_reports_the_pipe_capacity_and_blocking_without_proc_pid_syscall(pipe_run):
    by_case = {r["case"]: r for r in pipe_run["doc"]["results"]}
    ev = by_case["pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports@pipe"]["evidence"]
    assert ev["pipe_capacity"] == ev["f_getpipe_sz"] == "65536"
    # UML has no /proc/PID/syscall: the harness falls back to the task state
    ev = by_case["pipe/write_to_full_pipe_blocks_until_a_read_makes_room@pipe"]["evidence"]
    assert ev["detect"] == "proc-stat" and ev["blocked_in"] == "write?"
    # ... and its context switch counts, which UML keeps
    assert ev["settled"].startswith("asleep ") and ev["settled"].endswith(", no context switch")


def test_the_run_leaves_no_temp_files_and_no_uml_process(pipe_run):
    assert list(pipe_run["tmp"].iterdir()) == []
    assert not list(Path("/dev/shm").glob("ipcproof-uml-mem-*"))
    assert processes_naming(pipe_run["tmp"]) == []


def uml_processes(root):
    """Live UML processes (the kernel and its process stubs), below root or anywhere."""
    pids = procs.descendants(root)
    found = []
    for pid in pids:
        try:
            if Path(f"/proc/{pid}/exe").resolve() == uml.LINUX.resolve() and alive(pid):
                found.append(pid)
        except OSError:
            pass
    return found


def test_the_harness_works_inside_uml_watchdog_subreaper_faults(tmp_path, bindir, tools):
    fault = fixtures_inside("uml", tmp_path, bindir)["fixture/fault_offset_is_recorded"]
    assert fault["status"] == "pass" and fault["evidence"]["fault.si_code"] == "SEGV_ACCERR"


def test_a_uml_that_cannot_start_the_cases_is_a_miss_with_its_log(tmp_path, tools):
    work = tmp_path / "work"
    work.mkdir()
    log = tmp_path / "boot.log"
    memdir = uml.memory_dir(work)
    try:
        with pytest.raises(Miss) as miss:
            sandbox.launch("test", uml.command(tmp_path / "no-such-init", work), work, 60, log,
                       env=dict(os.environ, TMPDIR=str(memdir)))
    finally:
        shutil.rmtree(memdir)
    assert "Kernel panic" in miss.value.reason and miss.value.log == log
    assert "no-such-init failed" in log.read_text(errors="replace")
    assert not [p for p in procs.descendants(os.getpid()) if alive(p)]


def test_interrupting_a_run_leaves_no_uml_process(tmp_path, bindir, tools):
    interrupted_cleanly("uml", tmp_path, uml_processes, 2)


def test_the_patched_criterion_differs_only_in_the_arena_range(tmp_path):
    store = uml.patched_criterion(tmp_path)
    assert store is not None
    original = uml.CRITERION.read_bytes()
    patched = (store / uml.CRITERION.name).read_bytes()
    assert len(patched) == len(original)
    changed = [i for i, (a, b) in enumerate(zip(original, patched)) if a != b]
    assert 0 < len(changed) <= 4 * 8 and changed[-1] - changed[0] < 256
    assert uml.patched_criterion(tmp_path) == store  # made once, then reused


def test_a_lean_case_binary_goes_into_uml_as_a_copy_with_only_the_arena_moved(tmp_path, bindir):
    from driver.session import Context
    with uml.Channel(Context(bindir, tmp_path, tmp_path, 1)) as ch:
        ch.put([bindir / "pipe", bindir / "peer-pipe"])
        original, copy = (bindir / "pipe").read_bytes(), (ch.bindir / "pipe").read_bytes()
        assert ch.lean and not (ch.bindir / "pipe").is_symlink() and (ch.bindir / "peer-pipe").is_symlink()
    changed = [i for i, (a, b) in enumerate(zip(original, copy)) if a != b]
    assert len(copy) == len(original) and 0 < len(changed) <= 4 * 8 and changed[-1] - changed[0] < 256


def test_a_uml_that_hangs_after_boot_is_cut_at_its_limit_and_killed(tmp_path, tools):
    work = tmp_path / "work"
    work.mkdir()
    init = work / "init"
    # the root is read-only: the work dir is mounted back writable, as the
    # real init does
    init.write_text(f"#!/bin/sh\nmount -t hostfs -o {work} none {work}\ndate +%s.%N > {work / 'started'}\n"
                    "sleep 1000\n")
    init.chmod(0o755)
    log = tmp_path / "boot.log"
    memdir = uml.memory_dir(work)
    try:
        start = time.monotonic()
        launched, ended, cut = sandbox.launch("test", uml.command(init, work), work, 2, log,
                                          env=dict(os.environ, TMPDIR=str(memdir)))
    finally:
        shutil.rmtree(memdir)
    assert cut and ended > launched and time.monotonic() - start < 30
    assert not [p for p in procs.descendants(os.getpid()) if alive(p)]


def test_the_host_root_is_read_only_inside_uml(tmp_path, tools, bindir):
    """Only the channel's work dir is writable: a case cannot write into the
    host's /var/tmp (or anywhere else of the host)."""
    target = Path("/var/tmp") / f"ipcproof-uml-probe-{os.getpid()}"
    ctx = session.Context(bindir, tmp_path, build.CACHE, 1)
    with uml.Channel(ctx) as ch:
        ch.put([], {"probe.sh": f"echo x > {target}; echo $? > {ch.outdir}/code; echo y > {ch.outdir}/mine\n"})
        ch.run(["sh", f"{ch.bindir}/probe.sh"], 60)
        code, mine = ((ch.get() / name).read_text().strip() for name in ("code", "mine"))
    assert not target.exists() and code != "0" and mine == "y"
