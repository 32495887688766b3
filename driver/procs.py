"""Processes the driver starts: nothing of theirs outlives a run."""
import ctypes
import os
import signal
import subprocess
import threading
import time

PR_SET_CHILD_SUBREAPER = 36
# Set once a run is being stopped (a signal): no new process may start after
# the sweep that ends the ones running.
STOPPING = threading.Event()


class Stopped(Exception):
    """A process was not started because the run is being stopped."""


def popen(cmd, **kw):
    """subprocess.Popen in a session of its own, refused once stopping."""
    if STOPPING.is_set():
        raise Stopped(cmd[0])
    proc = subprocess.Popen(cmd, start_new_session=True, **kw)
    if STOPPING.is_set():
        sweep(proc.pid)
        proc.wait()
        raise Stopped(cmd[0])
    return proc


def become_subreaper():
    """Orphans of the runs come back to the driver, so it can reap them."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _stat(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode(errors="replace")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return {"state": fields[0], "ppid": int(fields[1]), "sid": int(fields[3])}


def descendants(root):
    """Every live process below root, found through /proc."""
    parent_of = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                parent_of[int(name)] = st["ppid"]
    found, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parent_of.items() if pp in frontier} - found
        found |= frontier
    return found


def _table():
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                table[int(name)] = st
    return table


def sweep(session=None, spare=frozenset()):
    """SIGKILLs what a run left and reaps it.  With a session: that
    session's processes and everything below them, and nothing else, since
    other targets run concurrently in sessions of their own; without: every
    process below the driver but those in spare and below them (what the
    caller had started before the run: a benchmark's busy processes)."""
    me = os.getpid()
    for _ in range(100):
        table = _table()
        roots = {p for p, st in table.items() if st["sid"] == session} if session else {me}
        victims, frontier = set(roots), set(roots)
        while frontier:
            frontier = {p for p, st in table.items() if st["ppid"] in frontier} - victims - set(spare)
            victims |= frontier
        victims.discard(me)
        live = [p for p in victims if table[p]["state"] != "Z"]
        for pid in live:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if session or spare:
            # only this run's zombies: a wait on any child would take the
            # exit status of another target's (or the caller's) process
            # from under it
            for pid in victims:
                try:
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        else:
            reap()
        if not live:
            break
        time.sleep(0.01)
    if not session and not spare:
        reap()


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
