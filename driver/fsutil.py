"""Writing outputs whole or not at all."""
import os
import tempfile
from pathlib import Path

from .errors import UserError


def output_dir(path):
    """The output directory, made if needed and checked writable."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the output directory {path}: {e.strerror}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"the output directory {path} is not writable")
    return path


def write_atomic(path, text):
    """Writes text to a temp file beside path, then renames it over path:
    a reader never sees half a report, and a failure leaves the old one."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise UserError(f"cannot write in {path.parent}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as e:
        os.unlink(tmp)
        raise UserError(f"cannot write {path}: {e.strerror}") from None


def write_all(files):
    """{path: text}: every file rendered first, then each put in place."""
    for path, text in files.items():
        write_atomic(path, text)
