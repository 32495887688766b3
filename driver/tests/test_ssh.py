"""The ssh:[user@]host[:port] target against a real sshd on loopback: its
own host key, client key and config in a private temp dir, killed at the
end."""
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ROOT, ipcproof
from driver import catalog
from driver.acquire import debs
from driver.kernels import ssh_transport as ssh


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ipcproof-test", "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL)


def root_locked():
    """sshd without PAM refuses a locked account ('!' password) even for a key."""
    try:
        for line in Path("/etc/shadow").read_text().splitlines():
            if line.startswith("root:"):
                return line.split(":")[1].startswith("!")
    except OSError:
        pass
    return False


def ssh_processes(marker):
    """Live processes whose command line holds marker (our key's path)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if marker in cmdline and int(entry) != os.getpid():
                found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the sshd test logs in as root on loopback")
    debs.ensure(["openssh-server", "openssh-client"], "the ssh target's test")
    base = tmp_path_factory.mktemp("sshd")
    os.chmod(base, 0o700)
    remote_tmp = base / "remote-tmp"
    remote_tmp.mkdir()
    keygen(base / "host_key")
    keygen(base / "client_key")
    # A second key whose sessions find a `timeout` that never returns: what
    # the runner starts every step with, i.e. a remote hang.
    keygen(base / "hang_key")
    hangbin = base / "hangbin"
    hangbin.mkdir()
    (hangbin / "timeout").write_text("#!/bin/sh\nsleep 987654\n")
    (hangbin / "timeout").chmod(0o755)
    (base / "authorized_keys").write_text((base / "client_key.pub").read_text() +
                                          f'environment="PATH={hangbin}:/usr/bin:/bin" ' +
                                          (base / "hang_key.pub").read_text())
    port = free_port()
    config = base / "sshd_config"
    config.write_text(f"""Port {port}
ListenAddress 127.0.0.1
HostKey {base}/host_key
PidFile {base}/sshd.pid
AuthorizedKeysFile {base}/authorized_keys
StrictModes no
UsePAM {'yes' if root_locked() else 'no'}
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
SetEnv TMPDIR={remote_tmp}
PermitUserEnvironment PATH
""")
    made_run_dir = not Path("/run/sshd").exists()
    if made_run_dir:
        os.makedirs("/run/sshd", mode=0o755)
    log = open(base / "sshd.log", "wb")
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, (base / "sshd.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "sshd did not listen within 20 s"
                time.sleep(0.1)
        opts = (f"-F /dev/null -i {base}/client_key -o IdentitiesOnly=yes "
                f"-o UserKnownHostsFile={base}/known_hosts -o StrictHostKeyChecking=accept-new")
        yield {"port": port, "opts": opts, "base": base, "remote_tmp": remote_tmp, "key": str(base / "client_key")}
    finally:
        # sshd's session children share its session: kill the lot.
        ssh.kill_session(proc.pid)
        proc.wait()
        log.close()
        if made_run_dir:
            try:
                os.rmdir("/run/sshd")
            except OSError:
                pass


def run_ssh(sshd, kernel, out, *extra):
    return ipcproof("run", "--kernels", kernel, "--areas", "pipe", "--no-build", "--out", out, *extra,
                    env={"IPCPROOF_SSH_OPTS": sshd["opts"]}, timeout=600)


@pytest.fixture(scope="module")
def ran(sshd, bindir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ssh-out")
    name = f"ssh:root@127.0.0.1:{sshd['port']}"
    code, _, stderr = run_ssh(sshd, name, out)
    assert (out / "results.json").exists(), stderr
    doc = json.loads((out / "results.json").read_text())
    return {"code": code, "stderr": stderr, "doc": doc, "name": name, "out": out}


def test_pipe_area_runs_on_the_remote_and_every_case_passes(ran):
    assert ran["code"] == 0, ran["stderr"]
    [kernel] = ran["doc"]["kernels"]
    assert kernel["id"] == ran["name"] and kernel["runner"] == "ssh"
    assert kernel["release"] == os.uname().release and kernel["machine"] == os.uname().machine
    assert kernel["complete"] is True and kernel["host"] == "127.0.0.1"
    pipe_cases = {c for claim in catalog.load() if claim["area"] == "pipe" for c in claim["cases"]}
    got = {r["case"]: r["status"] for r in ran["doc"]["results"] if r["kernel"] == ran["name"]}
    assert set(got) >= pipe_cases
    # a skip says why (a need this machine does not meet, as on the host)
    assert {c: s for c, s in got.items() if s not in ("pass", "skip")} == {}
    assert (ran["out"] / "logs" / f"{ran['name'].replace(':', '_').replace('@', '_')}-pipe.log").exists()


def gone(marker, seconds=5):
    """True once no process mentions marker (the remote side's watchdog
    ends a moment after the connection)."""
    deadline = time.monotonic() + seconds
    while ssh_processes(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_remote_temp_dir_and_local_ssh_processes_are_gone(ran, sshd):
    assert list(sshd["remote_tmp"].iterdir()) == []
    assert ssh_processes(sshd["key"]) == []
    assert gone(str(sshd["remote_tmp"])), ssh_processes(str(sshd["remote_tmp"]))


def test_a_port_nobody_listens_on_is_a_missed_kernel_with_the_reason(sshd, bindir, tmp_path):
    name = f"ssh:root@127.0.0.1:{free_port()}"
    code, _, stderr = run_ssh(sshd, name, tmp_path)
    assert code == 1, stderr
    assert "Traceback" not in stderr
    [kernel] = json.loads((tmp_path / "results.json").read_text())["kernels"]
    assert kernel["status"] == "miss" and "Connection refused" in kernel["miss_reason"], kernel
    assert f"{name}: miss: cannot reach 127.0.0.1" in stderr


def test_a_host_that_does_not_answer_is_a_missed_kernel(sshd, bindir, tmp_path):
    # A listener that never accepts: the TCP handshake succeeds, no banner comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        name = f"ssh:root@127.0.0.1:{silent.getsockname()[1]}"
        code, _, stderr = ipcproof("run", "--kernels", name, "--areas", "pipe", "--no-build", "--out", tmp_path,
                                   env={"IPCPROOF_SSH_OPTS": "-o ConnectTimeout=2 " + sshd["opts"]})
    assert code == 1 and "Traceback" not in stderr, stderr
    [kernel] = json.loads((tmp_path / "results.json").read_text())["kernels"]
    assert kernel["status"] == "miss" and "timed out" in kernel["miss_reason"], kernel


def test_a_refused_key_is_a_missed_kernel_with_the_reason(sshd, bindir, tmp_path):
    other = tmp_path / "other_key"
    keygen(other)
    opts = sshd["opts"].replace(sshd["key"], str(other))
    code, _, stderr = ipcproof("run", "--kernels", f"ssh:root@127.0.0.1:{sshd['port']}", "--areas", "pipe",
                               "--no-build", "--out", tmp_path / "out", env={"IPCPROOF_SSH_OPTS": opts})
    assert code == 1 and "Traceback" not in stderr
    [kernel] = json.loads((tmp_path / "out" / "results.json").read_text())["kernels"]
    assert kernel["status"] == "miss" and "Permission denied" in kernel["miss_reason"], kernel


def test_a_remote_hang_is_a_missed_kernel_and_leaves_nothing_behind(sshd, bindir, tmp_path):
    opts = sshd["opts"].replace(sshd["key"], str(sshd["base"] / "hang_key"))
    start = time.monotonic()
    code, _, stderr = ipcproof("run", "--kernels", f"ssh:root@127.0.0.1:{sshd['port']}", "--areas", "pipe",
                               "--no-build", "--out", tmp_path,
                               env={"IPCPROOF_SSH_OPTS": opts, "IPCPROOF_SSH_TIMEOUT": "3"})
    assert code == 1 and "Traceback" not in stderr, stderr
    assert time.monotonic() - start < 60
    [kernel] = json.loads((tmp_path / "results.json").read_text())["kernels"]
    assert kernel["status"] == "miss" and "did not finish within 3 s" in kernel["miss_reason"], kernel
    assert list(sshd["remote_tmp"].iterdir()) == []
    assert gone("987654") and gone(str(sshd["remote_tmp"]))
    assert ssh_processes(str(sshd["base"] / "hang_key")) == []


def test_ctrl_c_mid_run_leaves_nothing_here_or_on_the_remote(sshd, bindir, tmp_path):
    opts = sshd["opts"].replace(sshd["key"], str(sshd["base"] / "hang_key"))
    proc = subprocess.Popen([str(ROOT / "ipcproof"), "run", "--kernels", f"ssh:root@127.0.0.1:{sshd['port']}",
                             "--areas", "pipe", "--no-build", "--out", str(tmp_path)],
                            env=dict(os.environ, IPCPROOF_SSH_OPTS=opts), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        # hung for sure once the fake `date` is running on the remote
        while not ssh_processes("987654"):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130 and "Traceback" not in stderr, stderr
    assert gone("987654") and gone(str(sshd["remote_tmp"]))
    assert list(sshd["remote_tmp"].iterdir()) == []
    assert ssh_processes(str(sshd["base"] / "hang_key")) == []


@pytest.mark.parametrize("name", ["ssh:", "ssh:host:99999", "ssh:host:port", "ssh:@host", "ssh:-oProxyCommand=x"])
def test_a_malformed_name_is_one_line_and_exit_2(name, tmp_path):
    code, _, stderr = ipcproof("run", "--kernels", name, "--areas", "pipe", "--no-build", "--out", tmp_path)
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("ipcproof: "), stderr


def test_a_binary_that_cannot_start_is_explained():
    missing = ("127 pipe ./pipe: error while loading shared libraries: libcriterion.so.3: "
               "cannot open shared object file: No such file or directory")
    assert ssh.cannot_start(missing, "x86_64", "x86_64") == \
        "libcriterion.so.3 is missing on the remote: apt-get install libcriterion3 there"
    assert ssh.cannot_start("0 pipe ", "aarch64", "x86_64") == "the remote is aarch64, the binaries are x86_64"
    assert ssh.cannot_start("0 pipe ", "x86_64", "x86_64") is None


def test_the_binaries_architecture_is_read_from_their_elf_header(bindir):
    assert ssh.elf_machine(bindir / "pipe") == os.uname().machine
