"""The two timing scripts stay alive and keep their shape: the per-kernel
profile once on the host, the LTP comparison against a stand-in LTP tree.
Timings on shared cores are noise, so nothing here compares speeds."""
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT
from driver import bench_ltp, bench_runtime

PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def script(module, *args, tmp):
    """The script as a user runs it, its temp files in tmp."""
    return subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, env=dict(os.environ, TMPDIR=str(tmp)),
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=600)


@pytest.fixture(scope="module")
def profiled(bindir, tmp_path_factory):
    tmp, out = tmp_path_factory.mktemp("tmp"), tmp_path_factory.mktemp("out")
    done = script("driver.bench_runtime", "--kernels", "host", "--repeat", "1", "--no-build",
                  "--json", str(out / "profile.json"), tmp=tmp)
    return {"done": done, "tmp": tmp, "doc": json.loads((out / "profile.json").read_text())}


def test_the_host_profile_has_every_figure(profiled):
    assert profiled["done"].returncode == 0, profiled["done"].stderr
    doc = profiled["doc"]
    [row] = doc["kernels"]
    assert row["kernel"] == "host" and row["status"] == "ran" and row["runs"] == 1 and row["misses"] == []
    for key, _ in bench_runtime.COLUMNS:
        assert isinstance(row[key], (int, float)) and len(row[f"{key}_range"]) == 2, key
    # every step ran to its end, and each empty binary held all its tests
    assert row["hung"] == []
    assert row["empty_tests"] == doc["empty_tests"] > 0 and row["harness_results"] == row["empty_tests"]
    assert row["harness_in_case_ms"] > 0 and row["bodies_s"] <= row["cases_own_s"]
    assert row["cases"] > 0 and row["criterion_empty_s"] > 0 and row["areas_s"] > 0 and row["cases_own_s"] > 0
    assert row["boot_s"] == 0 and row["run_s"] > 0 and row["total_s"] >= row["run_s"]


def test_the_profile_prints_its_table_and_leaves_nothing(profiled):
    lines = profiled["done"].stdout.splitlines()
    assert lines[1].split(" | ")[0] == "kernel" and lines[3].startswith("host | ")
    assert len(lines[3].split(" | ")) == len(bench_runtime.COLUMNS) + 1
    assert list(profiled["tmp"].iterdir()) == []


def test_the_harness_empty_binary_is_no_area(bindir):
    from driver import catalog
    assert not set(bench_runtime.EMPTY) & set(catalog.AREAS)
    assert not any(c["claim"] == "bench.empty" for c in catalog.case_sources())


@pytest.mark.parametrize("args", [[], ["--ltp", "/nonexistent/ltp"], ["--ltp", str(ROOT)]])
def test_bench_ltp_without_an_ltp_is_one_line_and_exit_2(args, tmp_path):
    done = script("driver.bench_ltp", *args, "--json", str(tmp_path / "x.json"), tmp=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("bench_ltp: --ltp")
    assert list(tmp_path.iterdir()) == []


def fake_ltp(root):
    """An LTP tree of two shell programs that say what LTP's tests say,
    each writing down the TMPDIR it was given."""
    (root / "runtest").mkdir()
    (root / "testcases" / "bin").mkdir(parents=True)
    (root / "runtest" / "syscalls").write_text(
        "# comment\npipe01 pipe01\nmmap21_01 mmap21 -m 1\nread01 read01\n")
    programs = {"pipe01": 'echo "pipe01.c:1: TPASS: ok"; echo "pipe01.c:2: TPASS: ok" >&2',
                "mmap21": 'echo "mmap21 1 TPASS : $1"; echo "mmap21.c:3: TCONF: no"',
                "read01": 'echo "read01.c:1: TPASS: never run"'}
    for name, body in programs.items():
        path = root / "testcases" / "bin" / name
        path.write_text(f'#!/bin/sh\necho "$TMPDIR" >> "$LTPROOT/tmpdirs"\n{body}\n')
        path.chmod(0o755)
    return root


def test_ltp_tests_of_the_areas_run_each_in_a_tmpdir_of_its_own(tmp_path):
    ltp = fake_ltp(tmp_path)
    entries = bench_ltp.ltp_entries(ltp)
    assert entries == [("pipe01", ["pipe01"]), ("mmap21_01", ["mmap21", "-m", "1"])]
    assert bench_ltp.run_ltp(ltp, entries) == {"TPASS": 3, "TFAIL": 0, "TBROK": 0, "TCONF": 1}
    dirs = (ltp / "tmpdirs").read_text().split()
    assert len(dirs) == 2 and len(set(dirs)) == 2 and not any(os.path.exists(d) for d in dirs)


def test_bench_ltp_pairs_the_three_runs(bindir, tmp_path):
    (tmp_path / "ltp").mkdir()
    (tmp_path / "tmp").mkdir()
    ltp, tmp = fake_ltp(tmp_path / "ltp"), tmp_path / "tmp"
    done = script("driver.bench_ltp", "--ltp", str(ltp), "--repeat", "2", "--no-build",
                  "--json", str(tmp_path / "ltp.json"), tmp=tmp)
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "ltp.json").read_text())
    assert doc["ltp_tests"] == 2 and doc["ltp_counts"]["TPASS"] == 3 and doc["results"] > 0
    assert all(len(doc["times"][k]["samples_s"]) == 2 for k in "abc")
    assert doc["per_result_ms"] > 0 and doc["ratio_run_to_empty_criterion"] > 0
    assert "(b)/(c) = " in done.stdout
    assert list(tmp.iterdir()) == []
