"""Configuring and building the case binaries with CMake: the host build and
every cross build go through cmake_build.

A build directory is trusted only when it says, in a marker written after a
configure that succeeded, which source tree and which configure arguments it
was made for.  A configure that failed half-way (a cross compiler with no C
library, a full disk), a checkout copied with its build/ (CMake's cache then
points at the original tree, whose sources it would go on compiling), or
other arguments: the directory is emptied and configured again.  One build at
a time per directory (two runs on one fresh clone would race)."""
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .acquire import criterion
from .catalog import ROOT
from .errors import UserError

BUILD = Path(os.environ.get("IPCPROOF_BUILD", ROOT / "build"))
# Downloads (kernel images, arm64 packages), extracted kernels, initramfs
# images and the cross build: kept between runs, reused.
CACHE = Path(os.environ.get("IPCPROOF_CACHE", ROOT / ".cache"))

MARKER = ".ipcproof-configured"
LOCK = ".ipcproof-lock"
# Ninja, not make: a `run` checks the build every time, and make's no-op
# takes 0.33 s here, a fifth of the host's whole run; ninja's, 0.02 s.
GENERATOR, BUILD_FILE = "Ninja", "build.ninja"


def bindir(build=BUILD):
    return Path(build) / "cases"


def build(build=BUILD, quiet=True, static=True):
    """The host build, against the lean Criterion unless
    IPCPROOF_CRITERION=debian, its programs static unless not static
    (prove's, whose injector is preloaded); a failed build is the user's
    error, with the compiler's output on stderr."""
    args = ["-DCMAKE_BUILD_TYPE=RelWithDebInfo"]
    if criterion.choice() == "lean":
        args += criterion_args(criterion.prefix(CACHE), static)
    return cmake_build(Path(build), args, "the build", quiet) / "cases"


def dynamic_build():
    """prove's build directory: the same sources, dynamic programs (an
    LD_PRELOAD reaches no static binary)."""
    return CACHE / "build-dynamic"


def criterion_args(lean, static=True):
    """CMake's arguments for the lean Criterion at lean.  Its pkg-config
    file's text is one: CMake keeps what it read of it, so another build of
    it is another configure."""
    pc = (Path(lean) / "lib" / "pkgconfig" / "criterion.pc").read_bytes()
    return [f"-DIPCPROOF_CRITERION={lean}", f"-DIPCPROOF_CRITERION_SHA={hashlib.sha256(pc).hexdigest()[:16]}",
            f"-DIPCPROOF_STATIC={'ON' if static else 'OFF'}"]


def configured_for(build_dir, args):
    try:
        made = json.loads((build_dir / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return (made == {"source": str(ROOT), "args": list(args)} and (build_dir / "CMakeCache.txt").is_file()
            and (build_dir / BUILD_FILE).is_file())


def empty(build_dir):
    """Everything but the lock goes; refused for a directory that is not a
    CMake build directory (IPCPROOF_BUILD pointed at something else)."""
    names = {p.name for p in build_dir.iterdir()} - {LOCK}
    if names and not names & {MARKER, "CMakeCache.txt", "CMakeFiles"}:
        raise UserError(f"{build_dir} is not empty and not a build directory; name another (IPCPROOF_BUILD)")
    for name in names:
        path = build_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def step(cmd, label, quiet):
    try:
        done = subprocess.run(cmd, capture_output=quiet, text=True, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise UserError("cmake is not installed (see README: ./ipcproof installs it as root)") from None
    if done.returncode != 0:
        if quiet:
            print(done.stdout[-4000:] + done.stderr[-4000:], end="", file=sys.stderr)
        raise UserError(f"{label} failed: {' '.join(cmd)}")


def cmake_build(build_dir, args, label, quiet=True):
    """Configures build_dir for this source tree with args (again, from
    nothing, unless a complete configure for the same made it), then builds
    it incrementally; returns build_dir."""
    build_dir = Path(build_dir)
    try:
        build_dir.mkdir(parents=True, exist_ok=True)
        lock = open(build_dir / LOCK, "a")
    except OSError as e:
        raise UserError(f"cannot use the build directory {build_dir}: {e.strerror}") from None
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not configured_for(build_dir, args):
            empty(build_dir)
            step(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-G", GENERATOR, *args], label, quiet)
            (build_dir / MARKER).write_text(json.dumps({"source": str(ROOT), "args": list(args)}) + "\n")
        step(["cmake", "--build", str(build_dir), "-j", str(os.cpu_count() or 1)], label, quiet)
    return build_dir
