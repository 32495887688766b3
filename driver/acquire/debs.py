"""Debian packages a target needs: installed on demand as root, otherwise
the exact apt-get line (exit 2).

`apt-get update` fails as a whole when any one index does (another foreign
architecture's list, a mirror in the middle of a sync) although the lists
that matter were refreshed: that is a warning, and only a package that
really cannot be installed is an error, named."""
import os
import subprocess
import sys
import threading
from pathlib import Path

from ..errors import UserError

# Another apt (a second run, a test installing its own tools) may hold the
# lock: wait for it rather than fail.
APT_OPTS = ["-o", "DPkg::Lock::Timeout=600", "-o", "Acquire::Retries=3"]
# Targets provision concurrently: one apt at a time, and one update a run.
LOCK = threading.RLock()
UPDATED = set()


def say(what):
    print(f"ipcproof: {what}", file=sys.stderr, flush=True)


def missing(packages):
    out = []
    for p in packages:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        if "install ok installed" not in done.stdout:
            out.append(p)
    return out


def last_line(done):
    return (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["?"])[-1]


def apt(*args):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(["apt-get", *APT_OPTS, *args], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL)


def update(why, again=False):
    """apt-get update, once a run unless again (a new architecture); trouble
    with it is a warning."""
    with LOCK:
        if UPDATED and not again:
            return
        UPDATED.add(why)
        done = apt("update", "-qq")
    if done.returncode != 0:
        say(f"warning: apt-get update failed for {why} ({last_line(done)}); going on with the lists apt has")


def download(packages, where):
    """apt-get download of packages into where (apt checks them against the
    archive's signed lists): (their .deb files, None), or ([], apt's last
    words) when not every one came."""
    # apt's download sandbox user writes here: not a 0700 dir.
    os.chmod(where, 0o755)
    done = subprocess.run(["apt-get", "download", "-q", *packages], cwd=where, capture_output=True, text=True)
    found = sorted(Path(where).glob("*.deb"))
    if done.returncode != 0 or len(found) != len(packages):
        return [], last_line(done)
    return found, None


def unresolvable(packages):
    """The packages apt knows no candidate for."""
    out = []
    for p in packages:
        done = subprocess.run(["apt-cache", "policy", p], capture_output=True, text=True)
        if "Candidate:" not in done.stdout or "Candidate: (none)" in done.stdout:
            out.append(p)
    return out


def ensure(packages, why):
    """Installs what is missing of packages (needed for `why`), saying so."""
    need = missing(packages)
    if not need:
        return
    line = f"apt-get install -y {' '.join(need)}"
    if os.geteuid() != 0:
        raise UserError(f"{why} needs Debian packages; as root run: {line}")
    with LOCK:
        need = missing(need)
        if not need:
            return
        say(f"installing {' '.join(need)} for {why}")
        update(why)
        done = apt("install", "-y", "-qq", "--no-install-recommends", *need)
    if done.returncode != 0:
        lost = unresolvable(need)
        named = f"no package {', '.join(lost)} in the archive" if lost else last_line(done)
        raise UserError(f"{why}: cannot install {' '.join(need)}: {named}")
