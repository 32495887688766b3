"""The lean Criterion the cases link by default, and Debian's, which they can
link instead: the same cases, the same outcomes."""
import json
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, ipcproof
from driver import build
from driver.acquire import criterion, initramfs


def needed(binary):
    return set(initramfs.elf_needs(binary)[1])


def test_a_lean_case_binary_is_static_at_fixed_addresses(bindir):
    assert (bindir / "criterion.txt").read_text().startswith("lean 2.4.1 (static programs")
    for program in ("pipe", "peer-fifo", "kernel-info"):
        head = subprocess.run(["readelf", "-lh", str(bindir / program)], capture_output=True, text=True,
                              check=True).stdout
        # not a PIE (the same addresses in every process, for TCG), no loader, no library
        assert "EXEC (" in head and "INTERP" not in head, program
        assert needed(bindir / program) == set(), program


def test_proves_build_links_the_same_criterion_dynamically_for_its_preload():
    cases = build.build(build.dynamic_build(), static=False)
    assert (cases / "criterion.txt").read_text().startswith("lean 2.4.1 (static library, dynamic programs")
    # Criterion is still inside: the C library is all it loads
    assert needed(cases / "pipe") <= {"libm.so.6", "libc.so.6", "ld-linux-x86-64.so.2"} and "libc.so.6" in needed(cases / "pipe")
    assert (cases / "libipcproof-inject.so").is_file()


def test_the_lean_criterion_calls_no_nanomsg(bindir):
    assert (bindir / "criterion.txt").read_text().rstrip().endswith("nanomsg)")
    symbols = subprocess.run(["nm", str(bindir / "pipe")], capture_output=True, text=True, check=True).stdout
    assert " cri_proto_recv" in symbols and not [s for s in symbols.split() if s.startswith("nn_")]


def test_a_criterion_source_the_transports_edits_do_not_fit_is_refused_by_name(tmp_path):
    from driver.acquire import transport
    (tmp_path / "src" / "protocol").mkdir(parents=True)
    (tmp_path / "src" / "protocol" / "connect.h").write_text("void cri_proto_close(int sock);\n")
    # a messages.c that receives in a way Criterion 2.4.1's does not
    (tmp_path / "src" / "protocol" / "messages.c").write_text("#include NN_H\nnn_recv(sock, &buf, 0, 0)\n")
    with pytest.raises(criterion.UserError) as refused:
        transport.put(tmp_path, "2.4.1")
    assert str(refused.value) == ("the lean Criterion: src/protocol/messages.c is not Criterion 2.4.1's "
                                  "('nn_recv(sock, &buf, NN_MSG, 0)' 0 times)")


@pytest.fixture(scope="module")
def transport_run(bindir, tmp_path_factory):
    """harness/tests/criterion-transport's tests, two at a time: {name:
    its JSON record}, and what the runner printed."""
    if criterion.choice() != "lean":
        pytest.skip("the transport is the lean Criterion's; Debian's speaks nanomsg")
    out = tmp_path_factory.mktemp("transport") / "out.json"
    proc = subprocess.Popen([str(bindir / "criterion-transport"), "-j2", f"--json={out}"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        _, stderr = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()   # its tests die with it (BoxFort's PR_SET_PDEATHSIG)
        proc.communicate()
        # the socket a runner removes only when it ends by itself
        Path(f"/tmp/criterion_{proc.pid}.sock").unlink(missing_ok=True)
        pytest.fail("the transport's tests hung: a peer held up the runner")
    tests = {t["name"]: t for s in json.loads(out.read_text())["test_suites"] for t in s["tests"]}
    return tests, stderr


def test_a_stalled_or_lawless_peer_holds_up_no_test(transport_run):
    tests, _ = transport_run
    assert tests["a_stranger_stalled_mid_frame_holds_up_no_test"]["status"] == "PASSED"
    assert tests["a_peer_of_the_wrong_protocol_is_hung_up_on"]["status"] == "PASSED", \
        tests["a_peer_of_the_wrong_protocol_is_hung_up_on"].get("messages")


def test_a_message_of_many_pages_and_two_threads_reports_arrive_whole(transport_run):
    tests, stderr = transport_run
    text = "".join(chr(ord("a") + i % 26) for i in range(200000))
    assert f"[WARN] transport: long {text} end" in stderr.splitlines()
    lines = {l.split("] ", 1)[-1] for l in stderr.splitlines() if "transport: thread" in l}
    assert lines == {f"transport: thread {t} line {i}" for t in range(2) for i in range(100)}
    assert tests["reports_from_two_threads_at_once_all_arrive"]["status"] == "PASSED"


def test_a_crash_and_a_timeout_reach_the_report_through_the_runners_own_peer(transport_run):
    tests, _ = transport_run
    assert tests["a_crash_is_reported_with_its_signal"]["status"] == "PASSED"   # .signal = SIGSEGV met
    assert tests["a_hang_is_reported_as_a_timeout"]["status"] == "ERRORED"
    assert tests["a_hang_is_reported_as_a_timeout"]["messages"] == ["The test timed out."]
    assert len(tests) == 6


@pytest.fixture(scope="module")
def debian_build(tmp_path_factory):
    where = tmp_path_factory.mktemp("debian-build")
    done = subprocess.run(["/usr/bin/python3", "-c", "import sys; from driver import build; build.build(sys.argv[1])",
                           str(where)], cwd=ROOT, capture_output=True, text=True,
                          env={"IPCPROOF_CRITERION": "debian", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return where


def statuses(out):
    doc = json.loads((out / "results.json").read_text())
    return {r["case"]: r["status"] for r in doc["results"]}, doc["kernels"][0]["criterion"]


def test_the_cases_give_the_same_outcomes_on_debians_criterion_and_the_lean_one(bindir, debian_build, tmp_path):
    assert "libcriterion.so.3" in needed(debian_build / "cases" / "fifo")
    outcomes = {}
    for name, where in (("lean", build.BUILD), ("debian", debian_build)):
        code, _, stderr = ipcproof("run", "--no-build", "--areas", "fifo,ipc", "--out", tmp_path / name,
                                   env={"IPCPROOF_BUILD": str(where)})
        assert code == 0, stderr
        outcomes[name] = statuses(tmp_path / name)
    assert outcomes["lean"][1].startswith("lean") and outcomes["debian"][1].startswith("debian")
    assert outcomes["lean"][0] == outcomes["debian"][0] and len(outcomes["lean"][0]) > 40


def test_an_unknown_criterion_choice_is_one_line_and_exit_2(tmp_path):
    code, _, stderr = ipcproof("run", "--areas", "fifo", "--out", tmp_path, env={"IPCPROOF_CRITERION": "bogus"})
    assert code == 2 and stderr.strip().splitlines() == ["ipcproof: IPCPROOF_CRITERION='bogus': say lean or debian"]


def test_the_deb_src_entries_follow_the_hosts_apt_sources_in_both_formats(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("# a comment\ndeb http://archive.example/debian bookworm main contrib\n"
                                          "deb-src http://archive.example/debian bookworm main\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://archive.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://off.example/debian\nSuites: sid\nComponents: main\nEnabled: no\n")
    text = criterion.deb_src_stanzas(tmp_path)
    stanzas = [dict(line.split(": ", 1) for line in block.splitlines()) for block in text.strip().split("\n\n")]
    assert {s["Types"] for s in stanzas} == {"deb-src"}
    assert [(s["URIs"], s["Suites"], s["Components"]) for s in stanzas] == [
        ("http://archive.example/debian", "bookworm bookworm-updates", "main"),
        ("http://archive.example/debian", "bookworm", "main contrib")]
    assert stanzas[0]["Signed-By"] == "/usr/share/keyrings/debian-archive-keyring.gpg"


def test_a_cross_built_case_binary_is_lean_too():
    from driver.acquire import cross
    from driver.kernels import qemu
    arch = qemu.I386
    cases, _ = cross.build(build.CACHE, arch.deb_arch, arch.cpu, arch.triplet, "the test", arch.gnu)
    assert (cases / "criterion.txt").read_text().startswith("lean 2.4.1 (static programs")
    assert initramfs.elf_needs(cases / "pipe") == (None, [])   # no loader, no library


def test_a_source_tarball_whose_hash_is_not_the_indexs_is_refused_and_not_kept(tmp_path):
    # a real file of the archive, named with a wrong hash: apt's transport refuses it
    listed = subprocess.run(["apt-get", "download", "--print-uris", "debugbreak"], capture_output=True,
                            text=True, check=True).stdout.split()
    url, size = listed[0].strip("'"), int(listed[2])
    with pytest.raises(criterion.UserError) as refused:
        criterion.download(url, tmp_path / "x.deb", size, "0" * 64)
    assert "cannot fetch" in str(refused.value) and not (tmp_path / "x.deb").exists()
    got = criterion.download(url, tmp_path / "y.deb", size, listed[3].split(":", 1)[1])
    assert got.stat().st_size == size


def test_two_builds_of_the_lean_criterion_at_once_make_one_whole_prefix(tmp_path):
    # the second waits for the first's lock, then finds the prefix whole
    code = ("import sys; from pathlib import Path; from driver.acquire import criterion; "
            "print(criterion.prefix(Path(sys.argv[1])))")
    procs = [subprocess.Popen(["/usr/bin/python3", "-c", code, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    [where] = {o[0].strip() for o in outs}
    assert (Path(where) / "lib" / "libcriterion_lean.a").is_file()
    assert sum("building a lean Criterion" in o[1] for o in outs) == 1
