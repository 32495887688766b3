"""What a bare machine and a damaged cache do to a run: apt trouble that does
not concern the packages needed, build directories a configure left broken or
that belong to another checkout, cached kernels cut short, and boots that die
before the cases start."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, ipcproof
from driver import build
from driver.acquire import cached, cross, debs, images
from driver.errors import Miss
from driver.kernels import qemu, qemu_boot
from driver.errors import UserError

KERNEL = "debian-6.12"


@pytest.mark.parametrize("gone", ["meson", "libcriterion-dev:amd64"])
def test_the_front_door_not_as_root_names_each_missing_package_and_exits_2(gone, tmp_path):
    """dpkg-query that does not list one installed package, id that says
    uid 1000: the one apt-get line, exit 2, nothing run or written."""
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "dpkg-query").write_text(f'#!/bin/sh\n/usr/bin/dpkg-query "$@" | grep -v "^{gone.split(":")[0]}:"\n')
    (fake / "id").write_text("#!/bin/sh\necho 1000\n")
    for tool in fake.iterdir():
        tool.chmod(0o755)
    # a cache of its own: a bare machine's, without the front door's stamp
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}", IPCPROOF_CACHE=str(tmp_path / "cache"))
    done = subprocess.run([str(ROOT / "ipcproof"), "run", "--out", str(tmp_path / "out")], capture_output=True,
                          text=True, env=env, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"ipcproof: missing Debian packages; as root run: apt-get install -y {gone}\n"
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "cache" / "front-door-run.ok").exists()


def counting_dpkg_query(tmp_path, then=""):
    """A PATH whose dpkg-query notes each call in tmp_path/calls, answers,
    then runs `then` (sh)."""
    fake = tmp_path / "fakebin"
    fake.mkdir()
    (fake / "dpkg-query").write_text(f'#!/bin/sh\necho >> {tmp_path / "calls"}\n/usr/bin/dpkg-query "$@"\n'
                                     f'rc=$?\n{then}\nexit $rc\n')
    (fake / "dpkg-query").chmod(0o755)
    return f"{fake}:{os.environ['PATH']}"


def front_door(tmp_path, path):
    """`claims` through the front door, with a cache of its own and dpkg's
    status file and journal copies (DPKG_ADMINDIR), whose times the test
    sets."""
    admin = tmp_path / "dpkg"
    if not admin.exists():
        (admin / "updates").mkdir(parents=True)
        shutil.copy2("/var/lib/dpkg/status", admin / "status")
        os.utime(admin / "updates", (1, 1))
    (tmp_path / "cache").mkdir(exist_ok=True)
    return subprocess.run([str(ROOT / "ipcproof"), "claims", "--area", "fifo"], capture_output=True, text=True,
                          env=dict(os.environ, PATH=path, IPCPROOF_CACHE=str(tmp_path / "cache"),
                                   DPKG_ADMINDIR=str(admin)), timeout=60)


def calls(tmp_path):
    return len((tmp_path / "calls").read_text().splitlines()) if (tmp_path / "calls").exists() else 0


def stamp(tmp_path):
    return tmp_path / "cache" / "front-door-python.ok"


def test_the_front_door_checks_the_packages_again_only_after_dpkg_changed_something(tmp_path):
    path = counting_dpkg_query(tmp_path)
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 1
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 1
    assert stamp(tmp_path).read_text() == f"{ROOT}\n"
    # an install or a removal since: dpkg's status file newer than the
    # stamp, itself still newer than the front door
    script = (ROOT / "ipcproof").stat().st_mtime
    os.utime(stamp(tmp_path), (script + 1, script + 1))
    os.utime(tmp_path / "dpkg" / "status", (script + 2, script + 2))
    done = front_door(tmp_path, path)
    assert (done.returncode, calls(tmp_path)) == (0, 2)
    assert "fifo." in done.stdout
    # a dpkg cut short: its change is in the journal only
    os.utime(stamp(tmp_path), (script + 3, script + 3))
    (tmp_path / "dpkg" / "updates" / "0000").write_text("")
    os.utime(tmp_path / "dpkg" / "updates", (script + 4, script + 4))
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 3


def test_a_change_while_the_front_door_checks_is_seen_by_the_next_command(tmp_path):
    """The stamp's time is taken before dpkg-query answers."""
    path = counting_dpkg_query(tmp_path, then=f"touch {tmp_path / 'dpkg' / 'status'}")
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 1
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 2


def test_a_stamp_of_another_checkout_or_not_a_plain_file_is_not_trusted(tmp_path):
    path = counting_dpkg_query(tmp_path)
    front_door(tmp_path, path)
    stamp(tmp_path).write_text("/another/checkout\n")   # a cache shared between checkouts
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 2
    assert stamp(tmp_path).read_text() == f"{ROOT}\n"
    stamp(tmp_path).write_text("")   # cut short: names nothing
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 3
    assert stamp(tmp_path).read_text() == f"{ROOT}\n"
    stamp(tmp_path).unlink()
    stamp(tmp_path).mkdir()
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 4
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 5


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_a_stamp_planted_as_a_symlink_is_replaced_not_followed(tmp_path, kind):
    target = tmp_path / "elsewhere"
    if kind == "file":
        target.write_text("kept\n")
    else:
        target.mkdir()
    (tmp_path / "cache").mkdir()
    stamp(tmp_path).symlink_to(target)
    path = counting_dpkg_query(tmp_path)
    assert front_door(tmp_path, path).returncode == 0 and calls(tmp_path) == 1
    assert (target.read_text() == "kept\n") if kind == "file" else not any(target.iterdir())
    assert stamp(tmp_path).is_file() and not stamp(tmp_path).is_symlink()


def fake_apt_get(tmp_path, script):
    """A PATH whose apt-get runs script (sh) and hands every other call to
    the real one."""
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    (fake / "apt-get").write_text(f"#!/bin/sh\n{script}\nexec /usr/bin/apt-get \"$@\"\n")
    (fake / "apt-get").chmod(0o755)
    return f"{fake}:{os.environ['PATH']}"


def test_apt_update_trouble_elsewhere_is_a_warning(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("PATH", fake_apt_get(tmp_path, 'for a; do [ "$a" = update ] && {\n'
                       '  echo "E: Failed to fetch http://mirror/dists/bookworm/main/binary-armhf/Packages" >&2\n'
                       '  exit 100; }; done'))
    monkeypatch.setattr(debs, "UPDATED", set())
    debs.update("the test")
    assert "warning: apt-get update failed for the test" in capfd.readouterr().err


@pytest.mark.skipif(os.geteuid() != 0, reason="installing needs root")
def test_a_package_the_archive_does_not_have_is_named(monkeypatch):
    with pytest.raises(UserError) as e:
        debs.ensure(["ipcproof-no-such-package"], "the test")
    assert "no package ipcproof-no-such-package in the archive" in str(e.value)


def configure_fails(tmp_path):
    """A toolchain whose compiler does not exist: CMake stops half-way and
    leaves a CMakeCache.txt with no build file, as a cross compiler without
    its C library did."""
    broken = tmp_path / "broken.cmake"
    broken.write_text("set(CMAKE_C_COMPILER /nonexistent/gcc)\n")
    return ["-DCMAKE_BUILD_TYPE=RelWithDebInfo", f"-DCMAKE_TOOLCHAIN_FILE={broken}"]


def test_a_build_dir_left_by_a_failed_configure_is_configured_again(tmp_path):
    where = tmp_path / "b"
    with pytest.raises(UserError):
        build.cmake_build(where, configure_fails(tmp_path), "the test build")
    assert (where / "CMakeCache.txt").exists() and not (where / build.BUILD_FILE).exists()
    build.cmake_build(where, ["-DCMAKE_BUILD_TYPE=RelWithDebInfo"], "the test build")
    assert os.access(where / "cases" / "pipe", os.X_OK)


def test_a_build_dir_of_another_checkout_is_rebuilt_from_this_one(tmp_path):
    where = tmp_path / "b"
    build.cmake_build(where, ["-DCMAKE_BUILD_TYPE=RelWithDebInfo"], "the test build")
    marker = where / build.MARKER
    marker.write_text(json.dumps({"source": "/elsewhere/ipcproof", "args": ["-DCMAKE_BUILD_TYPE=RelWithDebInfo"]}))
    stale = where / "cases" / "pipe"
    stale.write_bytes(b"not the binary of this tree")
    build.cmake_build(where, ["-DCMAKE_BUILD_TYPE=RelWithDebInfo"], "the test build")
    assert json.loads(marker.read_text())["source"] == str(ROOT)
    assert stale.read_bytes()[:4] == b"\x7fELF"


def test_a_directory_that_is_no_build_dir_is_not_emptied(tmp_path):
    where = tmp_path / "mine"
    where.mkdir()
    (where / "thesis.tex").write_text("precious")
    with pytest.raises(UserError) as e:
        build.cmake_build(where, ["-DCMAKE_BUILD_TYPE=RelWithDebInfo"], "the test build")
    assert "not a build directory" in str(e.value) and (where / "thesis.tex").exists()


def test_a_broken_cross_build_dir_is_repaired_by_the_next_build(provision):
    """The state a bare machine was left in: a configure that failed, then
    every later build reusing it ("gmake: Makefile: No such file")."""
    provision("debian-6.1-arm64")
    arch = qemu.ARM64
    bindir, _ = cross.build(build.CACHE, arch.deb_arch, arch.cpu, arch.triplet, "the test")
    (bindir.parent / build.BUILD_FILE).unlink()
    bindir, _ = cross.build(build.CACHE, arch.deb_arch, arch.cpu, arch.triplet, "the test")
    head = subprocess.run(["readelf", "-h", str(bindir / "pipe")], capture_output=True, text=True).stdout
    assert "AArch64" in head


def test_a_cut_short_sysroot_is_unpacked_again(provision):
    provision("debian-6.1-arm64")
    arch = qemu.ARM64
    root = cross.sysroot(build.CACHE, arch.deb_arch, arch.triplet, "the test")
    [lib] = (root / "usr" / "lib" / arch.triplet).glob("libcriterion.so.*.*")
    lib.write_bytes(lib.read_bytes()[:1000])
    assert not cached.tree_intact(root)
    root = cross.sysroot(build.CACHE, arch.deb_arch, arch.triplet, "the test")
    assert cached.tree_intact(root) and lib.stat().st_size > 1000


def test_a_truncated_cached_kernel_is_fetched_again_and_boots(tmp_path, bindir, provision):
    """The damaged copy is in a cache of the test's own; the archive's .deb
    is stood in for by one made from the good image (what is tested is that
    the damage is seen and mended, not apt's download)."""
    provision(KERNEL)
    good = images.fetch_kernel(KERNEL, qemu.SERIES[KERNEL][1], build.CACHE, tmp_path / "fetch.log")
    cache = tmp_path / "cache"
    store = images.kernel_store(cache) / good["package"]
    shutil.copytree(Path(good["vmlinuz"]).parent, store)
    (store / "vmlinuz").write_bytes((store / "vmlinuz").read_bytes()[:4096])
    deb = tmp_path / "deb"
    (deb / "DEBIAN").mkdir(parents=True)
    (deb / "boot").mkdir()
    shutil.copy(good["vmlinuz"], deb / "boot" / "vmlinuz-test")
    (deb / "DEBIAN" / "control").write_text(f"Package: {good['package']}\nVersion: {good['version']}\n"
                                            "Architecture: amd64\nMaintainer: test <t@t>\nDescription: t\n")
    made = tmp_path / "made.deb"
    subprocess.run(["dpkg-deb", "-Zgzip", "--build", str(deb), str(made)], check=True, capture_output=True)
    path = fake_apt_get(tmp_path, f'[ "$1" = download ] && {{ cp {made} ./k.deb; exit 0; }}')
    code, _, stderr = ipcproof("run", "--kernels", KERNEL, "--areas", "pipe", "--no-build",
                               "--filter", "pipe/default_capacity*", "--out", tmp_path / "out",
                               env={"PATH": path, "IPCPROOF_CACHE": str(cache)})
    assert "does not match its checksum: fetching it again" in stderr
    assert code == 0, stderr
    assert cached.intact(store / "vmlinuz")
    assert (store / "vmlinuz").read_bytes() == Path(good["vmlinuz"]).read_bytes()


def test_a_boot_that_dies_before_the_cases_is_retried_and_recorded(tmp_path, monkeypatch):
    attempts = []

    def boot(name, arch, kernel, initrd, limit, log):
        attempts.append(1)
        Path(log).write_text(f"boot {len(attempts)}\n")
        if len(attempts) == 1:
            raise Miss("the kernel panicked while booting: Fatal exception in interrupt", log, early=True)
        return b"data", 1.0, 2.0

    monkeypatch.setattr(qemu_boot, "boot", boot)
    log = tmp_path / "k-console.log"
    data, boot_s, run_s, retries = qemu_boot.boot_retrying("k", qemu.X86_64, "vmlinuz", "initrd", 60, log)
    assert (data, len(attempts)) == (b"data", 2)
    [retry] = retries
    assert retry["attempt"] == 1 and "Fatal exception" in retry["reason"]
    assert Path(retry["log"]).read_text() == "boot 1\n" and log.read_text() == "boot 2\n"


def test_a_kernel_that_fails_once_the_cases_run_is_not_retried(tmp_path, monkeypatch):
    attempts = []

    def boot(name, arch, kernel, initrd, limit, log):
        attempts.append(1)
        raise Miss("hung: no power-off 60 s after boot", log)

    monkeypatch.setattr(qemu_boot, "boot", boot)
    with pytest.raises(Miss) as miss:
        qemu_boot.boot_retrying("k", qemu.X86_64, "vmlinuz", "initrd", 60, tmp_path / "log")
    assert len(attempts) == 1 and miss.value.retries == []


def test_a_kernel_that_never_boots_is_a_miss_after_every_try(tmp_path, monkeypatch):
    def boot(name, arch, kernel, initrd, limit, log):
        Path(log).write_text("nothing\n")
        raise Miss("did not boot within 120 s", log, early=True)

    monkeypatch.setattr(qemu_boot, "boot", boot)
    with pytest.raises(Miss) as miss:
        qemu_boot.boot_retrying("k", qemu.X86_64, "vmlinuz", "initrd", 60, tmp_path / "log", tries=3)
    assert [r["attempt"] for r in miss.value.retries] == [1, 2]
