"""A lean Criterion for the case binaries: Debian's Criterion 2.4.1 source
built without what ipcproof never uses, linked statically, its protocol
spoken without nanomsg.

Criterion re-executes its binary for every case.  Debian's libcriterion3 is
built with string diffs (libgit2, and through it krb5, ssh2, mbedtls,
libcrypto, pcre2 ...: 22 shared libraries to map and relocate at every
exec) and theories (libffi); ipcproof's cases use neither.  Built here with
diffs, theories and i18n off, as a static library with BoxFort (Debian's
static libboxfort) and nanopb (Debian's nanopb source, compiled with the
flags Criterion's protocol needs) inside, the case binaries can be linked
statically (CMakeLists' IPCPROOF_STATIC): an exec then loads and relocates
no library, and under TCG reuses the code QEMU translated for the previous
one (61.8 -> 13.7 ms for an empty test on debian-6.12).

Every test also reports to the runner in five or more request-and-ack
exchanges, which Criterion makes over nanomsg: a worker thread in the test
and in the runner, eventfds, epoll, dozens of system calls a message.
criterion-transport.c, beside this file, replaces Criterion's
src/protocol/connect.c with the same exchange in blocking calls on Unix
sockets (nanomsg's own bytes on the wire), and the calls into nanomsg are
pointed at it: an empty test then makes a third of the system calls, and
on UML, gVisor and TCG costs 25 to 70 % less.  nanomsg's headers are still
needed to compile Criterion, its library no more.

Everything comes from the Debian archive: the source tarballs through apt
with a private deb-src list (checked against the archive's signed Sources
index), the two header-only dependencies Criterion's tarball lacks (its git
submodules) from binary packages.

IPCPROOF_CRITERION=debian builds against Debian's package instead (nanomsg
and all); the same cases run either way."""
import fcntl
import fnmatch
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import cached, debs, transport
from ..errors import UserError

VERSION = "2.4.1"
# What the build takes from the host (the front door installs them too);
# nanomsg's headers come from libnanomsg-dev (Criterion's sources include
# them; nothing calls into nanomsg once the transport is in place).
PACKAGES = ["meson", "ninja-build", "cmake", "pkg-config", "libboxfort-dev", "libnanomsg-dev"]
SOURCES = {"criterion": f"criterion_{VERSION}.orig.tar.gz", "nanopb": "nanopb_*.orig.tar.gz"}
# What the prefix holds; another layout is another directory in the cache,
# and so is another transport (its hash in the name: prefix()).
LAYOUT = "static"
# The submodules the upstream tarball lacks: debugbreak.h, and klib's two
# headers (fermi-lite's copy is klib's own, unmodified; minimap2's is not).
HEADERS = {"debugbreak": {"usr/include/debugbreak.h": "dependencies/debugbreak"},
           "libfml-dev": {"usr/include/fml/khash.h": "dependencies/klib",
                          "usr/include/fml/kvec.h": "dependencies/klib"}}
MESON_OPTIONS = ["-Ddiffs=disabled", "-Dtheories=disabled", "-Di18n=disabled", "-Dcxx-support=disabled",
                 "-Dtests=false", "-Dsamples=false", "-Ddefault_library=static", "--wrap-mode=nodownload",
                 "--buildtype=release"]

PC = """prefix={prefix}
Name: criterion
Description: Criterion {version} without diffs, theories and i18n, static, without nanomsg (ipcproof)
Version: {version}
Libs: -L{prefix}/lib -L{boxfort} -lcriterion_lean -lboxfort -lprotobuf_nanopb_static -pthread -lm
Cflags: -I{prefix}/include
"""


def choice():
    """lean (the default) or debian, from IPCPROOF_CRITERION."""
    wanted = os.environ.get("IPCPROOF_CRITERION", "lean") or "lean"
    if wanted not in ("lean", "debian"):
        raise UserError(f"IPCPROOF_CRITERION={wanted!r}: say lean or debian")
    return wanted


def deb_src_stanzas(etc=Path("/etc/apt")):
    """A deb-src stanza for every suite the host's apt fetches binaries from
    (its sources, in either format), Debian's keyring to check them."""
    entries = []
    for path in sorted((etc / "sources.list.d").glob("*.sources")):
        for block in path.read_text(errors="replace").split("\n\n"):
            fields = dict(line.split(":", 1) for line in block.splitlines()
                          if ":" in line and not line.startswith(("#", " ")))
            if "deb" in fields.get("Types", "").split() and fields.get("Enabled", "yes").strip() != "no":
                entries.append((fields.get("URIs", "").split(), fields.get("Suites", "").split(),
                                fields.get("Components", "").split(), fields.get("Signed-By", "").strip()))
    for path in [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list"))]:
        lines = path.read_text(errors="replace").splitlines() if path.is_file() else []
        for words in (line.split() for line in lines):
            if words[:1] == ["deb"] and not words[1].startswith("["):
                entries.append(([words[1]], [words[2]], words[3:], ""))
    return "\n".join(f"Types: deb-src\nURIs: {' '.join(u)}\nSuites: {' '.join(s)}\nComponents: {' '.join(c)}\n"
                     + (f"Signed-By: {k}\n" if k else "") for u, s, c, k in entries if u and s and c)


def fetch_sources(work):
    """The orig tarballs: their addresses, sizes and SHA256 from apt's
    signed Sources index (private lists with deb-src entries), each checked
    as it arrives.  Only the orig tarballs: the archive may lack a
    package's Debian packaging (criterion's .debian.tar.xz is gone from
    some mirrors), which `apt-get source` would count as a failure."""
    apt_dir = work / "apt"
    (apt_dir / "sources").mkdir(parents=True)
    (apt_dir / "lists" / "partial").mkdir(parents=True)
    (apt_dir / "sources" / "deb-src.sources").write_text(deb_src_stanzas())
    opts = ["-o", "Dir::Etc::SourceList=/dev/null", "-o", f"Dir::Etc::SourceParts={apt_dir / 'sources'}",
            "-o", f"Dir::State::Lists={apt_dir / 'lists'}", "-o", f"Dir::Cache={apt_dir / 'cache'}",
            "-o", "Acquire::Retries=3", "-q"]
    os.chmod(work, 0o755)   # apt's download sandbox user writes here
    found = {}
    for args in (["update"], ["--print-uris", "source", *SOURCES]):
        done = subprocess.run(["apt-get", *opts, *args], cwd=work, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise UserError(f"the lean Criterion: apt-get {args[-2]} of Debian's sources failed: "
                            f"{debs.last_line(done)}")
    for line in done.stdout.splitlines():
        words = line.split()
        if len(words) == 4 and words[3].startswith("SHA256:"):
            for name, pattern in SOURCES.items():
                if fnmatch.fnmatch(words[1], pattern):
                    found[name] = download(words[0].strip("'"), work / words[1], int(words[2]), words[3][7:])
    return {name: found.get(name) for name in SOURCES}


def download(url, dest, size, sha256):
    """By apt's own transport (its proxy and retry settings), which checks
    the hash as it writes."""
    done = subprocess.run(["/usr/lib/apt/apt-helper", "-o", "Acquire::Retries=3", "download-file", url, str(dest),
                           f"SHA256:{sha256}"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode != 0 or not dest.is_file() or dest.stat().st_size != size:
        raise UserError(f"the lean Criterion: cannot fetch {url}: {debs.last_line(done)}")
    return dest


def unpack(work, tarballs):
    """Criterion's source tree with nanopb as its subproject and the
    missing headers in place."""
    for name, tarball in tarballs.items():
        if tarball is None:
            raise UserError(f"the lean Criterion: apt-get source brought no {SOURCES[name]}")
        (work / name).mkdir()
        subprocess.run(["tar", "-xzf", str(tarball), "-C", str(work / name), "--strip-components=1"], check=True)
    src = work / "criterion"
    shutil.rmtree(src / "subprojects" / "nanopb", ignore_errors=True)
    os.replace(work / "nanopb", src / "subprojects" / "nanopb")
    debs_dir = work / "debs"
    debs_dir.mkdir()
    found, failed = debs.download(list(HEADERS), debs_dir)
    if failed:
        raise UserError(f"the lean Criterion: apt-get download {' '.join(HEADERS)} failed: {failed}")
    for deb in found:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(debs_dir / "root")], check=True)
    for files in HEADERS.values():
        for member, dest in files.items():
            shutil.copy2(debs_dir / "root" / member, src / dest)
    # nanopb from its source, always: a system nanopb (libnanopb-dev) is
    # built without PB_ENABLE_MALLOC, which Criterion's messages need.
    meson = src / "meson.build"
    text = meson.read_text()
    line = next(l for l in text.splitlines() if l.startswith("nanopb = dependency('nanopb'"))
    meson.write_text(text.replace(line, "nanopb = dependency('', required: false)"))
    transport.put(src, VERSION)
    return src


CROSS_FILE = """# Written by ipcproof's driver/acquire/criterion.py: Criterion for {deb_arch}.
[binaries]
c = '{compiler}-gcc'
ar = '{compiler}-ar'
strip = '{compiler}-strip'
pkgconfig = 'pkg-config'
cmake = 'cmake'
[properties]
sys_root = '{sysroot}'
pkg_config_libdir = ['{sysroot}/usr/lib/{triplet}/pkgconfig', '{sysroot}/usr/share/pkgconfig']
[host_machine]
system = 'linux'
cpu_family = '{cpu_family}'
cpu = '{cpu}'
endian = 'little'
"""
# Meson's names for the targets' processors.
MESON_CPU = {"arm64": ("aarch64", "aarch64"), "i386": ("x86", "i686")}


@dataclass(frozen=True)
class Target:
    """Another architecture's build, against its sysroot (acquire/cross.py)."""
    deb_arch: str
    triplet: str
    compiler: str
    sysroot: Path


def compile_into(src, prefix, work, target=None):
    out = work / "meson-build"
    setup = ["meson", "setup", str(out), *MESON_OPTIONS, f"--prefix={work / 'inst'}"]
    if target:
        family, cpu = MESON_CPU[target.deb_arch]
        (work / "cross.ini").write_text(CROSS_FILE.format(cpu_family=family, cpu=cpu, **vars(target)))
        setup.append(f"--cross-file={work / 'cross.ini'}")
    for cmd in (setup, ["ninja", "-C", str(out), "install"]):
        done = subprocess.run(cmd, cwd=src, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            said = [l for l in (done.stdout + done.stderr).splitlines() if "ERROR" in l or "error:" in l]
            raise UserError(f"the lean Criterion: {' '.join(cmd[:2])} failed: {(said or [debs.last_line(done)])[0]}")
    inst = work / "inst"
    (prefix / "lib").mkdir(parents=True)
    # A name of its own: a cross build's sysroot holds Debian's
    # libcriterion.so too, which -lcriterion would find first.
    for name, as_name in (("libcriterion.a", "libcriterion_lean.a"),
                          ("libprotobuf_nanopb_static.a", "libprotobuf_nanopb_static.a")):
        shutil.copy2(next(inst.rglob(name)), prefix / "lib" / as_name)
    shutil.copytree(inst / "include", prefix / "include")
    if target:
        boxfort = target.sysroot / "usr" / "lib" / target.triplet
    else:
        boxfort = subprocess.run(["pkg-config", "--variable=libdir", "boxfort"], capture_output=True,
                                 text=True).stdout.strip() or "/usr/lib"
    (prefix / "lib" / "pkgconfig").mkdir()
    (prefix / "lib" / "pkgconfig" / "criterion.pc").write_text(
        PC.format(prefix=prefix, version=VERSION, boxfort=boxfort))


def prefix(cache, target=None):
    """The lean Criterion's install prefix in the cache (its pkg-config file
    in lib/pkgconfig), built once, for the host or a Target; a UserError
    names what failed."""
    name = f"lean-{VERSION}-{LAYOUT}-{transport.identity()}"
    where = Path(cache) / "criterion" / (f"{name}-{target.deb_arch}" if target else name)
    if cached.tree_intact(where):
        return where
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        lock = open(where.parent / ".lock", "a")
    except OSError as e:
        raise UserError(f"the lean Criterion: cannot use {where.parent}: {e.strerror}") from None
    # one build at a time: a second run on a fresh clone waits for the
    # first's, then finds it whole
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cached.tree_intact(where):
            build_into(where, target)
    return where


def build_into(where, target):
    debs.ensure(PACKAGES, "the lean Criterion")
    debs.say(f"building a lean Criterion {VERSION} from Debian's source into {where}")
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=where.parent))
    try:
        staged = work / "prefix"
        compile_into(unpack(work, fetch_sources(work)), staged, work, target)
        text = (staged / "lib" / "pkgconfig" / "criterion.pc").read_text().replace(str(staged), str(where))
        (staged / "lib" / "pkgconfig" / "criterion.pc").write_text(text)
        shutil.rmtree(where, ignore_errors=True)
        os.replace(staged, where)
        cached.record_tree(where)
    finally:
        shutil.rmtree(work, ignore_errors=True)
