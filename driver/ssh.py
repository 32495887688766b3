"""The `ssh:[user@]host[:port]` target: a remote Linux machine reached with
OpenSSH.  Three connections: the first makes a private dir on the remote
(mktemp -d), unpacks the selected area binaries, kernel-info, the peers and
guest-run.sh into it, and checks that they can start there (architecture,
shared libraries); the second runs guest-run.sh within a bound and sends
the output dir back as a tar stream; the third removes the dir, killing
what a hung run left.  A watchdog on the remote does the same the moment
the second connection drops (Ctrl-C, a killed driver), so the remote is
clean even when the third connection never comes.

ssh always runs with BatchMode=yes (a password prompt would hang a run) and
ControlPersist=no (a lingering master would outlive the run), and otherwise
honours ~/.ssh/config and the agent; IPCPROOF_SSH_OPTS adds options (split
as a shell would), e.g. "-i KEY -o UserKnownHostsFile=F -o ConnectTimeout=5";
IPCPROOF_SSH_TIMEOUT bounds the remote run in seconds (default: what the
cases' own limits add up to)."""
import functools
import io
import os
import re
import shlex
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

from . import collect, debs, guest
from .errors import UserError
from .targets import Target

CONNECT_TIMEOUT_S = 15
STEP_TIMEOUT_S = 120  # copying in, cleaning up
NAME_HELP = "ssh:[user@]host[:port]"
WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")
HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z|\[[0-9A-Fa-f:.]+\]\Z")
# What mktemp -d makes below; checked before the remote `rm -rf`, so a
# garbled answer can never widen what is removed.
REMOTE_DIR = re.compile(r"/[A-Za-z0-9._/-]*/ipcproof-ssh\.[A-Za-z0-9]+\Z")
ELF_MACHINES = {3: "i686", 8: "mips", 20: "ppc", 21: "ppc64", 22: "s390x", 40: "arm",
                62: "x86_64", 183: "aarch64", 243: "riscv64", 258: "loongarch64"}
# Debian packages that ship a shared library the binaries may miss.
LIB_PACKAGES = {"libcriterion.so.3": "libcriterion3"}


def parse(name):
    """A Target for ssh:[user@]host[:port]; None for names of other kinds;
    a malformed ssh name is the user's error."""
    if not name.startswith("ssh:"):
        return None
    rest = name[len("ssh:"):]
    user, at, hostport = rest.rpartition("@")
    if at and not WORD.match(user):
        raise UserError(f"bad user in {name!r}: expected {NAME_HELP}")
    host, port = hostport, None
    if hostport.startswith("["):
        close = hostport.find("]")
        host, tail = hostport[:close + 1], hostport[close + 1:]
        if close < 0 or (tail and not tail.startswith(":")):
            raise UserError(f"bad host in {name!r}: expected {NAME_HELP}")
        port = tail[1:] if tail else None
    elif ":" in hostport:
        host, _, port = hostport.partition(":")
    if not host:
        raise UserError(f"no host in {name!r}: expected {NAME_HELP}")
    if not HOST.match(host):
        raise UserError(f"bad host {host!r} in {name!r}: expected {NAME_HELP} "
                        "(IPv6 addresses in brackets)")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise UserError(f"bad port {port!r} in {name!r}: expected a number from 1 to 65535")
    params = {"user": user or None, "host": host.strip("[]"), "port": int(port) if port else None}
    return Target(name, "ssh", ready, functools.partial(run, name=name, **params), params)


def ready():
    found = shutil.which("ssh")
    if not found:
        return False, "the OpenSSH client is missing (apt-get install openssh-client)"
    return True, f"OpenSSH client {found}; name a remote as {NAME_HELP}"


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


def payload(ctx):
    """The tar stream the remote unpacks: bin/ (the selected area binaries,
    kernel-info, the peers) and guest-run.sh.  Only the selected areas go:
    guest-run.sh runs every area binary it finds."""
    files = [Path(b) for b in ctx.binaries]
    files += [p for p in sorted(Path(ctx.bindir).glob("peer-*")) if p.is_file()]
    files.append(Path(ctx.bindir) / "kernel-info")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in files:
            if not path.is_file():
                raise UserError(f"{path} is missing (is the build complete?)")
            tar.add(path, arcname=f"bin/{path.name}")
        tar.add(guest.SCRIPT, arcname="guest-run.sh")
    return buf.getvalue()


# Makes the private dir, unpacks what was sent, and says what the remote is
# and whether the binaries can start there (Criterion's --version needs its
# shared library, as every case does).
SETUP = r"""set -e
d=$(mktemp -d "${TMPDIR:-/tmp}/ipcproof-ssh.XXXXXXXX")
echo "dir=$d"
tar -C "$d" -xf -
echo "machine=$(uname -m)"
set +e
for b in "$d"/bin/*; do
  case "${b##*/}" in peer-*|kernel-info) continue ;; esac
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
                    raise guest.Miss(f"the results came back with an unexpected entry {m.name!r}", log)
                m.mode &= 0o755
            tar.extractall(local, members=members)
    except (tarfile.TarError, OSError) as e:
        raise guest.Miss(f"the results came back unreadable: {e}", log) from None
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

# The run: guest-run.sh in the background, then the output dir as a tar
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
sh "$d/guest-run.sh" @ARGS@ </dev/null >"$d/run.out" 2>&1 &
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


def run_bound(ctx, scale):
    """Seconds the whole remote run may take: IPCPROOF_SSH_TIMEOUT, else
    what collect allows each binary plus room for the connection."""
    given = os.environ.get("IPCPROOF_SSH_TIMEOUT")
    if given:
        try:
            return float(given)
        except ValueError:
            raise UserError(f"IPCPROOF_SSH_TIMEOUT is not a number of seconds: {given!r}") from None
    return 30 + collect.run_bound(ctx.binaries, ctx.jobs, scale)


def run(ctx, name, user, host, port):
    if not shutil.which("ssh"):
        debs.ensure(["openssh-client"], "the ssh target")
    params = {"user": user, "host": host, "port": port}
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    log = Path(ctx.logdir) / f"{safe}.log"
    log.write_text("")
    scale = os.environ.get("IPCPROOF_TIME_SCALE", "1")
    try:
        scale_f = float(scale)
    except ValueError:
        raise UserError(f"IPCPROOF_TIME_SCALE is not a number: {scale!r}") from None
    built_for = elf_machine(ctx.binaries[0])
    bound = run_bound(ctx, scale_f)
    remote_dir, lingering = None, False
    start = time.monotonic()
    try:
        code, out, err = ssh(params, SETUP, STEP_TIMEOUT_S, stdin=payload(ctx), log=log)
        facts = setup_facts(out)
        remote_dir = facts.get("dir")
        if code is None:
            raise guest.Miss(f"{host} did not answer within {STEP_TIMEOUT_S} s", log)
        if code == 255:
            raise guest.Miss(f"cannot reach {host}: {last_line(err)}", log)
        if code != 0 or "machine" not in facts:
            raise guest.Miss(f"could not copy the binaries to {host}: {failure(code, err)}", log)
        why = cannot_start(facts["probe"], facts["machine"], built_for)
        if why:
            raise guest.Miss(why, log)
        boot_s = time.monotonic() - start

        args = [f"{remote_dir}/bin", f"{remote_dir}/out", str(ctx.jobs), scale]
        if ctx.filter:
            args.append(ctx.filter)
        d = shlex.quote(remote_dir)
        watchdog = f"d={d}\n" + WATCHDOG.replace("@PIDFILE@", f"{d}/run.pid")
        fill = {"@DIR@": d, "@WATCHDOG@": shlex.quote(watchdog), "@ARGS@": " ".join(map(shlex.quote, args))}
        remote = re.sub("@[A-Z]+@", lambda m: fill[m.group(0)], RUN)
        run_start = time.monotonic()
        lingering = True
        code, out, err = ssh(params, remote, bound, stdin=None, log=log)
        run_s = time.monotonic() - run_start
        if code is None:
            raise guest.Miss(f"the remote run did not finish within {bound:.0f} s", log)
        if code != 0:
            raise guest.Miss(f"the remote run broke off: {failure(code, err)}", log)
        lingering = False
        with tempfile.TemporaryDirectory(prefix="ipcproof-ssh-") as local:
            outdir = unpack(out, local, log)
            for area_log in outdir.glob("*.log"):
                shutil.copyfile(area_log, Path(ctx.logdir) / f"{safe}-{area_log.name}")
            raw, runs, kernel = guest.read_outdir(outdir, name, "ssh")
    finally:
        cleanup(params, remote_dir, lingering, log)
    kernel.update(host=host, boot_s=round(boot_s, 3), run_s=round(run_s, 3),
                  run_time_s=round(run_s, 3))
    if user:
        kernel["user"] = user
    if port:
        kernel["port"] = port
    return raw, runs, kernel
