"""`./ipcproof bench` once on the host with tiny sizes: the path stays alive
and its outputs keep their shape.  Timings on shared cores are noise, so
nothing here compares speeds."""
import json
import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pytest

from driver import bench, procs
from conftest import alive

TINY = ["--rounds", "20", "--bytes", "200000", "--chunk", "4096", "--values", "200", "--repeat", "3"]


@pytest.fixture(scope="module")
def benched(bindir, tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    tmp = tmp_path_factory.mktemp("tmp")
    old = tempfile.tempdir
    tempfile.tempdir = str(tmp)   # the run's private dir, and ipc-bench's FIFO dir in it, go here
    try:
        code = bench.main(["--out", str(out), "--no-build", *TINY])
    finally:
        tempfile.tempdir = old
    return {"code": code, "out": out, "tmp": tmp, "doc": json.loads((out / "bench.json").read_text())}


def test_every_mechanism_is_measured_with_positive_numbers(benched):
    assert benched["code"] == 0
    [host] = benched["doc"]["kernels"]
    assert host["id"] == "host" and host["status"] == "ran" and host["errors"] == {}
    assert host["page_size"] > 0 and host["uname"]["release"]
    assert set(host["mechanisms"]) == set(bench.MECHANISMS)
    for name, m in host["mechanisms"].items():
        for key in ("latency_ns", "throughput_MBps"):
            s = m[key]
            assert len(s["samples"]) == 3, (name, key)
            assert 0 < s["min"] <= s["median"] <= s["max"], (name, key, s)
    assert host["mechanisms"]["signal"]["values_per_s"]["median"] > 0


def test_every_claim_has_a_verdict_and_its_rule(benched):
    [host] = benched["doc"]["kernels"]
    verdicts = {v["mechanism"]: v for v in host["verdicts"]}
    assert set(verdicts) == {"signal", "mmap", "pipe", "socket"}
    for v in verdicts.values():
        assert v["rule"] and v["figures"] and v["note"]
        assert v["verdict"] in ("holds", "does not hold", "not measurable", "not measured")
    assert verdicts["signal"]["verdict"] in ("holds", "does not hold")
    assert verdicts["mmap"]["verdict"] in ("holds", "does not hold")
    assert verdicts["signal"]["ranges_overlap"] in (True, False)   # a close call is said, not hidden
    assert verdicts["pipe"]["verdict"] == "not measurable"
    assert sorted(verdicts["signal"]["ranking"]) == sorted(bench.MECHANISMS)


def test_the_html_draws_the_measurements_as_well_formed_inline_svg(benched):
    html = (benched["out"] / "bench.html").read_text()
    svgs = re.findall(r"<svg\b.*?</svg>", html, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(root.findall("{http://www.w3.org/2000/svg}rect")) == len(bench.MECHANISMS)
    assert not re.search(r"<script|\bsrc=|href=\"http", html)
    md = (benched["out"] / "bench.md").read_text()
    assert "does not hold" in md or "holds" in md


def test_nothing_is_left_behind(benched):
    assert list(benched["tmp"].iterdir()) == []
    assert not [n for n in os.listdir(benched["out"]) if n.startswith(".")]   # no half-written report
    assert [p for p in procs.descendants(os.getpid()) if alive(p)] == []


def test_bad_sizes_are_one_line_and_exit_2(tmp_path, capsys):
    assert bench.main(["--out", str(tmp_path), "--no-build", "--repeat", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--repeat" in err
    assert list(tmp_path.iterdir()) == []


def test_ipc_bench_rejects_bad_arguments(bindir):
    for args in (["--rounds", "0"], ["--bogus", "1"], ["--only", "carrier-pigeon"], ["--rounds"]):
        done = subprocess.run([str(bindir / "ipc-bench"), *args], capture_output=True, text=True)
        assert done.returncode == 2 and done.stdout == "", args


@pytest.mark.parametrize("kernel", ["uml", "gvisor"])
def test_the_benchmark_runs_on_a_sandboxed_kernel_through_the_same_runner(kernel, provision, bindir, tmp_path):
    provision(kernel)
    code = bench.main(["--kernels", kernel, "--out", str(tmp_path), "--no-build", *TINY])
    [entry] = json.loads((tmp_path / "bench.json").read_text())["kernels"]
    assert code == 0 and entry["id"] == kernel and entry["status"] == "ran", entry.get("miss_reason")
    assert set(entry["mechanisms"]) == set(bench.MECHANISMS) and entry["errors"] == {}
