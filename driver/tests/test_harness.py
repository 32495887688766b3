"""The harness, through cases with known outcomes (harness/tests/fixtures.c)."""
import json
import subprocess

import pytest

from conftest import ROOT, alive
from driver import collect, session


@pytest.fixture(scope="module")
def fixtures(bindir, tmp_path_factory):
    work = tmp_path_factory.mktemp("fixtures")
    outcome = session.on_host([bindir / "harness-fixtures"], 2, env={"IPCPROOF_CASE_LIMIT": "1.5"}, keep=work)
    facts = {"cases": collect.list_cases(bindir / "harness-fixtures")}
    return outcome.raw["harness-fixtures"], facts, work / "host"


def result(fixtures, name):
    raw = fixtures[0]
    assert f"fixture/{name}" in raw, f"no valid JSON line for {name}"
    return raw[f"fixture/{name}"]


def test_every_fixture_reports_one_valid_json_line(fixtures):
    raw, facts, work = fixtures
    lines = (work / "harness-fixtures.jsonl").read_text().splitlines()
    assert len(lines) == len(facts["cases"]) == len(raw)
    for line in lines:
        json.loads(line)


def test_child_exit_code_is_seen(fixtures):
    assert result(fixtures, "child_exit_code_is_seen")["status"] == "pass"


def test_child_killed_by_a_signal_is_seen_with_its_name(fixtures):
    r = result(fixtures, "child_killed_by_signal_is_seen")
    assert r["status"] == "pass"
    assert r["evidence"]["signal"] == "SIGUSR1"


@pytest.mark.parametrize("call", ["read", "write"])
def test_child_blocked_in_a_syscall_is_detected_and_named(fixtures, call):
    r = result(fixtures, f"child_blocked_in_{call}_is_detected")
    assert r["status"] == "pass", r["message"]
    assert r["evidence"]["blocked_in"] == call
    assert r["evidence"]["detect"] == "proc-syscall"
    assert "pipe" in r["evidence"]["wchan"]


def test_a_busy_child_is_not_taken_for_blocked(fixtures):
    r = result(fixtures, "busy_child_is_not_taken_for_blocked")
    assert r["status"] == "fail"
    assert "was not seen blocked in read" in r["message"]
    assert "state R" in r["message"]


def test_a_child_that_sleeps_again_and_again_is_not_taken_for_blocked(fixtures):
    r = result(fixtures, "child_that_sleeps_again_and_again_is_not_taken_for_blocked")
    assert r["status"] == "fail"
    assert "was not seen blocked in read" in r["message"]


@pytest.fixture(scope="module")
def by_state(bindir, tmp_path_factory):
    """The blocked-child fixtures as on a kernel without /proc/PID/syscall
    (UML, gVisor): {case: result}."""
    work = tmp_path_factory.mktemp("by-state")
    outcome = session.on_host([bindir / "harness-fixtures"], 2, filter_="fixture/*block*",
                              env={"IPCPROOF_CASE_LIMIT": "1.5", "IPCPROOF_BLOCKED_BY_STATE": "1"}, keep=work)
    return {case: r for by_case in outcome.raw.values() for case, r in by_case.items()}


@pytest.mark.parametrize("call", ["read", "write"])
def test_without_proc_pid_syscall_a_blocked_child_is_seen_asleep_without_switching(by_state, call):
    r = by_state[f"fixture/child_blocked_in_{call}_is_detected"]
    assert r["status"] == "pass", r["message"]
    assert r["evidence"]["detect"] == "proc-stat" and r["evidence"]["blocked_in"] == f"{call}?"
    assert r["evidence"]["settled"] == "asleep 0.013s, no context switch"


def test_without_proc_pid_syscall_a_child_that_sleeps_again_and_again_is_seen_waking(by_state):
    r = by_state["fixture/child_that_sleeps_again_and_again_is_not_taken_for_blocked"]
    assert r["status"] == "fail"
    assert "was not seen blocked in read" in r["message"] and "asleep and switching" in r["message"]


def test_without_proc_pid_syscall_a_busy_child_is_not_taken_for_blocked(by_state):
    r = by_state["fixture/busy_child_is_not_taken_for_blocked"]
    assert r["status"] == "fail" and "state R" in r["message"]


def test_a_childs_reason_reaches_the_message(fixtures):
    r = result(fixtures, "child_reason_reaches_the_message")
    assert r["status"] == "fail"
    assert "exited 99" in r["message"] and "arithmetic said 2" in r["message"]


def test_a_hung_case_is_a_timeout_that_says_where_and_leaves_no_child(fixtures):
    r = result(fixtures, "case_that_hangs_is_timed_out")
    assert r["status"] == "timeout"
    assert r["timed_out"] is True
    assert "hung in read" in r["message"] and "reading a pipe nobody writes" in r["message"]
    assert not alive(int(r["evidence"]["hung_child"]))


def test_a_crash_is_an_error_with_its_signal_and_step(fixtures):
    r = result(fixtures, "case_that_crashes_is_an_error")
    assert r["status"] == "error"
    assert r["signal"] == "SIGSEGV"
    assert "killed by SIGSEGV while about to crash" in r["message"]


def test_a_leaked_descriptor_is_reported(fixtures):
    r = result(fixtures, "fd_leak_is_reported")
    assert r["status"] == "error"
    assert "descriptors left open" in r["message"] and "pipe:[" in r["message"]


def test_a_case_that_exits_early_is_an_error(fixtures):
    assert result(fixtures, "early_exit_is_an_error")["status"] == "error"


def test_quotes_newlines_and_bad_utf8_survive_as_valid_json(fixtures):
    r = result(fixtures, "message_with_quotes_and_newlines_is_valid_json")
    assert r["status"] == "fail"
    assert 'a "quoted" word,\nnew line, back\\slash, <b>html</b>, \ufffd invalid' in r["message"]
    assert r["evidence"]["tricky"] == 'quote " backslash \\ tab \t newline \n bell \a end'


def test_stubborn_descendants_are_gone_after_the_case(fixtures):
    r = result(fixtures, "stubborn_descendants_are_swept")
    assert r["status"] == "pass", r["message"]
    pids = [int(v) for k, v in r["evidence"].items() if k.startswith("descendant")]
    assert len(pids) == 7
    assert not [p for p in pids if alive(p)]


def test_a_fault_is_recorded_with_its_offset_and_code(fixtures):
    r = result(fixtures, "fault_offset_is_recorded")
    assert r["status"] == "pass", r["message"]
    assert r["evidence"]["fault.offset"] == "123"
    assert r["evidence"]["fault.si_code"] == "SEGV_ACCERR"


def test_nothing_is_left_in_the_temp_dir(fixtures):
    _, _, out = fixtures
    assert not (out / "tmp").exists() and (out / "done").exists()


def test_a_skip_carries_its_reason(fixtures):
    r = result(fixtures, "skip_says_why")
    assert r["status"] == "skip" and r["message"] == "no frobnicator here"


def test_a_result_names_its_claim_and_the_line_it_is_written_on(fixtures):
    r = result(fixtures, "child_exit_code_is_seen")
    assert r["claim"] == "fixture.harness" and r["variant"] is None
    path, line = r["source"].split(":")
    assert path == "harness/tests/fixtures.c"
    written = (ROOT / path).read_text().splitlines()[int(line) - 1]
    assert written.startswith("CASE(fixture, child_exit_code_is_seen,")


@pytest.mark.parametrize("where", ["", "_in_a_child"])
def test_a_failed_set_up_call_is_an_error_naming_the_call(fixtures, where):
    r = result(fixtures, f"failed_setup{where}_is_an_error_not_a_fail")
    assert r["status"] == "error", r["message"]
    assert "set-up failed at harness/tests/fixtures.c:" in r["message"]
    assert 'open(hx_path("missing"), O_RDONLY): ENOENT' in r["message"]
    assert "not reached" not in r["message"]


def test_a_checkpoint_wake_is_kept_for_a_later_wait_and_a_waiter_sleeps_in_futex(fixtures):
    r = result(fixtures, "checkpoint_woken_before_the_wait_lets_it_pass")
    assert r["status"] == "pass", r["message"]
    assert r["evidence"]["blocked_in"] == "futex"


def test_a_checkpoint_never_woken_fails_and_says_which(fixtures):
    r = result(fixtures, "checkpoint_never_woken_fails_saying_which")
    assert r["status"] == "fail"
    assert "checkpoint 3 not woken within 0.5s" in r["message"]


def test_a_checkpoint_wait_ends_with_the_reason_of_a_child_that_failed_before_waking_it(fixtures):
    r = result(fixtures, "checkpoint_wait_ends_when_the_waking_child_fails")
    assert r["status"] == "fail"
    # not "within 0.5s": the wait did not sleep out its bound
    assert "checkpoint 4 not woken: child " in r["message"], r["message"]
    assert "failed: the child's own reason (harness/tests/fixtures.c:" in r["message"]


def test_an_unmet_need_is_a_skip_naming_it(fixtures):
    r = result(fixtures, "unmet_need_is_a_skip_that_says_which")
    assert r["status"] == "skip" and r["message"] == "needs the command ipcproof-no-such-command"
    r = result(fixtures, "kernel_too_old_is_a_skip")
    assert r["status"] == "skip" and r["message"].startswith("needs kernel 999.1 or later (this is ")


def test_a_misspelt_need_is_an_error(fixtures):
    r = result(fixtures, "misspelt_need_is_an_error")
    assert r["status"] == "error" and "unknown need rooot" in r["message"]


def test_each_variant_is_its_own_case_with_set_up_and_teardown(fixtures):
    for start, name in ((1, "one"), (2, "two")):
        r = result(fixtures, f"each_variant_is_its_own_case@{name}")
        assert r["status"] == "pass", r["message"]
        assert r["variant"] == name
        assert r["evidence"] == {"setup": str(start), "body": str(start), "teardown": str(start)}
    r = result(fixtures, "each_variant_is_its_own_case@unmet")
    assert r["status"] == "skip" and r["message"] == "needs the command ipcproof-no-such-command"


def test_teardown_runs_after_a_failed_expectation(fixtures):
    r = result(fixtures, "teardown_runs_after_a_failed_expectation@one")
    assert r["status"] == "fail" and "failed on purpose" in r["message"]
    assert r["evidence"]["teardown"] == "1"
    assert "descriptors left open" not in r["message"]


def test_the_listing_gives_each_case_its_needs_and_whether_they_are_met_here(bindir):
    out = subprocess.run([str(bindir / "harness-fixtures"), "--ipcproof-list"], capture_output=True,
                         text=True, check=True).stdout
    rows = {r["case"]: r for r in map(json.loads, out.splitlines())}
    assert rows["fixture/unmet_need_is_a_skip_that_says_which"]["needs"] == [
        "/proc/self", "cmd:ipcproof-no-such-command"]
    assert rows["fixture/unmet_need_is_a_skip_that_says_which"]["skip"] == \
        "needs the command ipcproof-no-such-command"
    assert rows["fixture/each_variant_is_its_own_case@unmet"]["needs"] == ["cmd:ipcproof-no-such-command"]
    assert rows["fixture/each_variant_is_its_own_case@one"]["skip"] is None
    assert rows["fixture/child_exit_code_is_seen"] == {
        "case": "fixture/child_exit_code_is_seen", "claim": "fixture.harness",
        "source": rows["fixture/child_exit_code_is_seen"]["source"], "variant": None,
        "needs": [], "skip": None}


# The harness's files in layers, bottom first: each calls only into layers
# below it (evidence at the bottom, no circle between the case's life, its
# children and its I/O).
LAYERS = (("names", "base"), ("evidence", "ktap"), ("fs", "io", "faults"), ("children",),
          ("checkpoint", "needs"), ("case",), ("report",))


def symbols(obj, *flags):
    out = subprocess.run(["nm", *flags, str(obj)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if line.split()[-1].startswith("hx_")}


def test_the_harness_calls_only_down_its_layers(bindir):
    objects = bindir.parent / "CMakeFiles" / "harness.dir" / "harness"
    layer = {name: i for i, names in enumerate(LAYERS) for name in names}
    built = {o.name.removesuffix(".c.o") for o in objects.glob("*.c.o")}
    assert built == set(layer), "a harness file is missing from LAYERS"
    defined = {s: name for name in built for s in symbols(objects / f"{name}.c.o", "--defined-only")}
    upward = [f"{name} calls {s} of {defined[s]}" for name in sorted(built)
              for s in sorted(symbols(objects / f"{name}.c.o", "--undefined-only"))
              if s in defined and layer[defined[s]] >= layer[name]]
    assert upward == []
