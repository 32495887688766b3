"""Debian's kernel images, fetched with `apt-get download` (apt checks the
archive's signatures and hashes): only the vmlinuz and config are taken out
of the package, into the cache, with a checksum that proves them whole when
they are reused.  Nothing is installed into the host's /boot."""
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
from pathlib import Path

from .. import fsutil
from ..errors import Miss, UserError
from . import cached, debs


def say(name, what):
    print(f"ipcproof: {name}: {what}", file=sys.stderr, flush=True)


def natural(text):
    """A sort key that orders 6.1.0-9 before 6.1.0-10, as sort -V does."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text)]


def apt_names(pattern):
    done = subprocess.run(["apt-cache", "search", "--names-only", pattern],
                          capture_output=True, text=True)
    return [line.split(" ", 1)[0] for line in done.stdout.splitlines() if line.strip()]


KERNEL_NAMES = "kernel-names.json"
PREFIX = "^linux-image-"
NAMES_LOCK = threading.Lock()


def lists_state():
    """What apt answers from (each file's path, size, mtime): its package
    lists, which apt-get update changes, and its sources, an edit of which
    changes which lists count."""
    where = subprocess.run(["apt-config", "shell", "L", "Dir::State::lists/d", "S", "Dir::Etc::sourcelist/f",
                            "P", "Dir::Etc::sourceparts/d"], capture_output=True, text=True).stdout
    dirs = dict(re.findall(r"^([LSP])='([^']*)'$", where, re.M))
    try:
        files = [*Path(dirs.get("L", "/var/lib/apt/lists")).iterdir(), Path(dirs.get("S", "/etc/apt/sources.list"))]
        parts = Path(dirs.get("P", "/etc/apt/sources.list.d"))
        files += list(parts.iterdir()) if parts.is_dir() else []
        return sorted([str(p), st.st_size, st.st_mtime_ns] for p in files
                      if p.is_file() and p.name != "lock" for st in [p.stat()])
    except OSError:
        return None


def kernel_names(cache):
    """Every linux-image-* package apt's lists hold: apt-cache, once per
    state of the lists, the answer kept in the cache.  On a machine whose
    apt keeps no binary cache of its own (Debian's container images set
    Dir::Cache::pkgcache to ""), each apt-cache rebuilds it: 1.5 s, which
    every QEMU kernel of every run spent before its boot."""
    store = Path(cache) / "qemu" / KERNEL_NAMES
    with NAMES_LOCK:
        state = lists_state()
        try:
            kept = json.loads(store.read_text())
            if state is not None and kept["lists"] == state and isinstance(kept["names"], list):
                return [n for n in kept["names"] if isinstance(n, str)]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        names = apt_names(PREFIX)
        if state is not None and names:
            try:
                store.parent.mkdir(parents=True, exist_ok=True)
                fsutil.write_atomic(store, json.dumps({"lists": state, "names": names}) + "\n")
            except (UserError, OSError):    # a cache that cannot be written costs only the time
                pass
        return names


def newest_package(pattern, cache=None):
    """The newest package of a series in the archive's lists; an empty list
    (a machine that never ran apt-get update) is updated once.  With a
    cache, the names come from kernel_names."""
    def names():
        if cache is not None and pattern.startswith(PREFIX):
            return [n for n in kernel_names(cache) if re.search(pattern, n)]
        return apt_names(pattern)
    found = names()
    if not found and os.geteuid() == 0:
        debs.update(f"the kernel images matching {pattern}", again=True)
        found = names()
    return max(found, key=natural) if found else None


def kernel_store(cache):
    return Path(cache) / "qemu" / "kernels"


def cached_kernel(cache, package):
    """The cached extraction of package, or None."""
    d = kernel_store(cache) / package
    try:
        meta = json.loads((d / "package.json").read_text())
    except (OSError, ValueError):
        return None
    return dict(meta, vmlinuz=d / "vmlinuz", config=d / "config") if cached.intact(d / "vmlinuz") else None


def newest_cached(cache, pattern):
    """Offline fallback: the newest cached package of the series."""
    store = kernel_store(cache)
    names = [p.name for p in store.iterdir() if re.match(pattern, p.name)] if store.is_dir() else []
    for name in sorted(names, key=natural, reverse=True):
        if cached_kernel(cache, name):
            return name
    return None


def fetch_kernel(name, pattern, cache, log):
    """{package, version, vmlinuz, config}: from the cache, else downloaded
    with apt (verified against the archive's signed lists) and the boot
    files taken out of the .deb.  Miss when neither works."""
    package = newest_package(pattern, cache) or newest_cached(cache, pattern)
    if package is None:
        raise Miss(f"no kernel package matching {pattern} in apt's lists, nor in the cache", log)
    got = cached_kernel(cache, package)
    if got:
        return got
    if (kernel_store(cache) / package).exists():
        say(name, f"the cached {package} does not match its checksum: fetching it again")
    say(name, f"fetching {package}")
    store = kernel_store(cache)
    store.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=store))
    try:
        found, failed = debs.download([package], tmp)
        if failed:
            Path(log).write_text(f"apt-get download {package}: {failed}\n")
            raise Miss(f"apt-get download {package} failed: {failed}", log)
        unpack_boot(found[0], package, tmp / "out", store / package)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return cached_kernel(cache, package)


def unpack_boot(deb, package, out, final):
    """The package's boot files into out, checked, then renamed to final."""
    version = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"], capture_output=True,
                             text=True, check=True).stdout.strip()
    out.mkdir()
    extract_boot(deb, out)
    cached.record(out / "vmlinuz")
    (out / "package.json").write_text(json.dumps({"package": package, "version": version}) + "\n")
    if final.exists():
        shutil.rmtree(final)
    os.replace(out, final)


def extract_boot(deb, out):
    """Only ./boot/vmlinuz-* and ./boot/config-* from the package's data
    (dpkg-deb --fsys-tarfile streams it; the modules are never written)."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE)
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                base = os.path.basename(member.name)
                if member.isfile() and member.name.startswith("./boot/"):
                    for prefix, dest in (("vmlinuz-", "vmlinuz"), ("vmlinux-", "vmlinuz"),
                                         ("config-", "config")):
                        if base.startswith(prefix):
                            (out / dest).write_bytes(tar.extractfile(member).read())
    finally:
        proc.stdout.close()
        proc.wait()
    if not (out / "vmlinuz").is_file():
        raise Miss(f"{deb.name} holds no /boot/vmlinuz")
