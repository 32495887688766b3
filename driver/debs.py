"""Debian packages a target needs: installed on demand as root, otherwise
the exact apt-get line (exit 2)."""
import os
import subprocess

from .errors import UserError


def missing(packages):
    out = []
    for p in packages:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True)
        if "install ok installed" not in done.stdout:
            out.append(p)
    return out


def ensure(packages, why):
    """Installs what is missing of packages (needed for `why`)."""
    need = missing(packages)
    if not need:
        return
    line = f"apt-get install -y {' '.join(need)}"
    if os.geteuid() != 0:
        raise UserError(f"{why} needs Debian packages; as root run: {line}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *need]):
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise UserError(f"{why}: '{' '.join(cmd)}' failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
