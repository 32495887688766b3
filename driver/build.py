"""Configuring and building the case binaries with CMake."""
import os
import sys
import subprocess
from pathlib import Path

from .catalog import ROOT
from .errors import UserError

BUILD = Path(os.environ.get("IPCPROOF_BUILD", ROOT / "build"))
# Downloads (kernel images, arm64 packages), extracted kernels, initramfs
# images and the cross build: kept between runs, reused.
CACHE = Path(os.environ.get("IPCPROOF_CACHE", ROOT / ".cache"))


def bindir(build=BUILD):
    return Path(build) / "cases"


def build(build=BUILD, quiet=True):
    """Configures (once) and builds; a failed build is the user's error,
    with the compiler's output on stderr."""
    build = Path(build)
    steps = []
    if not (build / "CMakeCache.txt").exists():
        steps.append(["cmake", "-S", str(ROOT), "-B", str(build), "-DCMAKE_BUILD_TYPE=RelWithDebInfo"])
    steps.append(["cmake", "--build", str(build), "-j", str(os.cpu_count() or 1)])
    for cmd in steps:
        try:
            done = subprocess.run(cmd, capture_output=quiet, text=True)
        except FileNotFoundError:
            raise UserError("cmake is not installed (see README: ./ipcproof installs it as root)") from None
        if done.returncode != 0:
            if quiet:
                print(done.stdout[-4000:] + done.stderr[-4000:], end="", file=sys.stderr)
            raise UserError(f"the build failed: {' '.join(cmd)}")
    return bindir(build)
