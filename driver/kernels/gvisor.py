"""The `gvisor` target: gVisor's runsc from Debian (the `runsc` package).

gVisor is a kernel reimplemented in Go that serves the sandboxed process's
system calls itself (platform ptrace: the only one this runsc has besides
KVM, which this machine lacks).  The sandbox is an OCI bundle written here:
the host's root read-only, its own /proc, /dev, /dev/shm and /tmp, and one
private temp dir of the driver bound read-write at the same path, which
holds the bin directory, the plan and the output directory it fills.  The cases' temp files (FIFOs, mapped files) live
in a tmpfs of the sandbox mounted over the output directory's tmp/, not on
the host's filesystem.  (`runsc do` would be simpler, but it puts an
in-memory overlay over the whole root, so nothing written inside reaches
the host; `runsc run` with a bundle can share one directory.)"""
import json
import os
import resource
import shlex
import subprocess
from pathlib import Path

from ..acquire import debs
from ..runner import passed_on
from . import Kernel, package_version, say
from .sandbox import Workdir, launch, under_tmp

PACKAGE = "runsc"
RUNSC = Path("/usr/bin/runsc")
PLATFORM = "ptrace"
TIME_SCALE = 2           # platform ptrace: every system call is a round trip through the sandbox

# What root has on the host, so that cases that depend on privilege (pipe
# size limits) compare kernels, not sandbox settings.
CAPABILITIES = [f"CAP_{c}" for c in (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
    "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO "
    "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME "
    "SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP").split()]


def runsc_version():
    """('0.0~20221219.0', full text) from `runsc --version`."""
    try:
        text = subprocess.run([str(RUNSC), "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "", ""
    first = (text.splitlines() or [""])[0]
    return first.removeprefix("runsc version ").strip(), " ".join(text.split())


def spec(work, out, script, needed=()):
    """The OCI bundle's config.json: host root read-only, the work dir
    shared read-write, tmpfs for everything the cases write; the needed
    host directories that the sandbox's own /tmp hides are bound back."""
    soft, hard = (n if n >= 0 else 1 << 20 for n in resource.getrlimit(resource.RLIMIT_NOFILE))
    tmpfs = lambda dest: {"destination": str(dest), "type": "tmpfs", "source": "tmpfs"}
    return {
        "ociVersion": "1.0.0",
        "process": {
            "user": {"uid": 0, "gid": 0},
            "args": ["/bin/sh", str(script)],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    *(f"{k}={v}" for k, v in passed_on().items())],
            "cwd": "/",
            "capabilities": {k: CAPABILITIES for k in ("bounding", "effective", "inheritable", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": soft, "hard": hard}],
        },
        "root": {"path": "/", "readonly": True},
        "hostname": "gvisor",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            tmpfs("/dev"), tmpfs("/dev/shm"), tmpfs("/tmp"),
            *({"destination": str(d), "type": "bind", "source": str(d), "options": ["rbind", "ro"]}
              for d in under_tmp(needed)),
            {"destination": str(work), "type": "bind", "source": str(work), "options": ["rbind", "rw"]},
            tmpfs(out / "tmp"),
        ],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount")]},
    }


def ready():
    if RUNSC.exists():
        return True, f"gVisor runsc {runsc_version()[0]} (Debian), platform {PLATFORM}"
    if os.geteuid() == 0:
        return True, f"installs {PACKAGE} on first use"
    return False, f"needs {PACKAGE} (apt-get install as root)"


def command(work, bundle):
    # --ignore-cgroups: as root runsc would make a cgroup per container,
    # which a killed run leaves behind
    return [str(RUNSC), f"--root={work / 'state'}", "--rootless", "--network=none", f"--platform={PLATFORM}",
            "--ignore-cgroups", "run", f"--bundle={bundle}", f"ipcproof-{os.getpid()}-{work.name[-8:]}"]


def provision(cache):
    debs.ensure([PACKAGE], "the gvisor kernel")


class Channel(Workdir):
    def __init__(self, ctx):
        super().__init__("gvisor")
        self.log = Path(ctx.logdir) / "gvisor-boot.log"

    def run(self, argv, limit):
        version, version_text = runsc_version()
        script = self.work / "inside.sh"
        script.write_text("# runs in the gVisor sandbox\n" + self.stamped(argv))
        bundle = self.work / "bundle"
        bundle.mkdir()
        needed = [p.resolve().parent for p in self.bindir.iterdir()]
        (bundle / "config.json").write_text(json.dumps(spec(self.work, self.outdir, script, needed), indent=1))
        (self.work / "state").mkdir()   # runsc's own bookkeeping, gone with the work dir
        cmd = command(self.work, bundle)
        self.log.write_text(f"$ {' '.join(shlex.quote(c) for c in cmd)}\n")
        say("gvisor", f"starting runsc {version} ({PLATFORM})")
        launched, ended, cut = launch("gvisor", cmd, self.work, limit, self.log)
        boot_s, run_s = self.times(launched, ended)
        return {"boot_s": boot_s, "run_s": run_s, "hung": cut, "package": PACKAGE,
                "package_version": package_version(PACKAGE), "runsc_version": version, "runsc": version_text,
                "platform": PLATFORM, "boot_log": str(self.log)}


def kernels():
    return {"gvisor": Kernel("gvisor", "gvisor", ready, Channel, provision=provision, time_scale=TIME_SCALE)}
