"""The initramfs a QEMU guest boots: a newc cpio archive of the programs, the
shared libraries they need (found below the host's / or a sysroot) and their
loader, cached under the hash of its content.  Not compressed: the guest
would inflate it under TCG (0.5-0.9 s of each boot, for 18 MB), while QEMU
loads the plain archive at the host's speed."""
import hashlib
import io
import os
import re
import subprocess
from pathlib import Path

from ..errors import UserError
from . import cached, cross


def elf_needs(path):
    """(interpreter or None, [NEEDED sonames]) of an ELF file, via readelf
    (works for a foreign architecture, unlike ldd)."""
    out = subprocess.run(["readelf", "-ldW", str(path)], capture_output=True, text=True).stdout
    interp = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    return (interp.group(1) if interp else None,
            re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def library_closure(binaries, triplet, root="/"):
    """{path in the guest: host file} for every shared library the binaries
    need, transitively, and their dynamic loader, as found below root (the
    host's / for its own architecture, a sysroot for another)."""
    dirs = [f"/lib/{triplet}", f"/usr/lib/{triplet}"]
    found, todo = {}, list(binaries)
    seen = set()
    while todo:
        elf = todo.pop()
        if elf in seen:
            continue
        seen.add(elf)
        interp, needed = elf_needs(elf)
        if interp:
            # A loader named by its path in the sysroot (host-i386's
            # binaries) goes into the guest at that same path.
            inside = root != "/" and Path(interp).is_relative_to(root) and Path(interp).is_file()
            where = Path(interp) if inside else cross.in_root(root, interp)
            if where is None:
                raise UserError(f"{Path(elf).name} needs the loader {interp}, not found below {root}")
            found[interp] = where
        for soname in needed:
            where = next(filter(None, (cross.in_root(root, f"{d}/{soname}") for d in dirs)), None)
            if where is None:
                raise UserError(f"{Path(elf).name} needs {soname}, not found in {root} {' '.join(dirs)}")
            found[f"/lib/{triplet}/{soname}"] = where
            todo.append(where)
    return found


def content(item):
    return item if isinstance(item, bytes) else Path(item).read_bytes()


def cpio_newc(files):
    """A newc cpio archive (what the kernel unpacks) of {path: (data, mode)},
    with the parent directories, fixed owners and times (reproducible)."""
    out = io.BytesIO()
    ino = [0]

    def entry(name, mode, data=b""):
        ino[0] += 1
        name_b = name.encode() + b"\0"
        head = b"070701" + b"".join(b"%08X" % v for v in (
            ino[0], mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        out.write(head + name_b)
        out.write(b"\0" * (-(len(head) + len(name_b)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))

    dirs = sorted({str(Path(p).parent).lstrip("/") for p in files} - {""})
    every_dir = sorted({"/".join(d.split("/")[:i + 1]) for d in dirs for i in range(d.count("/") + 1)})
    for d in every_dir:
        entry(d, 0o040755)
    for path in sorted(files):
        data, mode = files[path]
        entry(path.lstrip("/"), 0o100000 | mode, content(data))
    entry("TRAILER!!!", 0)
    return out.getvalue()


def initramfs(cache, files):
    """The initramfs for files, cached under the hash of its content,
    so an unchanged build boots without packing again."""
    h = hashlib.sha256()
    for path in sorted(files):
        data, mode = files[path]
        h.update(f"{path}\0{mode}\0".encode())
        h.update(hashlib.sha256(content(data)).digest())
    store = Path(cache) / "qemu" / "initramfs"
    store.mkdir(parents=True, exist_ok=True)
    target = store / f"{h.hexdigest()[:24]}.cpio"
    if cached.intact(target):
        os.utime(target)
        return target
    cached.store(target, cpio_newc(files))
    prune(store, keep=target)
    return target


def prune(store, keep, most=8):
    """Old initramfs images (other builds, and the gzipped ones of earlier
    versions) beyond the newest few go."""
    for p in store.glob("*.cpio.gz"):
        p.unlink(missing_ok=True)
        cached.sidecar(p).unlink(missing_ok=True)
    old = sorted((p for p in store.glob("*.cpio") if p != keep), key=lambda p: p.stat().st_mtime)
    for p in old[:max(0, len(old) - most + 1)]:
        p.unlink(missing_ok=True)
        cached.sidecar(p).unlink(missing_ok=True)
