"""Debian kernels booted under QEMU: real images from the archive, a real
boot, the results back over the second serial port."""
import base64
import dataclasses
import gzip
import hashlib
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, alive, ipcproof, pipe_area_run
from driver import build, catalog, procs, results, runner
from driver.acquire import cached, criterion, images, initramfs, pvh
from driver.errors import Miss
from driver.kernels import qemu, qemu_boot

KERNEL = "debian-6.12"
CACHE = build.CACHE


@pytest.fixture(scope="module")
def tools(provision):
    provision(KERNEL)


@pytest.fixture(scope="module")
def pipe_run(tmp_path_factory, bindir, tools):
    return pipe_area_run(KERNEL, tmp_path_factory)


def test_pipe_area_runs_on_the_newest_debian_612_kernel(pipe_run):
    [kernel] = pipe_run["doc"]["kernels"]
    assert kernel["id"] == KERNEL and kernel["runner"] == "qemu", pipe_run["stderr"]
    assert kernel["status"] == "ran" and kernel["complete"]
    assert re.fullmatch(r"6\.12\.\d+\+deb12-amd64", kernel["release"])
    assert kernel["machine"] == "x86_64" and kernel["page_size"] == 4096 and kernel["word_bits"] == 64
    newest = images.newest_package(qemu.SERIES[KERNEL][1])
    assert kernel["package"] == newest
    assert kernel["package_version"] in kernel["version"]  # uname -v names the Debian version
    assert kernel["boot_s"] > 0 and kernel["run_s"] > 0
    assert (pipe_run["out"] / kernel["boot_log"]).read_text(errors="replace").count("Linux version 6.12") == 1
    # entered at its PVH entry: the vmlinux decompressed from the package's bzImage
    assert kernel["boot_entry"] == "pvh"


def test_the_run_leaves_no_temp_files_and_keeps_the_guest_logs(pipe_run):
    assert list(pipe_run["tmp"].iterdir()) == []
    logs = pipe_run["out"] / "logs"
    assert "Synthesis" in (logs / f"{KERNEL}-pipe.log").read_text()
    assert "ipcproof-init: results sent" in (logs / f"{KERNEL}-console.log").read_text(errors="replace")


def test_every_pipe_case_has_a_status_and_matches_the_catalog(pipe_run):
    claimed = sorted(c for c in catalog.claim_of_case(catalog.load()) if c.startswith("pipe/"))
    got = {r["case"]: r for r in pipe_run["doc"]["results"]}
    assert sorted(got) == claimed
    bad = [(c, r["status"], r["message"]) for c, r in got.items() if r["status"] not in results.MATCHED]
    assert bad == []
    # bash is in the guest, so the `ulimit -p` case really runs
    assert got["pipe/ulimit_pipe_size_is_pipe_buf_not_the_capacity"]["status"] == "pass"
    assert pipe_run["code"] == 0, pipe_run["stderr"]


def run_pipe_area(name, tmp_path):
    """(exit code, stderr, results.json, the kernel's entry) of the pipe area on one kernel,
    every claimed pipe case with a result."""
    code, _, stderr = ipcproof("run", "--kernels", name, "--areas", "pipe", "--no-build", "--out", tmp_path)
    doc = json.loads((tmp_path / "results.json").read_text())
    [kernel] = doc["kernels"]
    assert kernel["status"] == "ran" and kernel["complete"], stderr
    statuses = {r["case"]: r["status"] for r in doc["results"]}
    claimed = [c for c in catalog.claim_of_case(catalog.load()) if c.startswith("pipe/")]
    assert sorted(statuses) == sorted(claimed)
    return code, stderr, doc, kernel


def unmatched(doc):
    return [(r["case"], r["status"], r["message"]) for r in doc["results"] if r["status"] not in results.MATCHED]


@pytest.mark.parametrize("name, release, machine, word_bits", [
    ("debian-6.1", r"6\.1\.0-\d+-amd64", "x86_64", 64),
    ("debian-6.12-rt", r"6\.12\.\d+\+deb12-rt-amd64", "x86_64", 64),
    ("debian-6.1-arm64", r"6\.1\.0-\d+-arm64", "aarch64", 64),
    ("debian-6.12-arm64", r"6\.12\.\d+\+deb12-arm64", "aarch64", 64),
    ("debian-6.1-i386", r"6\.1\.0-\d+-686-pae", "i686", 32),
], ids=["debian-6.1", "debian-6.12-rt", "debian-6.1-arm64", "debian-6.12-arm64", "debian-6.1-i386"])
def test_pipe_area_runs_on_the_other_debian_kernels(name, release, machine, word_bits, bindir, provision, tmp_path):
    provision(name)
    code, stderr, doc, kernel = run_pipe_area(name, tmp_path)
    assert re.fullmatch(release, kernel["release"]) and kernel["machine"] == machine
    assert kernel["page_size"] == 4096 and kernel["word_bits"] == word_bits
    assert kernel["package"] == images.newest_package(qemu.SERIES[name][1])
    if name.endswith("-rt"):
        assert "PREEMPT_RT" in kernel["version"]
    # the PC kernels (xz, zstd payloads) enter at PVH; arm64's Image boots as it is
    assert kernel["boot_entry"] == ("image" if machine == "aarch64" else "pvh")
    assert unmatched(doc) == []
    assert code == 0, stderr


def test_pipe_area_on_16_kib_pages_measures_16_pages_of_16_kib(bindir, provision, tmp_path):
    name = "debian-6.12-arm64-16k"
    provision(name)
    _, stderr, doc, kernel = run_pipe_area(name, tmp_path)
    assert re.fullmatch(r"6\.12\.\d+\+deb12-arm64-16k", kernel["release"]), stderr
    assert kernel["machine"] == "aarch64" and kernel["page_size"] == 16384 and kernel["word_bits"] == 64
    assert "cortex-a76" in kernel["emulator"]
    got = {r["case"]: r for r in doc["results"]}
    default = got["pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports@pipe"]
    assert default["status"] == "pass"
    # the notes' "65536 is the real size" is false here: 16 pages of 16 KiB
    assert default["evidence"]["pipe_capacity"] == str(16 * 16384) == default["evidence"]["f_getpipe_sz"]
    assert got["pipe/ulimit_pipe_size_is_pipe_buf_not_the_capacity"]["evidence"]["pc_pipe_buf"] == "4096"
    # every case holds on 16 KiB pages: none assumes that PIPE_BUF is a page
    assert unmatched(doc) == []


def test_a_second_run_reuses_the_cached_kernel_and_initramfs(pipe_run, tmp_path):
    store = CACHE / "qemu" / "kernels" / pipe_run["doc"]["kernels"][0]["package"]
    before = (store / "vmlinuz").stat()
    images = sorted(p.name for p in (CACHE / "qemu" / "initramfs").glob("*.cpio"))
    code, _, stderr = ipcproof("run", "--kernels", KERNEL, "--areas", "pipe", "--no-build",
                               "--filter", "pipe/default_capacity*", "--out", tmp_path)
    assert code == 0, stderr
    assert "fetching" not in stderr
    after = (store / "vmlinuz").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in (CACHE / "qemu" / "initramfs").glob("*.cpio")) == images


def test_the_pvh_vmlinux_is_the_bzimages_own_payload_and_a_broken_image_boots_as_it_is(pipe_run, tmp_path):
    kernel = images.cached_kernel(CACHE, pipe_run["doc"]["kernels"][0]["package"])
    image = kernel["vmlinuz"].read_bytes()
    kind, data, size = pvh.payload(image)
    assert kind == "zstd"                       # Debian's 6.12 (6.1's is xz)
    elf = pvh.vmlinux(kernel["vmlinuz"])
    assert elf == kernel["vmlinuz"].with_name(pvh.NAME) and cached.intact(elf)
    body = elf.read_bytes()
    assert len(body) == size and body[:4] == b"\x7fELF" and pvh.has_pvh_entry(body)
    # a copy cut short, or a vmlinux without the note: no PVH, the bzImage boots
    cut = tmp_path / "cut" / "vmlinuz"
    cut.parent.mkdir()
    cut.write_bytes(image[:len(image) // 2])
    assert pvh.vmlinux(cut) is None and not (cut.parent / pvh.NAME).exists()
    assert not pvh.has_pvh_entry(body.replace(b"Xen\0", b"Xyz\0"))


def test_the_kernel_names_are_asked_of_apt_once_per_state_of_its_lists(tmp_path, monkeypatch):
    real = images.apt_names(images.PREFIX)
    asked = []
    monkeypatch.setattr(images, "apt_names", lambda pattern: asked.append(pattern) or real)
    pattern = qemu.SERIES[KERNEL][1]
    first = images.newest_package(pattern, tmp_path)
    assert first == images.newest_package(pattern, tmp_path) == max(
        (n for n in real if re.search(pattern, n)), key=images.natural)
    assert asked == [images.PREFIX]          # one question, for every series
    kept = json.loads((tmp_path / "qemu" / images.KERNEL_NAMES).read_text())
    assert kept["lists"] == images.lists_state() and first in kept["names"]
    # apt-get update changes the lists: asked again
    monkeypatch.setattr(images, "lists_state", lambda: [["Packages", 1, 2]])
    assert images.newest_package(pattern, tmp_path) == first and len(asked) == 2


def test_a_kernel_that_panics_is_a_miss_with_its_boot_log(pipe_run, tmp_path):
    """An initramfs with no /init: the kernel panics ("No working init")."""
    kernel = images.cached_kernel(CACHE, pipe_run["doc"]["kernels"][0]["package"])
    empty = tmp_path / "empty.cpio.gz"
    empty.write_bytes(gzip.compress(initramfs.cpio_newc({"/etc/hostname": (b"x\n", 0o644)})))
    log = tmp_path / "console.log"
    with pytest.raises(Miss) as miss:
        qemu_boot.boot("test", qemu.X86_64, kernel["vmlinuz"], empty, 60, log)
    assert "panicked" in miss.value.reason
    assert "Kernel panic" in log.read_text(errors="replace")
    assert not [p for p in procs.descendants(os.getpid()) if alive(p)]


def test_a_kernel_that_does_not_boot_in_time_is_a_miss_and_qemu_is_killed(pipe_run, tmp_path):
    kernel = images.cached_kernel(CACHE, pipe_run["doc"]["kernels"][0]["package"])
    impatient = dataclasses.replace(qemu.X86_64, boot_limit_s=2)
    log = tmp_path / "console.log"
    with pytest.raises(Miss) as miss:
        qemu_boot.boot("test", impatient, kernel["vmlinuz"], kernel["vmlinuz"], 60, log)
    # no usable initramfs: the boot limit passes first, or the kernel dies
    # first (it can panic in under 2 s): a boot that died early either way
    assert miss.value.early and miss.value.log == log, miss.value.reason
    assert not [p for p in procs.descendants(os.getpid()) if alive(p)]


def test_a_truncated_results_transfer_is_detected():
    data = os.urandom(5000)
    frame = (qemu_boot.BEGIN + b" %d %s\n" % (len(data), hashlib.sha256(data).hexdigest().encode())
             + base64.encodebytes(data) + qemu_boot.END + b"\n")
    assert qemu_boot.unframe(frame) == (data, None)
    assert qemu_boot.unframe(frame[:len(frame) // 2])[0] is None
    i = frame.index(b"\n") + 10
    corrupt = frame[:i] + (b"C" if frame[i:i + 1] == b"B" else b"B") + frame[i + 1:]
    assert qemu_boot.unframe(corrupt)[0] is None
    assert qemu_boot.unframe(b"")[1] == "the guest sent no results"


def test_the_initramfs_is_a_cpio_archive_busybox_can_read(bindir, tools, tmp_path):
    files = qemu.guest_files([Path(bindir) / "pipe", Path(bindir) / "kernel-info", runner.SCRIPT], qemu.X86_64,
                             "/bin/busybox", "/bin/bash")
    archive = tmp_path / "a.cpio"
    archive.write_bytes(initramfs.cpio_newc(files))
    listing = subprocess.run(["/bin/busybox", "cpio", "-t", "-F", str(archive)], capture_output=True,
                             text=True, check=True).stdout.split()
    for needed in ("init", "bin/busybox", "ipcproof/bin/pipe", "ipcproof/bin/kernel-info",
                   "ipcproof/bin/runner.sh"):
        assert needed in listing
    # the lean Criterion's static programs bring no library; Debian's Criterion its own
    assert ("lib/x86_64-linux-gnu/libcriterion.so.3" in listing) == (criterion.choice() == "debian")
    assert not any("libnanomsg" in name for name in listing) or criterion.choice() == "debian"


def test_interrupting_a_run_mid_boot_leaves_no_qemu(pipe_run, tmp_path):
    proc = subprocess.Popen([str(ROOT / "ipcproof"), "run", "--kernels", KERNEL, "--areas", "pipe",
                             "--no-build", "--out", str(tmp_path)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not qemu_under(proc.pid):
            time.sleep(0.1)
        assert qemu_under(proc.pid), "QEMU never started"
        started = set(qemu_under(proc.pid))
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 130, stderr
        assert not [p for p in started if alive(p)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def qemu_under(root):
    found = []
    for pid in procs.descendants(root):
        try:
            if Path(f"/proc/{pid}/comm").read_text().startswith("qemu-system"):
                found.append(pid)
        except OSError:
            pass
    return found
