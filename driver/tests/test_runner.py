"""The plan runner: steps said to run together start at once, the plan
waits for them all, and their runs come back in the plan's order."""
import os
import shutil
import subprocess

from driver import kernels, runner, session


def plan_dir(tmp_path, bindir, programs):
    where = tmp_path / "bin"
    where.mkdir()
    shutil.copy2(runner.SCRIPT, where / "runner.sh")
    shutil.copy2(bindir / "kernel-info", where / "kernel-info")
    for name, text in programs.items():
        (where / name).write_text("#!/bin/sh\n" + text)
        os.chmod(where / name, 0o755)
    return where


def test_steps_said_together_start_at_once_and_the_plan_waits_for_them(bindir, tmp_path):
    fifo = tmp_path / "meet"
    os.mkfifo(fifo)
    # The writer's open blocks until the reader opens: one after the other,
    # the writer would wait out its limit.
    where = plan_dir(tmp_path, bindir, {"writer": f"echo met > {fifo}\n", "reader": f"cat {fifo}\n",
                                        "after": f"test -e {tmp_path}/out/writer.log\n"})
    steps = [runner.Step("writer", "writer", limit_s=20, together=True),
             runner.Step("reader", "reader", limit_s=20, together=True),
             runner.Step("after", "after", limit_s=20)]
    plan = runner.script(steps, where, tmp_path / "out")
    assert plan.count(" &\n") == 2 and "\nwait\nstep after" in plan
    (where / "plan.sh").write_text(plan)
    done = subprocess.run(["sh", str(where / "plan.sh")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    raw, runs, kernel = runner.read(tmp_path / "out", "host", "host", [s.name for s in steps])
    assert [r["step"] for r in runs] == ["writer", "reader", "after"]
    assert all(r["exit_code"] == 0 and not r["hung"] for r in runs), runs
    assert (tmp_path / "out" / "reader.log").read_text() == "met\n" and kernel["complete"]


def test_a_plan_of_steps_not_together_runs_them_one_after_another(tmp_path):
    steps = runner.case_steps([tmp_path / "pipe", tmp_path / "fifo"], 2, 1.0)
    plan = runner.script(steps, tmp_path, tmp_path / "out")
    assert " &\n" not in plan and "\nwait\n" not in plan


def test_uml_runs_its_areas_one_after_another_the_others_at_once():
    known = kernels.known()
    assert not known["uml"].areas_together
    assert known["host"].areas_together and known["gvisor"].areas_together
    assert all(k.areas_together for name, k in known.items() if name.startswith("debian-"))


def test_a_run_ends_its_own_processes_and_leaves_the_callers_alone(bindir):
    # a process the caller started before the run (flake's busy processes),
    # waiting on a pipe the caller holds
    theirs = subprocess.Popen(["sh", "-c", 'read line && test "$line" = go'], stdin=subprocess.PIPE,
                              start_new_session=True)
    try:
        outcome = session.on_host([bindir / "fifo"], 2, filter_="fifo/mkfifo_command*")
        assert [r["status"] for r in outcome.raw["fifo"].values()] == ["pass"]
        assert theirs.poll() is None, "the run's sweep killed the caller's process"
    finally:
        theirs.communicate(b"go\n", timeout=30)
    assert theirs.returncode == 0
