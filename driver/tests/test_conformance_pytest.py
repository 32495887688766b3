"""The pytest driver: one item per claim x kernel, with --junitxml."""
import subprocess
import sys
import xml.etree.ElementTree as ET

from conftest import ROOT
from driver import catalog


def pytest_run(*args):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(ROOT / "driver" / "conformance"), *args],
                          capture_output=True, text=True, cwd=ROOT)


def test_one_item_per_claim_and_kernel_in_junit(tmp_path, bindir):
    done = pytest_run("--kernels=host", "--areas=pipe", f"--junitxml={tmp_path / 'j.xml'}")
    assert done.returncode == 0, done.stdout[-2000:]
    names = [tc.get("name") for tc in ET.parse(tmp_path / "j.xml").getroot().iter("testcase")]
    expected = [f"test_claim[host:{c['id']}]" for c in catalog.load() if c["area"] == "pipe"]
    assert sorted(names) == sorted(expected)


def test_unknown_kernel_is_a_usage_error():
    done = pytest_run("--kernels=vax")
    assert done.returncode == 4
    assert "unknown kernel 'vax'" in done.stderr + done.stdout
