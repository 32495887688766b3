"""Results and reports name nothing of the machine they were made on:
project paths are relative, a case's temp directory is $CASE_TMP, logs are
logs/NAME (only a kernel entry's hostname says where it ran)."""
import json
import re

from conftest import ROOT, ipcproof
from driver import relpaths

# What names the machine: its checkout, a private temp dir of a run, a home.
# (/var/tmp or a guest's /tmp/out are the same on every machine.)
ABSOLUTE = re.compile(re.escape(str(ROOT)) + r"|/ipcproof-[a-z0-9-]+-[A-Za-z0-9_]{6,8}\b|(?<![\w.:<])/(?:home|root)/")
MADE_ELSEWHERE = {
    "message": "/srv/ci/checkout/cases/mmap/bounds.c:201: si_code BUS_ADRALN, expected BUS_ADRERR",
    "fd_leak": "9 (/tmp/ipcproof-gvisor-vk7a0phq/out/tmp/ipcproof-sigbus_from_an_empty_file_is_bus_adrerr_-jiWviy/empty)",
    "maps": "7f39a329a000-7f39a329d000 rw-s 00000000 fe:00 10953969   /tmp/ipcproof-run-eywzhwrm/ipcproof-munmap_of_unaligned_address_fails_with_e-AYIaXD/f (deleted)",
    "boot_log": "/tmp/mall2/logs/uml-boot.log",
    "here": f"{ROOT}/.cache/qemu/vmlinuz",
}


def test_paths_made_elsewhere_become_relative():
    got = relpaths.scrub(MADE_ELSEWHERE)
    assert got == {
        "message": "cases/mmap/bounds.c:201: si_code BUS_ADRALN, expected BUS_ADRERR",
        "fd_leak": "9 ($CASE_TMP/empty)",
        "maps": "7f39a329a000-7f39a329d000 rw-s 00000000 fe:00 10953969   $CASE_TMP/f (deleted)",
        "boot_log": "logs/uml-boot.log",
        "here": ".cache/qemu/vmlinuz"}


def test_a_run_names_no_path_of_this_machine(run):
    text = (run["out"] / "results.json").read_text()
    assert str(ROOT) not in text and str(run["tmp"]) not in text
    assert not ABSOLUTE.search(text), ABSOLUTE.search(text)


def test_the_committed_references_name_no_path_of_the_machine_they_were_made_on():
    for path in (ROOT / "reports" / "reference").rglob("*"):
        if path.is_file():
            found = ABSOLUTE.search(path.read_text())
            assert not found, f"{path.relative_to(ROOT)}: {path.read_text()[found.start():found.start() + 80]}"


def test_merged_kernels_name_their_source_by_its_directory(run, tmp_path):
    (tmp_path / "ci-a").mkdir()
    (tmp_path / "ci-a" / "results.json").write_text(json.dumps(run["doc"]))
    code, _, stderr = ipcproof("merge", tmp_path / "ci-a", "--out", tmp_path / "merged")
    assert code == 0, stderr
    merged = json.loads((tmp_path / "merged" / "results.json").read_text())
    assert [k["source"] for k in merged["kernels"]] == ["ci-a/results.json"]
