"""The `ssh:[user@]host[:port]` target: a remote Linux machine reached with
OpenSSH.  Four connections: the first makes a private dir on the remote
(mktemp -d); the second unpacks the plan's programs into it and checks that
they can start there (architecture, shared libraries); the third runs the
plan within a bound and sends the output dir back as a tar stream; the last
removes the dir, killing what a hung run left.  A watchdog on the remote
does the same the moment the run's connection drops (Ctrl-C, a killed
driver), so the remote is clean even when the last connection never comes.

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
import tarfile
import tempfile
import time
from pathlib import Path

from ..acquire import debs
from ..errors import Miss, UserError
from . import Kernel
from .ssh_transport import (MKDIR, REMOTE_DIR, RUN, SETUP, STEP_TIMEOUT_S, WATCHDOG, cannot_start, cleanup,
                            elf_machine, failure, last_line, setup_facts, ssh, unpack)

NAME_HELP = "ssh:[user@]host[:port]"
WORD = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z")
HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*\Z|\[[0-9A-Fa-f:.]+\]\Z")


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
    return Kernel(name, "ssh", ready, functools.partial(Channel, name=name, **params), params, provision)


def ready():
    found = shutil.which("ssh")
    if not found:
        return False, "the OpenSSH client is missing (apt-get install openssh-client)"
    return True, f"OpenSSH client {found}; name a remote as {NAME_HELP}"


def provision(cache):
    if not shutil.which("ssh"):
        debs.ensure(["openssh-client"], "the ssh kernel")


def run_bound(limit):
    """Seconds the whole remote run may take: IPCPROOF_SSH_TIMEOUT, else the
    plan's own bound."""
    given = os.environ.get("IPCPROOF_SSH_TIMEOUT")
    if not given:
        return limit
    try:
        return float(given)
    except ValueError:
        raise UserError(f"IPCPROOF_SSH_TIMEOUT is not a number of seconds: {given!r}") from None


def fill(template, values):
    return re.sub("@[A-Z]+@", lambda m: values[m.group(0)], template)


class Channel:
    def __init__(self, ctx, name, user, host, port):
        self.name, self.params = name, {"user": user, "host": host, "port": port}
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
        self.log = Path(ctx.logdir) / f"{safe}.log"
        self.local = Path(tempfile.mkdtemp(prefix="ipcproof-ssh-"))
        self.remote_dir, self.lingering, self.facts = None, False, {}

    def __enter__(self):
        self.log.write_text("")
        start = time.monotonic()
        code, out, err = ssh(self.params, MKDIR, STEP_TIMEOUT_S, log=self.log)
        host = self.params["host"]
        if code is None:
            raise Miss(f"{host} did not answer within {STEP_TIMEOUT_S} s", self.log)
        if code == 255:
            raise Miss(f"cannot reach {host}: {last_line(err)}", self.log)
        self.remote_dir = out.decode(errors="replace").strip()
        if code != 0 or not REMOTE_DIR.match(self.remote_dir):
            raise Miss(f"could not make a private dir on {host}: {failure(code, err)}", self.log)
        self.bindir, self.outdir = f"{self.remote_dir}/bin", f"{self.remote_dir}/out"
        self.facts["boot_s"] = time.monotonic() - start
        return self

    def __exit__(self, *exc):
        try:
            cleanup(self.params, self.remote_dir, self.lingering, self.log)
        finally:
            shutil.rmtree(self.local, ignore_errors=True)

    def put(self, files, texts=None):
        start = time.monotonic()
        stream = tar_of(files, texts or {})
        code, out, err = ssh(self.params, fill(SETUP, {"@DIR@": shlex.quote(self.remote_dir)}), STEP_TIMEOUT_S,
                             stdin=stream, log=self.log)
        got = setup_facts(out)
        if code != 0 or "machine" not in got:
            raise Miss(f"could not copy the binaries to {self.params['host']}: {failure(code, err)}", self.log)
        elves = [f for f in files if Path(f).read_bytes()[:4] == b"\x7fELF"]
        why = cannot_start(got["probe"], got["machine"], elf_machine(elves[0]) if elves else got["machine"])
        if why:
            raise Miss(why, self.log)
        self.facts["boot_s"] += time.monotonic() - start

    def run(self, argv, limit):
        d = shlex.quote(self.remote_dir)
        watchdog = f"d={d}\n" + WATCHDOG.replace("@PIDFILE@", f"{d}/run.pid")
        remote = fill(RUN, {"@DIR@": d, "@WATCHDOG@": shlex.quote(watchdog),
                            "@ARGV@": " ".join(map(shlex.quote, argv))})
        bound = run_bound(limit)
        start = time.monotonic()
        self.lingering = True
        code, out, err = ssh(self.params, remote, bound, stdin=None, log=self.log)
        run_s = time.monotonic() - start
        if code is None:
            raise Miss(f"the remote run did not finish within {bound:.0f} s", self.log)
        if code != 0:
            raise Miss(f"the remote run broke off: {failure(code, err)}", self.log)
        self.lingering = False
        unpack(out, self.local, self.log)
        facts = {"host": self.params["host"], "boot_s": round(self.facts["boot_s"], 3), "run_s": round(run_s, 3)}
        facts.update({k: v for k, v in (("user", self.params["user"]), ("port", self.params["port"])) if v})
        return facts

    def get(self):
        return self.local / "out"


def tar_of(files, texts):
    """bin/ holding the files and the texts, as a tar stream."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in files:
            if not Path(path).is_file():
                raise UserError(f"{path} is missing (is the build complete?)")
            tar.add(path, arcname=f"bin/{Path(path).name}")
        for name, text in texts.items():
            data = text.encode()
            info = tarfile.TarInfo(f"bin/{name}")
            info.size, info.mode = len(data), 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
