"""Cached artefacts that prove they are whole: the size and sha256 of a file
are recorded when it is made, and a file that no longer matches (truncated by
a full disk, a killed copy, a hand edit) is not reused but made again."""
import hashlib
import json
import os
import tempfile
from pathlib import Path


def sidecar(path):
    path = Path(path)
    return path.with_name(f".{path.name}.sum")


def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record(path):
    """Notes what path is now (call once it is complete)."""
    path = Path(path)
    sidecar(path).write_text(json.dumps({"size": path.stat().st_size, "sha256": digest(path)}) + "\n")


def store(path, data):
    """Writes data beside path, renames it over path and records it: a
    reader sees the old file or the whole new one.  OSError when it
    cannot (the temp file does not stay behind)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        record(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def intact(path):
    """Whether path is the file that was recorded."""
    path = Path(path)
    try:
        made = json.loads(sidecar(path).read_text())
        return path.stat().st_size == made["size"] and digest(path) == made["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return False


def record_tree(root):
    """A manifest of every regular file's size below root (a sysroot: its
    packages were checked by apt; this catches files gone or cut short)."""
    root = Path(root)
    sizes = {str(p.relative_to(root)): p.stat().st_size
             for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}
    (root / ".ipcproof-manifest.json").write_text(json.dumps(sizes) + "\n")


def tree_intact(root):
    root = Path(root)
    try:
        sizes = json.loads((root / ".ipcproof-manifest.json").read_text())
        return bool(sizes) and all((root / rel).stat().st_size == size for rel, size in sizes.items())
    except (OSError, ValueError, AttributeError, TypeError):
        return False
