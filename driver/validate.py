"""Reading what another program wrote (a results file, a kernel's output, a
case's result lines): bounded in size, parsed strictly, checked by type.
Every problem is a Bad with one line that says where; the callers turn it
into exit 2 (a file the user named) or a miss (what one kernel sent)."""
import json
import math
import os
import re
import stat

MAX_BYTES = 64 << 20      # a full run on a dozen kernels is a few MB
MAX_DEPTH = 12            # a results file nests 5 deep
MAX_STR = 1 << 20
MAX_INT = 1 << 63
# names (ids, cases, areas) are printed on terminals and in reports
NAME = re.compile(r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]{1,256}")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class Bad(Exception):
    """One line: what is wrong and where."""


def term(text):
    """Text safe to print on a terminal or in a one-line message: control
    characters (ESC, CR, NUL, newlines) shown as escapes, not obeyed."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", lambda m: f"\\x{ord(m.group()):02x}"
                  if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", str(text))


def read_bounded(path, limit=MAX_BYTES):
    """The bytes of a regular file of at most limit bytes: a FIFO, a device
    (/dev/zero) or a huge file is refused before any read that could hang or
    fill memory."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise Bad(f"cannot read {path}: {e.strerror}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
        os.close(fd)
        raise Bad(f"{path} is not a regular file" if not stat.S_ISREG(st.st_mode)
                  else f"{path} is larger than {limit >> 20} MiB")
    with os.fdopen(fd, "rb") as f:
        try:
            data = f.read(limit + 1)
        except OSError as e:
            raise Bad(f"cannot read {path}: {e.strerror}") from None
    if len(data) > limit:
        raise Bad(f"{path} is larger than {limit >> 20} MiB")
    return data


def _no_constant(name):
    raise ValueError(f"{name} is not a number JSON allows")


def _number(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _integer(text):
    if len(text) > 20 or abs(int(text)) > MAX_INT:
        raise ValueError(f"an integer of {len(text)} digits is out of range")
    return int(text)


def _pairs(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise ValueError(f"duplicate key {k[:40]!r}")
        seen[k] = v
    return seen


def loads(data, what):
    """Strict JSON: no NaN or Infinity, no out-of-range number, no duplicate
    key, valid UTF-8 without lone surrogates, bounded depth and strings."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_constant=_no_constant, parse_float=_number,
                           parse_int=_integer, object_pairs_hook=_pairs)
    except UnicodeDecodeError as e:
        raise Bad(f"{what} is not valid JSON: not UTF-8 at byte {e.start}") from None
    except json.JSONDecodeError as e:
        raise Bad(f"{what} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except ValueError as e:
        raise Bad(f"{what} is not valid JSON: {e}") from None
    except RecursionError:
        raise Bad(f"{what} is nested deeper than {MAX_DEPTH}") from None
    bounded(value, what)
    return value


def bounded(value, where):
    """Depth, string sizes, encodable text, walked without recursion."""
    stack = [(value, where, 0)]
    while stack:
        v, at, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Bad(f"{at}: nested deeper than {MAX_DEPTH}")
        if isinstance(v, str):
            _text(v, at)
        elif isinstance(v, dict):
            for k, item in v.items():
                _text(k, at)
                stack.append((item, f"{at}.{k[:40]}", depth + 1))
        elif isinstance(v, list):
            stack += [(item, f"{at}[{i}]", depth + 1) for i, item in enumerate(v)]


def _text(s, at):
    if len(s) > MAX_STR:
        raise Bad(f"{at}: a string of {len(s)} characters")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise Bad(f"{at}: a lone surrogate in a string") from None


class OneOf(tuple):
    """A field that holds one of these strings."""


# The types of the fields that readers use; other fields may hold any
# bounded JSON value.  A tuple: any of those types; [T]: a list of T;
# {}: an object of strings.
NAME_T, TEXT, INT, NUM, BOOL, NULL = "name", str, int, "number", bool, type(None)
TYPE_WORDS = {NAME_T: "a name", str: "a string", int: "an integer", "number": "a number",
              bool: "a boolean", NULL: "null", list: "a list", dict: "an object"}


def _is(value, t):
    if isinstance(t, OneOf):
        return isinstance(value, str) and value in t
    if isinstance(t, tuple):
        return any(_is(value, x) for x in t)
    if t == NAME_T:
        return isinstance(value, str) and bool(NAME.fullmatch(value))
    if t == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(t, list):          # [T]: a list of T
        return isinstance(value, list) and all(_is(x, t[0]) for x in value)
    if isinstance(t, dict) and not t:   # {}: an object of strings
        return isinstance(value, dict) and all(isinstance(x, str) for x in value.values())
    return isinstance(value, t)


def _word(t):
    if isinstance(t, list):
        return f"a list of {_word(t[0]).split(' ', 1)[1]}s"
    if isinstance(t, dict):
        return "an object of strings"
    if isinstance(t, OneOf):
        return "one of " + ", ".join(t)
    if isinstance(t, tuple):
        return " or ".join(_word(x) for x in t)
    return TYPE_WORDS[t]


def _found(value):
    if isinstance(value, str) and not NAME.fullmatch(value):
        return "an empty string" if not value else "a string with a control character"
    for t in (bool, int, float, str, list, dict, NULL):
        if isinstance(value, t):
            return {float: "a number"}.get(t) or TYPE_WORDS[t]
    return type(value).__name__


def record(item, fields, required, at):
    """item checked against {field: type}; the fields in required must be there."""
    if not isinstance(item, dict):
        raise Bad(f"{at} is {_found(item)}, not an object")
    for f in required:
        if f not in item:
            raise Bad(f"{at} has no {f}")
    for f, t in fields.items():
        if f in item and not _is(item[f], t):
            if isinstance(t, OneOf) and isinstance(item[f], str):
                raise Bad(f"{at} has {f} {term(repr(item[f]))[:60]}, not {_word(t)}")
            raise Bad(f"{at}.{f} is {_found(item[f])}, not {_word(t)}")
    return item


def records(value, fields, required, at, key=None):
    if not isinstance(value, list):
        raise Bad(f"{at} is {_found(value)}, not a list")
    seen = set()
    for i, item in enumerate(value):
        record(item, fields, required, f"{at}[{i}]")
        if key:
            k = key(item)
            if k in seen:
                raise Bad(f"{at}[{i}] repeats {term(' '.join(map(str, k)))[:120]}")
            seen.add(k)
    return value


STATUSES = OneOf(("pass", "fail", "error", "timeout", "skip", "xfail", "xpass"))
KERNEL = {"id": NAME_T, "runner": str, "release": str, "machine": str, "page_size": (int, NULL),
          "version": str, "status": OneOf(("ran", "miss")), "complete": bool, "hostname": str,
          "miss_reason": str, "log": str, "source": str, "tainted": str, "time_scale": "number",
          "run_time_s": ("number", NULL), "boot_retries": list, "criterion": str, "problems": [str], "console_problems": [str]}
CLAIM = {"id": NAME_T, "area": NAME_T, "note_verdict": str, "cases": [NAME_T], "note": str,
         "statement": str, "truth": str, "why": str, "refs": list}
RESULT = {"claim": str, "case": NAME_T, "kernel": NAME_T, "status": STATUSES, "duration_s": "number",
          "evidence": {}, "message": str, "signal": (str, NULL), "exit_code": (int, NULL),
          "timed_out": bool, "observed_status": str, "divergence": str}
RUN = {"binary": str, "kernel": (str, NULL), "exit_code": (int, NULL), "hung": bool,
       "wall_s": ("number", NULL)}


def results_doc(doc, schema):
    """A results file's contract: types, names, no repeated kernel, claim or
    result; the results name kernels and claims the file holds."""
    if not isinstance(doc, dict):
        raise Bad(f"the top level is not an object but {_found(doc)}")
    if doc.get("schema") != schema:
        raise Bad(f"schema is {term(repr(doc.get('schema')))[:80]}, expected {schema!r}")
    record(doc, {"generated": str}, (), "the file")
    kernels = records(doc.get("kernels"), KERNEL, ("id",), "kernels", lambda k: (k["id"],))
    claims = records(doc.get("claims"), CLAIM, ("id", "area", "note_verdict", "cases"), "claims",
                     lambda c: (c["id"],))
    results = records(doc.get("results"), RESULT, ("claim", "case", "kernel", "status"), "results",
                      lambda r: (r["kernel"], r["case"]))
    records(doc.get("runs", []), RUN, (), "runs")
    known_k, known_c = {k["id"] for k in kernels}, {c["id"] for c in claims} | {""}
    for i, r in enumerate(results):
        if r["kernel"] not in known_k:
            raise Bad(f"results[{i}] names the kernel {term(r['kernel'])[:80]}, which kernels does not hold")
        if r["claim"] not in known_c:
            raise Bad(f"results[{i}] names the claim {term(r['claim'])[:80]}, which claims does not hold")
    return doc


def read_json(path, what=None, limit=MAX_BYTES):
    return loads(read_bounded(path, limit), what or str(path))


# What a kernel sends back: kernel-info's facts, the runner's step lines,
# the harness's result lines.
FACTS = {"release": str, "machine": str, "version": str, "page_size": (int, NULL), "hostname": str}
STEP = {"step": NAME_T, "exit_code": (int, NULL), "hung": bool, "wall_s": "number"}
CASE = {"case": NAME_T, "status": str, "duration_s": "number", "signal": (str, NULL),
        "exit_code": (int, NULL), "timed_out": bool, "message": str, "description": str,
        "evidence": {}, "observed_status": str}


def facts(value, at):
    record(value, FACTS, (), at)
    for k, v in value.items():
        if isinstance(v, (dict, list)):
            raise Bad(f"{at}.{k[:40]} is {_found(v)}, not a plain value")
    return value


def json_lines(path, fields, required):
    """The records of a JSON-lines file a kernel wrote, checked; a torn last
    line (the writer was killed mid-line) is dropped; no file, no records."""
    name = os.path.basename(path)
    if not os.path.lexists(path):
        return []
    text = read_bounded(path).decode("utf-8", errors="replace")
    lines, out = text.splitlines(), []
    for n, line in enumerate(lines, 1):
        try:
            item = loads(line, f"{name} line {n}")
        except Bad:
            if n == len(lines) and not text.endswith("\n"):
                continue
            raise
        out.append(record(item, fields, required, f"{name} line {n}"))
    return out
