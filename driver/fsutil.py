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


LOG_CAP = 16 << 20   # a case that prints without end does not fill the disk


def log_dir(out, name="logs"):
    """OUT/logs, made by this run or refused when it is a symlink: another
    user who can plant one must not redirect the logs of a root run."""
    logs = Path(out) / name
    try:
        logs.mkdir(exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create {logs}: {e.strerror}") from None
    if logs.is_symlink() or not logs.is_dir():
        raise UserError(f"{logs} is a symlink or not a directory; refusing to write logs through it")
    return logs


def write_log(path, data):
    """Writes bytes to a log without following a symlink planted in its
    place, at most LOG_CAP of them."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise UserError(f"cannot write the log {path}: {e.strerror}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data[:LOG_CAP])
        if len(data) > LOG_CAP:
            f.write(f"\n[ipcproof: log cut at {LOG_CAP} bytes of {len(data)}]\n".encode())


def copy_log(src, dest):
    """A log the kernel left, copied as write_log writes; none, nothing."""
    try:
        with open(src, "rb") as f:
            data = f.read(LOG_CAP + 1)
    except OSError:
        return
    write_log(dest, data)
