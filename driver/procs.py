"""Processes the driver starts: nothing of theirs outlives a run."""
import ctypes
import os
import signal

PR_SET_CHILD_SUBREAPER = 36


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
    return {"ppid": int(fields[1]), "sid": int(fields[3])}


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


def sweep(session=None):
    """SIGKILLs what a run left: its session, and anything reparented to the
    driver; then reaps them."""
    me = os.getpid()
    for _ in range(100):
        victims = descendants(me)
        if session:
            victims |= {int(n) for n in os.listdir("/proc")
                        if n.isdigit() and (_stat(int(n)) or {}).get("sid") == session}
        victims.discard(me)
        if not victims:
            break
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        reap()
    reap()


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
