"""Faults of the environment: a binary that cannot run, a full disk, an
interrupted run (test_signals.py). One clear line, a non-zero exit, nothing
half-written, nothing left running."""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
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


def quick_run(tmp_path, bindir, out, *extra):
    """One fast fixture of the harness run as the pipe area."""
    return ipcproof("run", "--no-build", "--areas", "pipe", "--filter", "fixture/child_exit_code_is_seen",
                    "--out", out, *extra, env={"IPCPROOF_BUILD": str(fake_build(tmp_path, bindir))})


def test_a_log_planted_as_a_symlink_is_not_written_through(tmp_path, bindir):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    (tmp_path / "out" / "logs").mkdir(parents=True)
    (tmp_path / "out" / "logs" / "host-pipe.log").symlink_to(victim)
    code, _, stderr = quick_run(tmp_path, bindir, tmp_path / "out")
    assert victim.read_text() == "precious\n"
    # refused: exit 2, or as root (where a kernel that cannot get what it
    # needs is a miss) that kernel missed, saying which log
    assert "Traceback" not in stderr and code in (1, 2), stderr
    assert "cannot write the log" in stderr and "host-pipe.log" in stderr


def test_a_symlinked_logs_dir_is_refused(tmp_path, bindir):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "logs").symlink_to(elsewhere)
    code, _, stderr = quick_run(tmp_path, bindir, tmp_path / "out")
    assert code == 2 and "symlink" in stderr and "Traceback" not in stderr
    assert list(elsewhere.iterdir()) == []


def good_results(tmp_path, generated):
    doc = json.loads((ROOT / "reports" / "reference" / "host" / "results.json").read_text())
    path = tmp_path / f"{generated}.json"
    path.write_text(json.dumps(dict(doc, generated=generated)))
    return path


def test_a_report_set_is_replaced_whole_or_not_at_all(tmp_path, monkeypatch):
    """The disk fills on the third file: the old set stays, all of it."""
    from driver import fsutil, reports, results
    out = tmp_path / "out"
    reports.write(results.load(good_results(tmp_path, "old")), fsutil.output_dir(out))
    (out / "logs").mkdir()
    (out / "logs" / "host-pipe.log").write_text("a log\n")
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    real, written = fsutil.write_atomic, []

    def fills_up(path, text):
        if len(written) == 2:
            raise UserError(f"cannot write {path}: No space left on device")
        written.append(path)
        real(path, text)
    monkeypatch.setattr(fsutil, "write_atomic", fills_up)
    with pytest.raises(UserError):
        reports.write(results.load(good_results(tmp_path, "new")), out)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert (out / "logs" / "host-pipe.log").read_text() == "a log\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_two_concurrent_reports_into_one_out_never_mix(tmp_path):
    sources = [good_results(tmp_path, f"run{i}") for i in range(4)]
    out = tmp_path / "out"
    for _ in range(3):
        runs = [subprocess.Popen([str(ROOT / "ipcproof"), "report", str(s), "--out", str(out)],
                                 stderr=subprocess.PIPE) for s in sources]
        assert [p.wait() for p in runs] == [0] * len(runs), [p.stderr.read() for p in runs]
        for p in runs:
            p.stderr.close()
        generated = json.loads((out / "results.json").read_text())["generated"]
        for name in (p.name for p in out.iterdir() if p.is_file()):
            text = (out / name).read_text()
            assert all(f"run{i}" not in text for i in range(4) if f"run{i}" != generated), name
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_relative_paths_are_the_callers(tmp_path):
    good_results(tmp_path, "good")
    done = subprocess.run([str(ROOT / "ipcproof"), "report", "good.json", "--out", "out"], cwd=tmp_path,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "report.html").is_file() and not (ROOT / "out").exists()


def test_a_build_waits_for_the_one_under_way(tmp_path):
    """Two runs on one fresh clone: the second configures nothing until the
    first lets go of the build directory."""
    b = tmp_path / "b"
    b.mkdir()
    with open(b / ".ipcproof-lock", "a") as lock:   # build.LOCK
        fcntl.flock(lock, fcntl.LOCK_EX)
        child = subprocess.Popen([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]);"
                                  "from driver import build; build.build(sys.argv[2])", str(ROOT), str(b)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while not blocked_on_a_lock(child.pid):
                assert not (b / "CMakeCache.txt").exists(), "configured while another build held the lock"
                assert time.monotonic() < deadline and child.poll() is None
                time.sleep(0.02)
            assert not (b / "CMakeCache.txt").exists()
        finally:
            procs.sweep(child.pid)
            child.wait()


def blocked_on_a_lock(pid):
    """pid waits for a lock: a '->' line of /proc/locks names it."""
    with open("/proc/locks") as f:
        return any("->" in line.split() and str(pid) in line.split() for line in f)


def test_ids_and_evidence_are_shown_not_obeyed_by_the_terminal(tmp_path):
    doc = json.loads((ROOT / "reports" / "reference" / "host" / "results.json").read_text())
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(doc))
    doc["results"][0]["evidence"] = dict(doc["results"][0]["evidence"], planted="\x1b]0;owned\x07\x1b[2J\r")
    new.write_text(json.dumps(doc))
    code, stdout, stderr = ipcproof("diff", old, new)
    assert code == 1, stderr
    assert "\x1b" not in stdout + stderr and "\r" not in stdout and "\\x1b[2J" in stdout


def test_a_carriage_return_does_not_leave_a_markdown_code_span():
    from driver.reports import md
    span = md.code("pipe/x\r<script>alert(1)</script>")
    assert "\r" not in span and span.count("`") == 2
    assert all(ch >= " " for ch in md.esc("a\r\u2028b\x1b"))


def test_a_report_file_that_cannot_be_replaced_leaves_no_mix(tmp_path):
    """junit.xml is a directory: every file new, or every file old."""
    out = tmp_path / "out"
    assert ipcproof("report", good_results(tmp_path, "gen-first-run"), "--out", out)[0] == 0
    (out / "junit.xml").unlink()
    (out / "junit.xml").mkdir()
    code, _, stderr = ipcproof("report", good_results(tmp_path, "gen-second-run"), "--out", out)
    assert "Traceback" not in stderr
    runs = {run for p in out.iterdir() if p.is_file() for run in ("gen-first-run", "gen-second-run")
            if run in p.read_text()}
    assert runs == ({"gen-second-run"} if code == 0 else {"gen-first-run"}), stderr
    assert code == 2 or (out / "junit.xml").is_file()


# a case binary as a script: Criterion's --list (older drivers ask) lists nothing
LISTS_NOTHING = '[ "$1" = --list ] && exit 0\n'
PASSES = ("echo '" + json.dumps({"case": "pipe/a", "status": "pass", "duration_s": 0.1, "signal": None, "exit_code": 0,
                                 "timed_out": False, "message": "", "evidence": {}})
          + "' >> \"$IPCPROOF_RESULTS\"\n")
BAD_LINES = {
    "a number for a case": '{"case": 5, "status": "pass"}',
    "evidence a list": '{"case": "pipe/a", "status": "pass", "evidence": ["x"]}',
    "a control character in a case": '{"case": "pipe/a\\u001b[2J", "status": "pass"}',
    "5000 digits": '{"case": "pipe/a", "status": "pass", "duration_s": ' + "9" * 5000 + "}",
    "deep": '{"case": "pipe/a", "status": "pass", "evidence": {"x": ' + "[" * 10000 + "]" * 10000 + "}}",
    "a case twice": '{"case": "pipe/a", "status": "pass"}\n{"case": "pipe/a", "status": "fail"}',
}


@pytest.mark.parametrize("lines", BAD_LINES.values(), ids=BAD_LINES.keys())
def test_a_case_binary_that_sends_bad_results_is_a_missed_kernel(lines, tmp_path, bindir):
    build = fake_build(tmp_path, bindir)
    (build / "cases" / "pipe").write_text(f"#!/bin/sh\n{LISTS_NOTHING}cat >> \"$IPCPROOF_RESULTS\" <<'EOF'\n{lines}\nEOF\n")
    code, _, stderr = ipcproof("run", "--no-build", "--areas", "pipe", "--out", tmp_path / "out",
                               env={"IPCPROOF_BUILD": str(build)})
    assert code == 1 and "Traceback" not in stderr, stderr
    [kernel] = json.loads((tmp_path / "out" / "results.json").read_text())["kernels"]
    assert kernel["status"] == "miss" and "bad results file" in kernel["miss_reason"]


BAD_OUTPUT = {
    "kernel.json a list": {"kernel.json": "[1]"},
    "kernel.json page_size a string": {"kernel.json": '{"page_size": "4k"}'},
    "kernel.json nested": {"kernel.json": '{"release": "6.1", "x": {"y": 1}}'},
    "kernel.json NaN": {"kernel.json": '{"page_size": NaN}'},
    "runs.jsonl step a list": {"runs.jsonl": '{"step": ["pipe"], "exit_code": 0, "hung": false, "wall_s": 1}\n'},
    "runs.jsonl hung a string": {"runs.jsonl": '{"step": "pipe", "exit_code": 0, "hung": "no", "wall_s": 1}\n'},
    "runs.jsonl not JSON": {"runs.jsonl": 'step pipe\n{"step": "pipe", "exit_code": 0, "hung": false, "wall_s": 1}\n'},
}


@pytest.mark.parametrize("files", BAD_OUTPUT.values(), ids=BAD_OUTPUT.keys())
def test_a_kernel_output_dir_that_breaks_the_contract_is_a_miss(files, tmp_path):
    from driver import runner
    from driver.errors import Miss
    good = {"kernel.json": '{"release": "6.1", "machine": "x86_64", "page_size": 4096}',
            "runs.jsonl": '{"step": "pipe", "exit_code": 0, "hung": false, "wall_s": 1.5}\n',
            "pipe.jsonl": '{"case": "pipe/a", "status": "pass"}\n{"case": "pipe/b", "status": "pa'}
    for name, text in good.items():
        (tmp_path / name).write_text(text)
    raw, _, kernel = runner.read(tmp_path, "guest", "qemu")
    assert list(raw["pipe"]) == ["pipe/a"] and kernel["id"] == "guest"   # a torn last line is dropped
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(Miss, match="bad results file"):
        runner.read(tmp_path, "guest", "qemu")


@pytest.mark.parametrize("layout", ["a file where a directory goes", "garbage"])
def test_a_guest_tar_of_a_surprising_layout_is_a_miss(layout, tmp_path):
    import io
    import tarfile
    from driver.errors import Miss
    from driver.kernels import qemu_boot
    buf = io.BytesIO()
    if layout == "garbage":
        buf.write(b"\x00not a tar" * 100)
    else:
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name in ("out/kernel.json", "out/kernel.json/x"):
                info = tarfile.TarInfo(name)
                info.size = 2
                tar.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(Miss, match="unreadable"):
        qemu_boot.untar(buf.getvalue(), tmp_path / "dest")


def test_a_case_that_prints_without_end_is_cut_and_says_so(tmp_path, bindir):
    build = fake_build(tmp_path, bindir)
    (build / "cases" / "pipe").write_text(f"#!/bin/sh\n{LISTS_NOTHING}head -c 300000 /dev/zero | tr '\\0' x\n"
                                          + PASSES)
    code, _, stderr = ipcproof("run", "--no-build", "--areas", "pipe", "--out", tmp_path / "out",
                               env={"IPCPROOF_BUILD": str(build), "IPCPROOF_LOG_CAP": "1000"})
    assert "Traceback" not in stderr, stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    [run] = doc["runs"]
    assert run["log_cut"] is True and run["log_bytes"] == 300000 and run["log_cap"] == 1000
    log = (tmp_path / "out" / "logs" / "host-pipe.log").read_bytes()
    assert log.startswith(b"x" * 1000) and b"log cut at 1000 bytes of 300000" in log and len(log) < 1100


def test_a_descendant_that_left_by_setsid_is_swept(tmp_path, bindir):
    build = fake_build(tmp_path, bindir)
    pidfile = tmp_path / "escapee"
    (build / "cases" / "pipe").write_text(
        f"#!/bin/sh\n{LISTS_NOTHING}setsid sh -c 'sleep 1000 & echo $! > \"$0\"' " + f"{pidfile} < /dev/null > /dev/null 2>&1 &\n"
        f"while [ ! -s {pidfile} ]; do sleep 0.01; done\n" + PASSES)
    try:
        code, _, stderr = ipcproof("run", "--no-build", "--areas", "pipe", "--out", tmp_path / "out",
                                   env={"IPCPROOF_BUILD": str(build)})
        pid = int(pidfile.read_text())
        assert "Traceback" not in stderr and not alive(pid), stderr
    finally:
        if pidfile.exists() and pidfile.read_text().strip():
            try:
                os.kill(int(pidfile.read_text()), signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.mark.parametrize("kernel", ["debian-6.1", "uml", "gvisor"])
def test_an_unusable_cache_is_one_line(kernel, tmp_path, bindir):
    (tmp_path / "file").write_text("")
    code, _, stderr = ipcproof("run", "--kernels", kernel, "--areas", "pipe", "--no-build", "--out", tmp_path / "out",
                               env={"IPCPROOF_CACHE": str(tmp_path / "file" / "cache")}, timeout=120)
    assert code == 2 and stderr.startswith("ipcproof: cannot use the cache") and len(stderr.splitlines()) == 1, stderr
