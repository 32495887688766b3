"""Talking to a remote over OpenSSH for the ssh kernel: one command a
connection, every process of it killed when it ends or times out, and the
sh the remote runs (making the private dir, unpacking, the watched run,
killing what a run left)."""
import io
import os
import re
import shlex
import signal
import subprocess
import tarfile
from pathlib import Path

from ..errors import Miss, UserError

CONNECT_TIMEOUT_S = 15
STEP_TIMEOUT_S = 120  # copying in, cleaning up
# What mktemp -d makes below; checked before the remote `rm -rf`, so a
# garbled answer can never widen what is removed.
REMOTE_DIR = re.compile(r"/[A-Za-z0-9._/-]*/ipcproof-ssh\.[A-Za-z0-9]+\Z")
ELF_MACHINES = {3: "i686", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm",
                62: "x86_64", 183: "aarch64", 243: "riscv64", 258: "loongarch64"}
# Debian packages that ship a shared library the binaries may miss.
LIB_PACKAGES = {"libcriterion.so.3": "libcriterion3"}   # Debian's Criterion (the lean one's programs are static)


def ssh_command(host, user, port, remote):
    """The ssh argv.  For -o, the first value given wins: BatchMode and
    ControlPersist=no come first (a prompt would hang; a persisting master
    would outlive the run), the user's options next, our defaults last."""
    try:
        extra = shlex.split(os.environ.get("IPCPROOF_SSH_OPTS", ""))
    except ValueError as e:
        raise UserError(f"IPCPROOF_SSH_OPTS cannot be split: {e}") from None
    cmd = ["ssh", "-T", "-o", "BatchMode=yes", "-o", "ControlPersist=no", *extra,
           "-o", f"ConnectTimeout={CONNECT_TIMEOUT_S}", "-o", "ServerAliveInterval=10",
           "-o", "ServerAliveCountMax=3", "-o", "LogLevel=ERROR"]
    if port:
        cmd += ["-p", str(port)]
    if user:
        cmd += ["-l", user]
    return [*cmd, "--", host, remote]


def kill_session(pid):
    """SIGKILLs the session an ssh was started in (it and any ProxyCommand
    it spawned), and nothing else: other targets run beside this one, so
    procs.sweep (every descendant of the driver) is not for here.  Linux
    does not reuse a session's id while a member lives."""
    victims = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().decode(errors="replace").rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == pid:
                victims.add(int(entry))
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


def ssh(params, remote, timeout, stdin=b"", log=None):
    """Runs one remote command: (exit code or None when it timed out,
    stdout bytes, stderr text).  stdin=None holds the remote's stdin open
    until the command ends (its end tells the remote the driver is gone).
    Nothing of it is left running here."""
    # The login shell may be any shell: the commands here are POSIX sh.
    wrapped = f"exec sh -c {shlex.quote(remote)}"
    held = os.pipe() if stdin is None else None
    proc = subprocess.Popen(ssh_command(params["host"], params["user"], params["port"], wrapped),
                            stdin=held[0] if held else subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        kill_session(proc.pid)
        out, err = proc.communicate()
        code = None
    finally:
        kill_session(proc.pid)
        proc.wait()
        if held:
            os.close(held[0])
            os.close(held[1])
    err = err.decode(errors="replace")
    if log is not None:
        with open(log, "a") as f:
            f.write(f"$ ssh ... {remote}\n{err}" + (f"[timed out after {timeout:.0f} s]\n" if code is None else f"[exit {code}]\n"))
    return code, out, err


def last_line(text):
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def failure(code, err):
    """What went wrong with one ssh command, in a few words."""
    if code is not None and code < 0:
        return f"the local ssh was killed by signal {-code}"
    if code == 255:
        return last_line(err)
    return f"exit {code}: {last_line(err)}"


def elf_machine(path):
    """The architecture an ELF binary was built for (uname -m spelling)."""
    with open(path, "rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        return "unknown"
    order = "little" if head[5] == 1 else "big"
    number = int.from_bytes(head[18:20], order)
    return ELF_MACHINES.get(number, f"ELF machine {number}")


# The private dir the channel lives in.
MKDIR = 'mktemp -d "${TMPDIR:-/tmp}/ipcproof-ssh.XXXXXXXX"'

# Unpacks what was sent, and says what the remote is and whether the
# binaries can start there (Criterion's --version needs its shared library,
# as every case does).
SETUP = r"""set -e
d=@DIR@
tar -C "$d" -xf -
echo "machine=$(uname -m)"
set +e
for b in "$d"/bin/*; do
  case "${b##*/}" in peer-*|kernel-info|ipc-bench|*.sh|*.so) continue ;; esac
  "$b" --version >/dev/null 2>"$d/probe.err"
  echo "probe=$? ${b##*/} $(head -c 400 "$d/probe.err" | tr '\n' ' ')"
  break
done
"""


def setup_facts(stdout):
    facts = {"probe": ""}
    for line in stdout.decode(errors="replace").splitlines():
        key, eq, value = line.partition("=")
        if eq and key in ("dir", "machine", "probe"):
            facts[key] = value.strip()
    return facts


def cannot_start(probe, machine, built_for):
    """Why the binaries cannot start on the remote, in one sentence, or None."""
    # uname -m is more specific than an ELF header: armv7l, ppc64le.
    if machine and not machine.startswith(built_for):
        return f"the remote is {machine}, the binaries are {built_for}"
    code, _, rest = probe.partition(" ")
    if code == "0":
        return None
    lib = re.search(r"(\S+\.so[.\d]*): cannot open shared object file", rest)
    if lib:
        package = LIB_PACKAGES.get(lib.group(1))
        fix = f": apt-get install {package} there" if package else ""
        return f"{lib.group(1)} is missing on the remote{fix}"
    if code == "126":
        return ("the case binaries cannot be executed in the remote's temp dir "
                "(is its filesystem mounted noexec? set TMPDIR on the remote)")
    detail = rest.split(" ", 1)[1].strip() if " " in rest else ""
    return f"the case binaries do not start on the remote (exit {code or '?'}{': ' + detail if detail else ''})"


def unpack(stream, local, log):
    """The output dir from its tar stream, unpacked below local; an entry
    that would land outside it is refused."""
    try:
        with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
            members = tar.getmembers()
            for m in members:
                # Debian 12's Python has no extraction filters: plain files and
                # dirs below out/ only, so a hostile remote writes nowhere else.
                parts = Path(m.name).parts
                if not (m.isfile() or m.isdir()) or not parts or parts[0] != "out" or ".." in parts:
                    raise Miss(f"the results came back with an unexpected entry {m.name!r}", log)
                m.mode &= 0o755
            tar.extractall(local, members=members)
    except (tarfile.TarError, OSError) as e:
        raise Miss(f"the results came back unreadable: {e}", log) from None
    return Path(local) / "out"


# Kills every process of the session named in @PIDFILE@ but the caller,
# reading /proc/*/stat (field 4 after the command name is the session):
# plain sh, no procps needed.
KILL_SESSION = r"""sid=$(cat @PIDFILE@ 2>/dev/null)
if [ -n "$sid" ]; then
  for round in 1 2; do
    for f in /proc/[0-9]*/stat; do
      read -r line 2>/dev/null < "$f" || continue
      set -- ${line##*)}
      p=${f#/proc/}
      [ "$4" = "$sid" ] && [ "${p%/stat}" != "$$" ] && kill -KILL "${p%/stat}" 2>/dev/null
    done
  done
fi
"""

# The run: the command in the background, then the output dir as a tar
# stream on stdout.  $$ is a session leader (sshd calls setsid), so the
# session id names everything the run starts.  A watchdog reads stdin, which
# the driver holds open: its end means the driver or its ssh is gone (or the
# run is over), and then nothing of the run may remain, nor the dir.
RUN = r"""d=@DIR@
echo $$ > "$d/run.pid"
# A background job's stdin is /dev/null in a script: hand it over on fd 3.
exec 3<&0
sh -c @WATCHDOG@ watchdog <&3 3<&- >/dev/null 2>&1 &
exec 3<&-
@ARGV@ </dev/null >"$d/run.out" 2>&1 &
wait $!
tar -C "$d" -cf - out
"""
WATCHDOG = "cat >/dev/null\n" + KILL_SESSION + 'rm -rf "$d"\n'


def cleanup(params, remote_dir, lingering, log):
    """Removes the remote dir; after a run that was not seen to end, first
    kills what is left of it: the remote shell was a session leader (sshd
    calls setsid) and recorded its id in run.pid."""
    if not REMOTE_DIR.match(remote_dir or ""):
        return
    d = shlex.quote(remote_dir)
    kill = ""
    if lingering:
        kill = KILL_SESSION.replace("@PIDFILE@", f"{d}/run.pid")
    code, _, err = ssh(params, f"{kill}rm -rf {d}", STEP_TIMEOUT_S, log=log)
    if code != 0:
        with open(log, "a") as f:
            f.write(f"ipcproof: could not remove {remote_dir} on the remote: {last_line(err)}\n")
