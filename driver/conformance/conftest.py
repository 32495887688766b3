"""The pytest face of ipcproof: one test item per claim and kernel.

    pytest-3 driver/conformance --kernels=host,uml,gvisor [--areas=pipe] [--junitxml=out.xml]

One `./ipcproof run` covers the session; each item then reads its claim's
cases on its kernel from the results, so CI systems get pass/fail/xfail per
claim x kernel in the form they already read."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from driver import catalog, kernels  # noqa: E402
from driver.errors import UserError  # noqa: E402


def pytest_addoption(parser):
    group = parser.getgroup("ipcproof")
    group.addoption("--kernels", default="host", help="comma-separated kernels, or all")
    group.addoption("--areas", default=None, help="comma-separated areas (default: all)")
    group.addoption("--ipcproof-out", default=None, help="keep the reports in this directory")


def pytest_configure(config):
    kernel_names(config)  # a bad --kernels is a usage error before collection


def kernel_names(config):
    try:
        return [t.name for t in kernels.resolve(config.getoption("--kernels"))]
    except UserError as e:
        raise pytest.UsageError(str(e)) from None


def chosen_claims(config):
    areas = config.getoption("--areas")
    wanted = set(areas.split(",")) if areas else set(catalog.AREAS)
    return [c for c in catalog.load() if c["area"] in wanted]


def pytest_generate_tests(metafunc):
    if {"kernel", "claim"} <= set(metafunc.fixturenames):
        pairs = [(k, c) for k in kernel_names(metafunc.config) for c in chosen_claims(metafunc.config)]
        metafunc.parametrize(("kernel", "claim"), pairs, ids=[f"{k}:{c['id']}" for k, c in pairs])


@pytest.fixture(scope="session")
def doc(pytestconfig):
    out = pytestconfig.getoption("--ipcproof-out")
    keep = None if out else tempfile.TemporaryDirectory(prefix="ipcproof-pytest-")
    out = Path(out or keep.name)
    cmd = [str(ROOT / "ipcproof"), "run", "--kernels", ",".join(kernel_names(pytestconfig)), "--out", str(out)]
    if pytestconfig.getoption("--areas"):
        cmd += ["--areas", pytestconfig.getoption("--areas")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        pytest.fail(f"ipcproof run failed: {done.stderr.strip()}", pytrace=False)
    with open(out / "results.json", encoding="utf-8") as f:
        data = json.load(f)
    yield data
    if keep:
        keep.cleanup()
