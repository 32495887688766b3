"""Bad input: one clear line on stderr, a non-zero exit, no half-written report."""
import json
import os
import re
import subprocess

import pytest

from conftest import ROOT, ipcproof
from driver import results
from driver.reports import html as report_html, junit as report_junit, md as report_md


def one_line_error(code, stderr):
    assert code == 2
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ipcproof: "), stderr
    return lines[0]


def test_unknown_kernel(tmp_path):
    line = one_line_error(*ipcproof("run", "--kernels", "host,vax", "--out", tmp_path)[::2])
    assert "unknown kernel 'vax'" in line


def test_unknown_area(tmp_path):
    assert "unknown area" in one_line_error(*ipcproof("run", "--areas", "sockets", "--out", tmp_path)[::2])


def test_output_dir_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = one_line_error(*ipcproof("run", "--out", blocker / "out")[::2])
    assert "cannot create the output directory" in line


def small_doc():
    return {"schema": results.SCHEMA, "generated": "now",
            "kernels": [{"id": "host", "release": "6.1", "machine": "x86_64"}],
            "claims": [{"id": "pipe.x.y", "area": "pipe", "note": "管道", "statement": "s",
                        "truth": "t", "note_verdict": "refuted", "why": "w", "refs": [],
                        "cases": ["pipe/a"]}],
            "results": [{"claim": "pipe.x.y", "case": "pipe/a", "kernel": "host", "status": "fail",
                         "duration_s": 0.1, "evidence": {}, "message": "m"}]}


@pytest.mark.parametrize("content, words", [
    ('{"schema": "ipcproof/results/1", "kernels": [', "not valid JSON"),
    ('[1, 2]', "top level is not an object"),
    ('{"schema": "other/1"}', "schema is 'other/1'"),
    (json.dumps(dict(small_doc(), results=[{"case": "pipe/a"}])), "results[0] has no claim"),
    (json.dumps(dict(small_doc(), results=[dict(small_doc()["results"][0], status="ok")])), "status 'ok'"),
    ("\udcff", "not valid JSON"),
])
def test_malformed_results_file_writes_no_report(tmp_path, content, words):
    src = tmp_path / "results.json"
    src.write_text(content, errors="surrogateescape")
    out = tmp_path / "out"
    line = one_line_error(*ipcproof("report", src, "--out", out)[::2])
    assert words in line
    assert not out.exists() or list(out.iterdir()) == []


def test_missing_results_file(tmp_path):
    assert "cannot read" in one_line_error(*ipcproof("report", tmp_path / "none.json", "--out", tmp_path)[::2])


def test_report_from_a_results_file_round_trips(tmp_path):
    src = tmp_path / "results.json"
    src.write_text(json.dumps(small_doc()))
    code, _, stderr = ipcproof("report", src, "--out", tmp_path / "out")
    assert code == 0, stderr
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == small_doc()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "junit.xml", "kcidb.json", "notes.html", "report.html", "report.md", "results.json", "results.ktap"]


HOSTILE = '<script>alert(1)</script> | `tick` **bold** [link](http://x) # head\n</td></table>\x07'


def hostile_doc():
    doc = small_doc()
    doc["results"][0].update(message=HOSTILE, evidence={"k<b>": HOSTILE})
    doc["claims"][0].update(why=HOSTILE, note=HOSTILE)
    return doc


def test_a_reader_that_stops_early_ends_the_listing_without_a_traceback(tmp_path):
    """`claims | head`: stdout a pipe whose reader has gone."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([str(ROOT / "ipcproof"), "claims"], stdout=write, stderr=subprocess.PIPE,
                              text=True, timeout=60, env=dict(os.environ, IPCPROOF_CACHE=str(tmp_path)))
    finally:
        os.close(write)
    assert (done.returncode, done.stderr) == (141, "")


def test_only_stdout_s_broken_pipe_is_taken_for_a_reader_that_stopped(monkeypatch):
    """Another pipe's EPIPE (a helper's stdin) is an error of the driver's,
    not the user's `| head`."""
    from driver import session
    read, write = os.pipe()
    with os.fdopen(write, "w") as out:
        monkeypatch.setattr("sys.stdout", out)
        assert not session.stdout_gone()
        os.close(read)
        assert session.stdout_gone()


def test_hostile_strings_do_not_become_html():
    page = report_html.render(hostile_doc())
    assert "<script" not in page and "</table>\x07" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_hostile_strings_do_not_become_markdown():
    md = report_md.render(hostile_doc())
    assert "<script" not in md and "</td>" not in md
    for line in md.splitlines():
        if line.startswith("| `pipe/a`"):
            assert len(re.findall(r"(?<!\\)\|", line)) == 3  # two cells: case, host


def test_hostile_strings_keep_junit_parseable():
    import xml.etree.ElementTree as ET
    root = ET.fromstring(report_junit.render(hostile_doc()).split("\n", 1)[1])
    assert root.find(".//failure").text.startswith("<script>")


def test_a_failed_write_leaves_the_previous_report(tmp_path, monkeypatch):
    from driver import fsutil
    from driver.errors import UserError
    target = tmp_path / "report.md"
    target.write_text("old")

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsutil.os, "fsync", refuse)
    with pytest.raises(UserError, match="No space left"):
        fsutil.write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
