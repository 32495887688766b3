"""Writing outputs whole or not at all."""
import ctypes
import errno
import os
import shutil
import stat
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


def cache_dir(path):
    """The download cache, made if needed and checked writable by writing
    in it (a read-only filesystem passes os.access as root)."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError as e:
        raise UserError(f"cannot use the cache {path} (IPCPROOF_CACHE): {e.strerror}") from None
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
    except BaseException:
        # text that cannot be encoded, a signal: no temp file stays behind
        os.unlink(tmp)
        raise


def write_all(files):
    """{path: text}, paths of one directory: all of them replaced at once or
    none.  The set is written into a fresh sibling directory, the other
    entries of the old one moved into it, and the two directories exchanged
    in one step (renameat2 RENAME_EXCHANGE): a reader, a full disk or a
    concurrent run never sees a mix of old and new files.  Where no
    sibling can be made on the same filesystem (the directory is a mount
    point, its parent is not writable) each file is still replaced whole."""
    files = {Path(p): text for p, text in files.items()}
    dirs = {p.parent for p in files}
    if len(dirs) != 1:
        raise ValueError("write_all: files of one directory")
    # the real directory: the swap must not replace a symlink naming it
    out = next(iter(dirs)).resolve()
    fresh = _sibling(out)
    if fresh is None:
        for path in files:
            write_atomic(out / path.name, files[path])
        return
    try:
        for path, text in files.items():
            write_atomic(fresh / path.name, text)
        _carry(out, fresh, {p.name for p in files})
        if not _exchange(fresh, out):
            _carry(fresh, out, ())
            for path, text in files.items():
                write_atomic(out / path.name, text)
            return
        # what a concurrent writer put in the old directory meanwhile
        _carry(fresh, out, {p.name for p in files})
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


def _sibling(out):
    try:
        fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    except OSError:
        return None
    try:
        if os.stat(fresh).st_dev != os.stat(out).st_dev:
            raise OSError
        os.chmod(fresh, stat.S_IMODE(os.stat(out).st_mode))
    except OSError:
        fresh.rmdir()
        return None
    return fresh


def _carry(src, dest, skip):
    """Moves the entries of src that are not in skip into dest, where dest
    has none of that name."""
    for entry in os.listdir(src):
        if entry not in skip and not os.path.lexists(dest / entry):
            try:
                os.rename(src / entry, dest / entry)
            except OSError:
                pass


RENAME_EXCHANGE = 2
AT_FDCWD = -100


def _exchange(a, b):
    """Swaps two directories atomically; False where the kernel or the
    filesystem cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except AttributeError:
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EBUSY, errno.ENOTSUP):
        return False
    raise UserError(f"cannot put the reports in place in {b}: {os.strerror(err)}")


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
