"""The case binaries built for another architecture (arm64, i386) with
Debian's cross compiler, against the target's Criterion.

The target's libraries are not installed through multiarch: Debian's
libcriterion-dev is Multi-Arch: same, but bookworm's arm64 and amd64
builds of a dependency (libnanomsg5) differ in version (a binNMU), so apt
removes the host's Criterion to install the arm64 one.  Instead apt
downloads the arm64 packages (checked against the archive's signed lists,
as for the kernels) and dpkg-deb unpacks them into a sysroot in the cache:
Criterion's headers and library, and every runtime library it needs, which
also go into the guest.  `dpkg --add-architecture arm64` is still needed,
for apt to know the arm64 packages."""
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import cached, criterion, debs
from ..build import cmake_build, criterion_args
from ..errors import UserError

TOOLCHAIN = """# Written by ipcproof's driver/cross.py: a cross build for {arch}.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR {cpu})
set(CMAKE_C_COMPILER {gnu}-gcc)
set(CMAKE_FIND_ROOT_PATH {sysroot})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,{sysroot}/usr/lib/{triplet} -Wl,-rpath-link,{sysroot}/lib/{triplet}{ldflags}")
set(ENV{{PKG_CONFIG_LIBDIR}} {sysroot}/ipcproof-pkgconfig)
set(ENV{{PKG_CONFIG_PATH}} "")
set(ENV{{PKG_CONFIG_SYSROOT_DIR}} "")
"""

# Criterion's own .pc names private requirements and static archives a
# shared link never uses; this one says just where it is.
CRITERION_PC = """prefix={sysroot}/usr
includedir=${{prefix}}/include
libdir=${{prefix}}/lib/{triplet}

Name: criterion
Description: Criterion for {arch}, unpacked by ipcproof
Version: {version}
Libs: -L${{libdir}} -lcriterion
Cflags: -I${{includedir}}
"""


def has_arch(deb_arch):
    done = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True, text=True)
    return deb_arch in done.stdout.split() or deb_arch == native_arch()


def native_arch():
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()


def packages(deb_arch, triplet, gnu=None):
    """What the host needs installed (the rest is unpacked in the cache): the
    cross compiler and the C library it links against (gcc-<triplet> does
    not bring it: without it the link fails for want of Scrt1.o, crti.o).
    gnu: the compiler's own triplet where it is not the multiarch one
    (i686-linux-gnu-gcc builds for i386-linux-gnu)."""
    return [f"gcc-{gnu or triplet}", f"libc6-dev-{deb_arch}-cross"]


def ensure_arch(deb_arch, why):
    """The foreign architecture known to apt (root only), before anything
    looks up one of its packages (a kernel image, Criterion)."""
    if has_arch(deb_arch):
        return
    if os.geteuid() != 0:
        raise UserError(f"{why} needs the {deb_arch} architecture; as root run: "
                        f"dpkg --add-architecture {deb_arch} && apt-get update")
    debs.say(f"adding the {deb_arch} architecture to apt for {why}")
    subprocess.run(["dpkg", "--add-architecture", deb_arch], check=True)
    debs.update(why, again=True)


def ensure_toolchain(deb_arch, triplet, why, gnu=None):
    ensure_arch(deb_arch, why)
    debs.ensure(packages(deb_arch, triplet, gnu), why)


def runtime_closure(package):
    """package and every package it needs at run time, by apt's own
    resolution (the same arch-qualified names apt would install)."""
    done = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                           "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", package],
                          capture_output=True, text=True)
    arch = package.split(":")[1]
    names = {line.strip() for line in done.stdout.splitlines() if line and not line.startswith(" ")}
    return sorted(n for n in names if n.endswith(f":{arch}") and not n.startswith("<"))


def unpack(root, packages, why):
    """apt-get download each package (verified by apt) and dpkg-deb -x it
    into root, all or nothing; root is made anew."""
    root = Path(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=root.parent))
    try:
        found, failed = debs.download(packages, tmp)
        if failed:
            raise UserError(f"{why}: apt-get download {' '.join(packages)} failed: {failed}")
        for deb in found:
            subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp / "root")], check=True)
        if root.exists():
            shutil.rmtree(root)
        os.replace(tmp / "root", root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def sysroot(cache, deb_arch, triplet, why):
    """The target's Criterion (headers, library) and its runtime closure,
    unpacked once into the cache."""
    root = Path(cache) / "cross" / f"sysroot-{deb_arch}"
    pc = root / "ipcproof-pkgconfig" / "criterion.pc"
    if cached.tree_intact(root) and (root / "usr" / "include" / "nanomsg" / "nn.h").is_file():
        return root
    debs.say(f"unpacking Criterion for {deb_arch} and its libraries into {root}")
    runtime = runtime_closure(f"libcriterion3:{deb_arch}")
    if not runtime:
        raise UserError(f"{why}: apt knows no libcriterion3:{deb_arch} (dpkg --add-architecture "
                        f"{deb_arch} && apt-get update)")
    # boxfort and nanomsg's -dev packages: the lean Criterion is built
    # against them (acquire/criterion.py)
    unpack(root, [f"libcriterion-dev:{deb_arch}", f"libboxfort-dev:{deb_arch}", f"libnanomsg-dev:{deb_arch}",
                  *runtime], why)
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libcriterion3"],
                             capture_output=True, text=True).stdout.strip() or "2"
    pc.parent.mkdir(exist_ok=True)
    pc.write_text(CRITERION_PC.format(sysroot=root, triplet=triplet, arch=deb_arch, version=version))
    cached.record_tree(root)
    return root


# Each target's dynamic loader.  The binaries name it by its path in the
# sysroot (and the sysroot's library directories), because the host kernel
# runs them too: i386 ones directly (host-i386), arm64 ones through
# qemu-user.  They then need no loader or library of the target installed
# on the host, Criterion's re-execution of itself included; in a guest the
# initramfs puts the loader at that same path.
LOADERS = {"arm64": "/lib/ld-linux-aarch64.so.1", "i386": "/lib/ld-linux.so.2"}


def build(cache, deb_arch, cpu, triplet, why, gnu=None):
    """Cross-builds the cases (incrementally) below the cache; (bindir,
    sysroot)."""
    ensure_toolchain(deb_arch, triplet, why, gnu)
    root = sysroot(cache, deb_arch, triplet, why)
    build_dir = Path(cache) / "cross" / f"build-{deb_arch}"
    toolchain = Path(cache) / "cross" / f"toolchain-{deb_arch}.cmake"
    lean = criterion.choice() == "lean"
    # Static programs (the lean Criterion) name no loader; dynamic ones name the
    # sysroot's, and DT_RPATH, not RUNPATH: it also finds what Criterion's
    # own libraries need.
    loader = None if lean else LOADERS.get(deb_arch)
    ldflags = "" if not loader else (f" -Wl,--dynamic-linker={root}{loader} -Wl,--disable-new-dtags"
                                     f" -Wl,-rpath,{root}/lib/{triplet}:{root}/usr/lib/{triplet}")
    text = TOOLCHAIN.format(arch=deb_arch, cpu=cpu, triplet=triplet, gnu=gnu or triplet, sysroot=root,
                            ldflags=ldflags)
    if not toolchain.is_file() or toolchain.read_text() != text:
        toolchain.write_text(text)
    # The toolchain's text is part of the arguments: another sysroot or
    # compiler is another configure.
    args = ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", f"-DCMAKE_TOOLCHAIN_FILE={toolchain}",
            f"-DIPCPROOF_TOOLCHAIN_SHA={hashlib.sha256(text.encode()).hexdigest()[:16]}"]
    if lean:
        args += criterion_args(criterion.prefix(cache, criterion.Target(deb_arch, triplet, gnu or triplet, root)))
    cmake_build(build_dir, args, f"the {deb_arch} cross build")
    return build_dir / "cases", root


def deb_file(cache, package, member, why):
    """One file out of a foreign-architecture package (e.g. busybox-static's
    /bin/busybox for arm64), downloaded once by apt and kept in the cache."""
    root = Path(cache) / "cross" / "debs" / package.replace(":", "_")
    wanted = root / member.lstrip("/")
    if not cached.tree_intact(root) or not wanted.is_file():
        unpack(root, [package], why)
        if not wanted.is_file():
            raise UserError(f"{why}: {package} holds no {member}")
        cached.record_tree(root)
    return wanted


def in_root(root, path):
    """path as seen inside root, following symlinks (absolute ones too)
    without leaving root; None if it is not there."""
    root = Path(root)
    parts = list(Path(path).parts[1:])
    here = root
    for _ in range(64):
        if not parts:
            return here if here.exists() else None
        step = here / parts.pop(0)
        if step.is_symlink():
            target = Path(os.readlink(step))
            base = root if target.is_absolute() else here
            rel = target.parts[1:] if target.is_absolute() else target.parts
            parts = list(rel) + parts
            here = base
            continue
        here = step
    return None
