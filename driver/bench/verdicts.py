"""The verdicts on the notes' speed rankings, each by a stated rule: who has
the best median of the five mechanisms, and whether its range meets the
one it is compared with."""

MECHANISMS = ("pipe", "fifo", "socket", "signal", "mmap")
LABELS = {"pipe": "pipe", "fifo": "FIFO", "socket": "UNIX stream socket", "signal": "signal",
          "mmap": "shared mmap"}
# The notes' words (cases/notes/ipc-notes.md, the overview's list).
NOTE_PIPE, NOTE_SIGNAL, NOTE_MMAP, NOTE_SOCKET = "使用最简单", "开销最小", "速度快", "最稳定"


def fmt(value, unit):
    if unit == "ns":
        return f"{value:,.0f} ns"
    return f"{value:,.1f} MB/s" if value >= 10 else f"{value:,.3g} MB/s"


def metric(mechs, key):
    """{mechanism: {median, min, max}} for those that measured key."""
    return {m: mechs[m][key] for m in MECHANISMS if isinstance(mechs.get(m), dict) and key in mechs[m]}


def ranking(values, lowest_first):
    return sorted(values, key=lambda m: values[m]["median"], reverse=not lowest_first)


def best_is(mechs, key, who, lowest_first, unit):
    """(verdict, figures, ranking, overlap) for "who has the best median of
    the five"; overlap: whether who's min-max range meets the range it is
    compared with (the runner-up's when it leads, the leader's otherwise)."""
    values = metric(mechs, key)
    if set(values) != set(MECHANISMS):
        missing = [m for m in MECHANISMS if m not in values]
        return "not measured", f"no measurement for {', '.join(missing)}", ranking(values, lowest_first), None
    order = ranking(values, lowest_first)
    mine = values[who]
    other = values[order[1] if order[0] == who else order[0]]
    overlap = not (mine["max"] < other["min"] or other["max"] < mine["min"])
    tail = "the ranges overlap: a close call" if overlap else "the ranges do not overlap"
    if order[0] == who:
        figures = (f"{LABELS[who]} {fmt(mine['median'], unit)} (median) vs the runner-up, "
                   f"{LABELS[order[1]]}, {fmt(other['median'], unit)}; {tail}")
        return "holds", figures, order, overlap
    figures = (f"{LABELS[who]} {fmt(mine['median'], unit)} (median), rank {order.index(who) + 1} of 5; "
               f"the best is {LABELS[order[0]]} at {fmt(other['median'], unit)}; {tail}")
    return "does not hold", figures, order, overlap


def verdicts(mechs):
    """One entry per comparative claim of the notes' overview."""
    out = []
    v, figures, order, overlap = best_is(mechs, "latency_ns", "signal", True, "ns")
    out.append({"claim": "signal has the smallest overhead", "mechanism": "signal", "note": NOTE_SIGNAL,
                "rule": "holds when signal's median round-trip latency (8-byte sigqueue value there and back, "
                        "sigwaitinfo on the blocked signal) is the lowest of the five mechanisms' medians",
                "verdict": v, "figures": figures, "ranking": order, "ranges_overlap": overlap})
    v, figures, order, overlap2 = best_is(mechs, "throughput_MBps", "mmap", False, "MB/s")
    lat = metric(mechs, "latency_ns")
    if "mmap" in lat and len(lat) == len(MECHANISMS):
        figures += f"; for information, its round trip ranks {ranking(lat, True).index('mmap') + 1} of 5"
    out.append({"claim": "mmap is fast", "mechanism": "mmap", "note": NOTE_MMAP,
                "rule": "holds when shared mmap's median bulk throughput (bytes copied into a MAP_SHARED area "
                        "and out by the other process, handed over with process-shared semaphores) is the "
                        "highest of the five; signal counts 8 bytes per sigqueue value",
                "verdict": v, "figures": figures, "ranking": order, "ranges_overlap": overlap2})
    out.append({"claim": "pipe is the simplest to use", "mechanism": "pipe", "note": NOTE_PIPE,
                "rule": "none: ease of use is a judgement about programmers, not a property of the kernel",
                "verdict": "not measurable",
                "figures": "proxy, not a verdict: calls ipc-bench makes before fork to get a two-way "
                           "channel: socket 1 (socketpair), pipe 2 (a pipe is one-way), signal 1 "
                           "(sigprocmask; but one value per signal), mmap 5 (mmap, 4 sem_init), FIFO 3 "
                           "(mkdtemp, 2 mkfifo) plus an open per end and the unlinks; for one-way data pipe "
                           "and socketpair tie at one call",
                "ranking": []})
    spread = {m: (s["max"] - s["min"]) / s["median"] for m, s in lat.items() if s["median"] > 0}
    steadiest = min(spread, key=spread.get) if spread else None
    out.append({"claim": "local sockets are the most stable", "mechanism": "socket", "note": NOTE_SOCKET,
                "rule": "none: 'most stable' has no testable meaning as written; the catalog's socket cases "
                        "check the nearest properties (reliable, in order, full duplex, boundaries)",
                "verdict": "not measurable",
                "figures": ("for information only, not what the notes mean: the steadiest round trip "
                            "((max - min) / median) is " + (f"{LABELS[steadiest]}'s" if steadiest else "unknown")
                            + (f", socket's spread {spread['socket']:.2f}" if "socket" in spread else "")),
                "ranking": sorted(spread, key=spread.get)})
    return out
