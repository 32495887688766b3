"""The LAVA job end to end on this machine: lava-run (Debian's
lava-dispatcher, no server) boots the newest Debian 6.12 kernel under QEMU
(TCG) with an initramfs holding busybox and the case binaries built here,
LAVA adds its overlay with ipcproof's test definition (cloned from this
checkout's committed HEAD) to it, and the device reports every case with
lava-test-case. The results that come back are compared, case by case,
with the committed reference for that kernel.

    /usr/bin/python3 -m driver.lava.e2e [--areas pipe] [--out DIR]

Prints one line per mismatch and a summary; exit 0 when LAVA's results
match the reference, 1 when they do not, 2 when it cannot run here."""
import argparse
import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import build, catalog, runner
from ..acquire import debs, images, initramfs
from ..kernels import qemu
from ..errors import UserError

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
KERNEL = "debian-6.12"
PROMPT = "ipcproof-lava# "
REFERENCE = ROOT / "reports" / "reference" / "all" / "results.json"
# The guest's first process: the mounts and environment of the driver's own
# QEMU init (up to where it runs the cases), then a root shell on the
# serial console for LAVA to drive.
INIT = "".join(line for line in qemu.INIT[:qemu.INIT.index('echo "@MARK@')].replace(
    "@TRIPLET@", qemu.X86_64.triplet).splitlines(True) if not line.startswith("# ")) + r"""mkdir -p /root
export HOME=/root
echo 'export PS1="@PROMPT@"' > /root/.profile
cd /root
exec setsid cttyhack sh -l
"""


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m driver.lava.e2e", description=__doc__.split("\n\n")[0])
    p.add_argument("--areas", default=" ".join(catalog.AREAS), help="areas, separated by spaces or commas")
    p.add_argument("--out", type=Path, help="keep the job, device, log and results here")
    p.add_argument("--timeout", type=int, default=1800, help="bound on lava-run, in seconds")
    return p.parse_args(argv)


def render_job(ramdisk, kernel, bindir, areas):
    import jinja2
    import yaml
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    text = env.from_string((HERE / "qemu-debian-job.yaml.jinja2").read_text()).render(
        kernel_name=KERNEL, kernel_url=f"file://{kernel}", ramdisk_url=f"file://{ramdisk}", rootfs_url="",
        repository=str(ROOT), revision="", bindir=bindir, prompt=PROMPT.strip(), arch="amd64")
    job = yaml.safe_load(text)
    # The areas asked for, as the test definition's parameter.
    job["actions"][-1]["test"]["definitions"][0]["parameters"]["AREAS"] = " ".join(areas)
    return job


def lava_results(log):
    """lava-run's log (one YAML mapping a line): the results of the test
    definition, and the job's own results."""
    import yaml
    cases, job = [], []
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = yaml.safe_load(line)
        except yaml.YAMLError:
            continue
        if not isinstance(entry, dict) or entry.get("lvl") != "results":
            continue
        msg = entry["msg"]
        (cases if msg.get("definition") == "0_ipcproof" else job).append(msg)
    return cases, job


def expected(areas):
    """{(claim.case): LAVA result} for KERNEL from the committed reference:
    an xfail is the failure the harness observed; LAVA has no xfail."""
    doc = json.loads(REFERENCE.read_text())
    want = {}
    for r in doc["results"]:
        area, _, name = r["case"].partition("/")
        if r["kernel"] != KERNEL or area not in areas:
            continue
        status = r.get("observed_status", r["status"]) if r["status"] == "xfail" else r["status"]
        want[f"{r['claim']}.{name}".replace("@", ".")] = {"pass": "pass", "xpass": "pass", "skip": "skip"}.get(status, "fail")
    return want


def compare(cases, areas):
    """(mismatch lines, {result: count}) of LAVA's results against the reference."""
    want = expected(areas)
    got = {c["case"]: c for c in cases}
    out = []
    for name, result in sorted(want.items()):
        if name not in got:
            out.append(f"{name}: no result from LAVA")
        elif got[name]["result"] != result:
            out.append(f"{name}: LAVA says {got[name]['result']}, the reference {result}")
    for area in areas:
        if got.get(f"{area}.complete", {}).get("result") != "pass":
            out.append(f"{area}.complete: {got.get(f'{area}.complete', {}).get('result', 'missing')}")
    counts = {}
    for c in cases:
        kind = "measurement" if "measurement" in c else c["result"]
        counts[kind] = counts.get(kind, 0) + 1
    return out, counts


def main(argv=None):
    args = parse_args(argv)
    areas = [a for a in args.areas.replace(",", " ").split() if a]
    try:
        unknown = sorted(set(areas) - set(catalog.AREAS))
        if unknown or not areas:
            raise UserError(f"unknown area {', '.join(unknown) or '(none given)'}; "
                            f"the areas: {' '.join(catalog.AREAS)}")
        if os.geteuid() != 0:
            raise UserError("lava-run needs root (it runs the dispatcher's actions as root)")
        debs.ensure(["lava-dispatcher", "lava-common", "qemu-system-x86", "busybox-static", "cpio", "git"],
                    "a LAVA job under lava-run")
        bindir = build.build()
        work = Path(tempfile.mkdtemp(prefix="ipcproof-lava-"))
        try:
            return run(args, areas, bindir, work)
        finally:
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                for name in ("job.yaml", "device.yaml", "lava-run.log"):
                    if (work / name).exists():
                        shutil.copy(work / name, args.out / name)
            shutil.rmtree(work, ignore_errors=True)
    except UserError as e:
        print(f"ipcproof-lava: {e}", file=sys.stderr)
        return 2


def stage(areas, bindir, work):
    """The job and device files in work: the kernel, a ramdisk of the
    programs whose /init is a shell for LAVA to drive; the kernel package."""
    import yaml
    kernel = images.fetch_kernel(KERNEL, qemu.SERIES[KERNEL][1], build.CACHE, work / "kernel-fetch.log")
    binaries = [bindir / a for a in areas if (bindir / a).is_file()]
    programs = runner.programs(bindir, [runner.Step(b.name, b.name) for b in binaries])
    files = qemu.guest_files(programs, qemu.X86_64, "/bin/busybox", "/bin/bash")
    files["/init"] = (INIT.replace("@PROMPT@", PROMPT).encode(), 0o755)
    ramdisk = work / "ipcproof-lava.cpio.gz"
    ramdisk.write_bytes(gzip.compress(initramfs.cpio_newc(files), compresslevel=6, mtime=0))
    vmlinuz = work / "vmlinuz"
    shutil.copy(kernel["vmlinuz"], vmlinuz)
    job = render_job(ramdisk, vmlinuz, "/ipcproof/bin", areas)
    (work / "job.yaml").write_text(yaml.safe_dump(job, sort_keys=False))
    shutil.copy(HERE / "qemu-device.yaml", work / "device.yaml")
    return kernel


def lava_run(work, timeout):
    """lava-run's output; its own session, so that on a timeout or an
    interrupt the whole group goes, QEMU with it."""
    proc = subprocess.Popen(["lava-run", "--job-id", str(os.getpid()), "--output-dir", str(work / "out"),
                             "--device", str(work / "device.yaml"), str(work / "job.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            text=True, errors="replace", start_new_session=True)
    try:
        stdout, _ = proc.communicate(timeout=timeout)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, _ = proc.communicate()
        (work / "lava-run.log").write_text(stdout)
        raise UserError(f"lava-run did not finish in {timeout} s (or was interrupted)") from None
    (work / "lava-run.log").write_text(stdout)
    return proc.returncode, stdout


def run(args, areas, bindir, work):
    kernel = stage(areas, bindir, work)
    print(f"ipcproof-lava: lava-run: {kernel['package']} {kernel['version']} under QEMU (TCG), "
          f"areas {' '.join(areas)}", file=sys.stderr, flush=True)
    code, stdout = lava_run(work, args.timeout)
    cases, job = lava_results(stdout)
    failed = [j for j in job if j.get("result") == "fail"]
    for j in failed:
        print(f"ipcproof-lava: job {j.get('case')}: {j.get('error_msg', 'fail')}".rstrip(), file=sys.stderr)
    mismatches, counts = compare(cases, areas)
    for line in mismatches:
        print(line)
    print(f"ipcproof-lava: lava-run exit {code}; {len(cases)} results from the device "
          f"({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}); "
          f"{len(mismatches)} mismatches against reports/reference/all ({KERNEL})", file=sys.stderr)
    return 0 if code == 0 and not failed and not mismatches and cases else 1


if __name__ == "__main__":
    sys.exit(main())
