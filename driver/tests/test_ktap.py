"""results.ktap and the case binaries' --ktap console output, read back with
a strict parser written to the kernel's Documentation/dev-tools/ktap.rst
(KTAP version 1) and compared with results.json case by case."""
import json
import os
import re
import subprocess

import pytest

from conftest import ROOT, fake_build, ipcproof
from driver.reports import ktap as report_ktap

VERSIONS = ("KTAP version 1", "TAP version 13", "TAP version 14")
PLAN = re.compile(r"1\.\.(\d+)")
# "<result> <number> [<description>][ # [<directive>] [<diagnostic data>]]";
# a description cannot hold '#'.
RESULT = re.compile(r"(ok|not ok) (\d+)(?: ([^#]*?))?\s*(?:#\s*(.*))?")
DIRECTIVES = ("SKIP", "TODO", "XFAIL", "TIMEOUT", "ERROR")
INDENT = "  "


class KtapError(AssertionError):
    pass


class Node:
    def __init__(self, ok, number, name, directive, data, diagnostics, subtests):
        self.ok, self.number, self.name = ok, number, name
        self.directive, self.data = directive, data
        self.diagnostics, self.subtests = diagnostics, subtests

    def __repr__(self):
        return f"<{'ok' if self.ok else 'not ok'} {self.number} {self.name} {self.directive or ''}>"


def parse(text):
    """The top-level tests of one KTAP document. Strict: any line that is
    not a version, plan, result or diagnostic line at its nesting depth is
    an error (the spec allows unknown lines; ipcproof writes none), and so
    are a plan that does not match, numbers that do not count up from 1, a
    TIMEOUT or ERROR that is `ok`, and a parent that is `ok` while one of
    its subtests is not."""
    if not text.endswith("\n"):
        raise KtapError("KTAP output does not end with a newline")
    lines = text[:-1].split("\n")
    tests, pos = block(lines, 0, 0)
    if pos != len(lines):
        raise KtapError(f"line {pos + 1}: trailing line {lines[pos]!r}")
    return tests


def split(line):
    body = line.lstrip(" ")
    pad = len(line) - len(body)
    if pad % len(INDENT):
        raise KtapError(f"indentation of {pad} spaces is not a whole number of levels: {line!r}")
    return pad // len(INDENT), body


def block(lines, pos, depth):
    """A version line at depth, an optional plan, then results (each after
    its diagnostics and nested subtests) until a line of a lower depth."""
    level, body = split(lines[pos])
    if level != depth or body not in VERSIONS:
        raise KtapError(f"line {pos + 1}: expected a version line at depth {depth}, got {lines[pos]!r}")
    pos += 1
    plan = None
    if pos < len(lines):
        level, body = split(lines[pos])
        if level == depth and PLAN.fullmatch(body):
            plan = int(body[3:])
            pos += 1
    tests, diagnostics, subtests = [], [], []
    while pos < len(lines):
        level, body = split(lines[pos])
        if level < depth:
            break
        if level == depth + 1 and body in VERSIONS:
            if subtests:
                raise KtapError(f"line {pos + 1}: a second set of subtests before a result line")
            subtests, pos = block(lines, pos, depth + 1)
            continue
        if level != depth:
            raise KtapError(f"line {pos + 1}: unknown line {lines[pos]!r}")
        if body.startswith("#"):
            diagnostics.append(body[1:].strip())
            pos += 1
            continue
        m = RESULT.fullmatch(body)
        if not m:
            raise KtapError(f"line {pos + 1}: unknown line {lines[pos]!r}")
        result, number, name, tail = m.group(1), int(m.group(2)), (m.group(3) or "").strip(), m.group(4)
        if number != len(tests) + 1:
            raise KtapError(f"line {pos + 1}: test number {number}, expected {len(tests) + 1}")
        word, _, rest = (tail or "").partition(" ")
        directive, data = (word, rest.strip()) if word in DIRECTIVES else (None, (tail or "").strip())
        ok = result == "ok"
        if ok and directive in ("TIMEOUT", "ERROR"):
            raise KtapError(f"line {pos + 1}: {directive} on an ok result")
        if ok and any(not t.ok for t in subtests):
            raise KtapError(f"line {pos + 1}: {name} is ok but one of its subtests is not")
        tests.append(Node(ok, number, name, directive, data, diagnostics, subtests))
        diagnostics, subtests = [], []
        pos += 1
    if subtests:
        raise KtapError(f"line {pos}: subtests at depth {depth + 1} with no result line after them")
    if plan is not None and plan != len(tests):
        raise KtapError(f"plan 1..{plan} but {len(tests)} results at depth {depth}")
    return tests, pos


def unescape(value):
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), value)


def diagnostics_of(test):
    """claim, evidence {key: value}, other diagnostic lines."""
    claim, evidence, other = None, {}, []
    for d in test.diagnostics:
        if d.startswith("claim: "):
            claim = d[len("claim: "):]
        elif d.startswith("evidence: "):
            key, _, value = d[len("evidence: "):].partition("=")
            evidence[key] = unescape(value)
        else:
            other.append(d)
    return claim, evidence, other


# What each ipcproof status must look like in KTAP: (ok, directive).
EXPECTED = {"pass": (True, None), "fail": (False, None), "error": (False, "ERROR"),
            "timeout": (False, "TIMEOUT"), "skip": (True, "SKIP"), "xfail": (True, "XFAIL"),
            "xpass": (True, None)}


def compare(doc, tests):
    """results.ktap against results.json, case by case; the statuses seen."""
    assert [t.name for t in tests] == [k["id"] for k in doc["kernels"]]
    seen = set()
    for kernel, kt in zip(doc["kernels"], tests):
        results = [r for r in doc["results"] if r["kernel"] == kernel["id"]]
        # one subtest per area, each holding its cases in results.json's order
        got = {area.name: [c for c in area.subtests] for area in kt.subtests}
        for area, cases in got.items():
            assert [f"{area}/{c.name}" for c in cases] == [r["case"] for r in results
                                                           if r["case"].startswith(f"{area}/")], kernel["id"]
        assert sum(len(cases) for cases in got.values()) == len(results), kernel["id"]
        by_case = {f"{area}/{c.name}": c for area, cases in got.items() for c in cases}
        for r, case in ((r, by_case[r["case"]]) for r in results):
            claim, evidence, other = diagnostics_of(case)
            assert (case.ok, case.directive) == EXPECTED[r["status"]], (r["case"], r["status"], case)
            assert claim == (r["claim"] or None) and evidence == r["evidence"], r["case"]
            if r["status"] == "xfail":
                assert case.data == r["divergence"].splitlines()[0].strip()
                assert f"observed: {r['observed_status']}" in other
            if r["status"] == "xpass":
                assert any(d.startswith("xpass: ") for d in other), r["case"]
            if case.directive in ("SKIP", "ERROR", "TIMEOUT"):
                assert case.data == (r["message"].strip().splitlines() or [""])[0].strip()
            seen.add(r["status"])
        assert kt.ok == all(t.ok for t in kt.subtests)
        assert kt.diagnostics[-1].startswith(f"kernel: {kernel['id']} ")
    return seen


def test_every_run_writes_results_ktap_matching_results_json(run):
    text = (run["out"] / "results.ktap").read_text()
    assert text.startswith("KTAP version 1\n1..1\n")
    tests = parse(text)
    assert compare(run["doc"], tests) >= {"pass"}
    assert sum(len(a.subtests) for a in tests[0].subtests) == len(run["doc"]["results"]) > 100


def test_seven_kernels_with_skips_declared_divergences_and_an_xpass_read_back():
    doc = json.loads((ROOT / "reports" / "reference" / "all" / "results.json").read_text())
    # a declaration whose kernel behaved after all (the reference has none now)
    xfail = next(r for r in doc["results"] if r["status"] == "xfail")
    xfail["status"] = "xpass"
    del xfail["observed_status"]
    assert compare(doc, parse(report_ktap.render(doc))) == {"pass", "skip", "xfail", "xpass"}


def test_failures_errors_timeouts_and_a_missed_kernel(tmp_path, bindir):
    """The harness's fixtures fail, crash, leak, hang and skip on purpose;
    a second kernel that was missed has its reason and no subtests."""
    code, _, stderr = ipcproof("run", "--areas", "pipe", "--no-build", "--filter", "fixture/*",
                               "--out", tmp_path / "out",
                               env={"IPCPROOF_BUILD": str(fake_build(tmp_path, bindir)), "IPCPROOF_CASE_LIMIT": "2"})
    assert code == 1, stderr
    doc = json.loads((tmp_path / "out" / "results.json").read_text())
    seen = compare(doc, parse((tmp_path / "out" / "results.ktap").read_text()))
    assert seen == {"pass", "fail", "error", "timeout", "skip"}
    doc["kernels"].append({"id": "debian-6.1", "runner": "qemu", "status": "miss",
                           "miss_reason": "kernel panic: VFS: Unable to mount root fs\nmore"})
    tests = parse(report_ktap.render(doc))
    missed = tests[-1]
    assert (missed.ok, missed.directive, missed.subtests) == (False, "ERROR", [])
    assert missed.data == "kernel missed: kernel panic: VFS: Unable to mount root fs"


def test_hostile_names_and_values_stay_one_line_each():
    doc = {"kernels": [{"id": "host#1", "status": "ran"}],
           "results": [{"kernel": "host#1", "case": "pipe/a#b", "claim": "c", "status": "error",
                        "evidence": {"k": "line1\nline2 \\ # not a directive\r"},
                        "message": "first # line\n\nsecond\n"}]}
    tests = parse(report_ktap.render(doc))
    case = tests[0].subtests[0].subtests[0]
    assert tests[0].name == "host_1" and case.name == "a_b"
    assert (case.directive, case.data) == ("ERROR", "first # line")
    claim, evidence, other = diagnostics_of(case)
    assert evidence == doc["results"][0]["evidence"] and other == ["message: second"]


@pytest.mark.parametrize("bad, why", [
    ("KTAP version 1\n1..2\nok 1 a\n", "plan 1..2 but 1"),
    ("KTAP version 1\n1..2\nok 1 a\nok 3 b\n", "test number 3, expected 2"),
    ("KTAP version 1\n1..1\n  KTAP version 1\n  1..1\n  not ok 1 x\nok 1 parent\n", "subtests is not"),
    ("KTAP version 1\n1..1\nok 1 a # TIMEOUT 30 seconds\n", "TIMEOUT on an ok result"),
    ("KTAP version 1\n1..1\n ok 1 a\n", "indentation of 1"),
    ("KTAP version 1\n1..1\nwhatever\nok 1 a\n", "unknown line"),
    ("TAP version 12\n1..0\n", "expected a version line"),
    ("KTAP version 1\n1..1\nok 1 a", "newline"),
])
def test_the_parser_rejects_what_the_spec_does_not_allow(bad, why):
    with pytest.raises(KtapError, match=why):
        parse(bad)


def test_the_parser_reads_the_specs_own_example():
    example = ("KTAP version 1\n1..1\n  KTAP version 1\n  1..3\n    KTAP version 1\n    1..1\n"
               "    # test_1: initializing test_1\n    ok 1 test_1\n  ok 1 example_test_1\n"
               "    KTAP version 1\n    1..2\n    ok 1 test_1 # SKIP test_1 skipped\n    ok 2 test_2\n"
               "  ok 2 example_test_2\n    KTAP version 1\n    1..3\n    ok 1 test_1\n    # test_2: FAIL\n"
               "    not ok 2 test_2\n    ok 3 test_3 # SKIP test_3 skipped\n  not ok 3 example_test_3\n"
               "not ok 1 main_test\n")
    (main,) = parse(example)
    assert (main.name, main.ok, [t.name for t in main.subtests]) == (
        "main_test", False, ["example_test_1", "example_test_2", "example_test_3"])
    skipped = main.subtests[1].subtests[0]
    assert (skipped.ok, skipped.directive, skipped.data) == (True, "SKIP", "test_1 skipped")
    assert main.subtests[2].subtests[1].diagnostics == ["test_2: FAIL"]


def results_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("binary, pattern", [("pipe", "pipe/*"), ("harness-fixtures", "fixture/*")])
def test_case_binaries_print_ktap_on_the_console_with_ktap(tmp_path, bindir, binary, pattern):
    """What a lab that keeps only the console gets: one KTAP document a
    binary on stdout, case for case what the harness wrote to its results
    file in the same run."""
    results = tmp_path / "results.jsonl"
    done = subprocess.run([str(bindir / binary), "--ktap", "--jobs", "2", "--filter", pattern],
                          capture_output=True, text=True, errors="replace", timeout=300,
                          env=dict(os.environ, IPCPROOF_RESULTS=str(results), IPCPROOF_CASE_LIMIT="2",
                                   TMPDIR=str(tmp_path)))
    assert "unrecognized option" not in done.stderr
    tests = parse(done.stdout)
    want = results_lines(results)
    assert [t.name for t in tests] == [r["case"] for r in want] and len(want) > 10
    for t, r in zip(tests, want):
        _, evidence, _ = diagnostics_of(t)
        assert (t.ok, t.directive) == EXPECTED[r["status"]], (r["case"], t)
        assert evidence == r["evidence"], r["case"]
        if t.directive:
            assert t.data == r["message"].splitlines()[0].strip()
