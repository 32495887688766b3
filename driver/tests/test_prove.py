"""`prove`: the cases against the fault injector's mutant kernels.

The expected catches live in harness/inject/expected.txt; a fault listed
there that is no longer caught means a case lost its teeth (or a fault its
narrowness), and fails here.  The whole set takes minutes, so by default a
representative subset runs (about a minute: one fault per mechanism:
fstat, fcntl, fd numbers, peer programs, signals, blocking, capacity, dup2,
FIFO opens and stat, munmap, mmap flags, fault reports);
IPCPROOF_PROVE_ALL=1 runs every expected fault."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ipcproof
from driver import catalog, prove, session
from driver.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ROOT / "harness" / "inject" / "expected.txt"
SUBSET = ["pipe-not-a-fifo", "pipe-ends-read-write", "pipe-fds-not-lowest", "pipe-proc-fd-refused",
          "pipe-epipe-without-sigpipe", "pipe-read-polls", "pipe-holds-2-pages", "pipe-dup2-ignored",
          "fifo-write-open-does-not-wait", "fifo-stat-counts-queued", "munmap-unaligned-succeeds",
          "mmap-wronly-accepted", "mmap-private-snapshot", "sigbus-reported-as-alignment",
          "peer-mmap-private", "kill-is-sigqueue", "peer-ipc-fifo-refused",
          # the issue-12 families: one size path, checked after the moment, kin as strangers
          "pipe-small-writes-split", "peer-mmap-write-at-exit", "pipe-proc-fd-kin-only"]


def expected():
    lines = EXPECTED.read_text().splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


@pytest.fixture(scope="module")
def library(bindir):
    lib = Path(bindir) / prove.LIBRARY
    assert lib.is_file(), f"{lib} was not built"
    return lib


@pytest.fixture(scope="module")
def faults(library):
    return prove.declared_faults(library)


def test_every_fault_targets_catalogued_claims_and_names_are_unique(faults):
    ids = {c["id"] for c in catalog.load()}
    names = [f["name"] for f in faults]
    assert len(names) == len(set(names))
    assert len(faults) >= 15
    for f in faults:
        assert f["claims"] and set(f["claims"]) <= ids, f
        assert f["what"], f


def test_the_expected_catches_are_declared_faults(faults):
    names = {f["name"] for f in faults}
    assert set(expected()) <= names
    assert set(SUBSET) <= set(expected())


def test_an_unknown_fault_is_a_user_error(faults):
    with pytest.raises(UserError, match="unknown fault 'no-such-fault'"):
        prove.choose(faults, "pipe-not-a-fifo,no-such-fault")


def test_without_a_fault_name_the_library_is_inert(bindir, library, tmp_path):
    """Preloaded with no fault, or one it does not know, every case keeps
    its clean status: a fault is only ever what prove asks for."""
    binary = Path(bindir) / "pipe"
    clean = session.on_host([binary], 2).raw["pipe"]
    for fault in ("", "no-such-fault"):
        got = session.on_host([binary], 2, env={"LD_PRELOAD": str(library), "IPCPROOF_FAULT": fault}).raw["pipe"]
        assert {c: r["status"] for c, r in got.items()} == {c: r["status"] for c, r in clean.items()}


def verdict(red=(), unrelated=(), broken=()):
    claim_of = {"pipe/a": "pipe.x", "pipe/b": "pipe.x", "pipe/c": "pipe.y", "ipc/new": ""}
    clean = {c: {"status": "pass"} for c in claim_of}
    faulted = {c: {"status": "fail" if c in red or c in unrelated else "pass", "message": ""}
               for c in claim_of}
    return prove.judge({"name": "f", "claims": ["pipe.x"], "what": "w"}, clean, faulted,
                       list(broken), claim_of)


def test_a_catch_needs_a_red_case_of_the_claim_and_nothing_else_changed():
    assert verdict(red=["pipe/a"])["caught"]
    assert not verdict()["caught"]
    v = verdict(red=["pipe/a"], unrelated=["pipe/c"])
    assert not v["caught"] and "pipe/c" in v["why"]
    v = verdict(red=["pipe/a"], broken=[{"binary": "pipe", "hung": True, "exit_code": -9,
                                         "cases_without_result": 3}])
    assert not v["caught"] and "crashed or hung" in v["why"]
    # A case no claim owns yet is reported but judges nothing.
    v = verdict(red=["pipe/a", "ipc/new"])
    assert v["caught"] and [c["case"] for c in v["unclaimed"]] == ["ipc/new"]


def test_the_expected_faults_are_still_caught(tmp_path):
    chosen = expected() if os.environ.get("IPCPROOF_PROVE_ALL") else SUBSET
    out = tmp_path / "prove"
    done = subprocess.run([sys.executable, "-c",
                           "import sys; from driver import prove; sys.exit(prove.main(sys.argv[1:]))",
                           "--out", str(out), "--faults", ",".join(chosen)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL)
    assert done.returncode in (0, 1), done.stderr
    doc = json.loads((out / "prove.json").read_text())
    assert (out / "prove.md").read_text().startswith("# ipcproof prove")
    lost = {v["name"]: v["why"] for v in doc["faults"] if not v["caught"]}
    assert lost == {}
    assert done.returncode == 0


@pytest.mark.parametrize("kernel", ["uml", "gvisor"])
def test_prove_runs_on_the_sandboxed_kernels_and_catches_there(kernel, provision, bindir, tmp_path):
    """The mutants run inside the kernel (the injector preloaded there), so
    a compatibility layer's cases are proved on it, not on the host."""
    provision(kernel)
    code, _, stderr = ipcproof("prove", "--kernel", kernel, "--areas", "pipe", "--faults", "pipe-ends-read-write",
                               "--out", tmp_path)
    doc = json.loads((tmp_path / "prove.json").read_text())
    assert doc["kernel"] == kernel and code == 0, stderr
    [verdict] = doc["faults"]
    assert verdict["caught"] and verdict["red"], verdict
