"""host-i386: the cases built for i386, run on the running x86_64 kernel
through its compat system calls, with nothing of i386 installed on the host."""
import json
import subprocess
from types import SimpleNamespace

import pytest

from conftest import ipcproof
from driver import build, catalog, results
from driver.acquire import criterion, initramfs
from driver.kernels import compat, known, qemu

NAME = "host-i386"


@pytest.fixture(scope="module")
def i386_bindir(provision):
    if not compat.compat_enabled():
        pytest.skip("this kernel runs no i386 programs")
    provision(NAME)
    return qemu.cross_bindir(NAME, qemu.I386)(SimpleNamespace(cache=build.CACHE, bindir=None))


def test_the_binaries_are_i386_and_need_no_i386_loader_on_the_host(i386_bindir):
    interp, needed = initramfs.elf_needs(i386_bindir / "pipe")
    if criterion.choice() == "lean":
        assert (interp, needed) == (None, [])   # static programs
    else:   # Debian's Criterion: the sysroot's loader, by its path there
        root = build.CACHE / "cross" / "sysroot-i386"
        assert interp == f"{root}/lib/ld-linux.so.2" and "libcriterion.so.3" in needed
    header = (i386_bindir / "pipe").read_bytes()[:20]
    assert header[4] == 1 and header[18] == 3       # ELFCLASS32, EM_386
    # runs on the host with no i386 loader or library installed there
    info = json.loads(subprocess.run([str(i386_bindir / "kernel-info")], capture_output=True, text=True,
                                     check=True).stdout)
    assert info["word_bits"] == 32 and info["machine"] == "x86_64"


def test_pipe_area_runs_through_the_compat_layer(i386_bindir, tmp_path):
    code, _, stderr = ipcproof("run", "--kernels", NAME, "--areas", "pipe", "--no-build", "--out", tmp_path)
    doc = json.loads((tmp_path / "results.json").read_text())
    [kernel] = doc["kernels"]
    assert kernel["status"] == "ran" and kernel["complete"], stderr
    assert kernel["runner"] == "compat" and kernel["word_bits"] == 32 and kernel["page_size"] == 4096
    got = {r["case"]: r for r in doc["results"]}
    assert sorted(got) == sorted(c for c in catalog.claim_of_case(catalog.load()) if c.startswith("pipe/"))
    assert [(c, r["status"], r["message"]) for c, r in got.items() if r["status"] not in results.MATCHED] == []
    assert got["pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports@pipe"]["evidence"]["pipe_capacity"] == "65536"
    assert code == 0, stderr


def test_host_i386_is_listed_with_its_kind():
    kernel = known()[NAME]
    assert kernel.kind == "compat" and kernel.params["arch"] == "i386"
