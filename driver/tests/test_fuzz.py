"""report, merge and diff fed a few hundred generated malformed results
files: wrong types in every field, huge and deep values, control
characters, duplicates, broken JSON.  Each is one line on stderr and exit 2,
no traceback, nothing left in --out.  Most go through the commands in
process (fast); a handful through the real command line."""
import copy
import json
import signal

import pytest

from conftest import ROOT, ipcproof
from driver import cli

BASE = json.loads((ROOT / "reports" / "reference" / "host" / "results.json").read_text())
WRONG = {"a list": [1], "an object": {"a": 1}, "an integer": 7, "a number": 0.5, "a boolean": True,
         "null": None, "a string": "x", "a control character": "a\x1b[2Jb", "an empty string": ""}
FIELDS = {
    "kernels": {"id": "name", "runner": str, "release": str, "machine": str, "page_size": (int, None),
                "status": "status", "complete": bool, "miss_reason": str, "problems": "strings",
                "time_scale": "number"},
    "claims": {"id": "name", "area": "name", "note_verdict": str, "cases": "names", "note": str,
               "refs": list},
    "results": {"claim": str, "case": "name", "kernel": "name", "status": "status",
                "duration_s": "number", "evidence": "evidence", "message": str, "signal": (str, None),
                "exit_code": (int, None), "timed_out": bool, "observed_status": str, "divergence": str},
    "runs": {"binary": str, "exit_code": (int, None), "hung": bool, "wall_s": ("number", None)},
}
REQUIRED = {"kernels": ["id"], "claims": ["id", "area", "note_verdict", "cases"],
            "results": ["claim", "case", "kernel", "status"], "runs": []}


def small():
    """The reference, cut to three claims: each case quick to render."""
    doc = copy.deepcopy(BASE)
    doc["claims"] = doc["claims"][:3]
    ids = {c["id"] for c in doc["claims"]}
    doc["results"] = [r for r in doc["results"] if r["claim"] in ids]
    return doc


def accepts(kind, value):
    """Whether the contract takes value for a field of that kind."""
    if kind == "name":
        return isinstance(value, str) and value != "" and "\x1b" not in value
    if kind == "status":
        return False   # none of WRONG is a status
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in ("strings", "names"):
        return False
    if kind == "evidence":
        return value == {}
    if isinstance(kind, tuple):
        return any(accepts(k, value) for k in kind)
    if kind is None:
        return value is None
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def documents():
    """(name, bytes) of malformed results files."""
    out = []

    def add(name, doc):
        out.append((name, json.dumps(doc, ensure_ascii=False).encode()))
    for key, fields in FIELDS.items():
        for field, kind in fields.items():
            for word, value in WRONG.items():
                if accepts(kind, value):
                    continue
                doc = small()
                doc[key][0][field] = value
                add(f"{key}.{field}={word}", doc)
        for field in REQUIRED[key]:
            doc = small()
            del doc[key][0][field]
            add(f"{key} without {field}", doc)
        for word, value in WRONG.items():
            if word != "a list":
                doc = small()
                doc[key] = value
                add(f"{key}={word}", doc)
            if key != "runs" or not isinstance(value, dict):
                doc = small()
                doc[key][0] = value
                add(f"{key}[0]={word}", doc)
        doc = small()
        doc[key].append(copy.deepcopy(doc[key][0]))
        if key != "runs":
            add(f"{key} repeated", doc)
    for word, value in WRONG.items():
        doc = small()
        doc["results"][0]["evidence"] = {"k": value}
        if not isinstance(value, str):
            add(f"evidence value {word}", doc)
        doc = small()
        doc["claims"][0]["cases"] = [value]
        if not accepts("name", value):
            add(f"claims.cases[0]={word}", doc)
    for word, value in WRONG.items():
        add(f"top level {word}", value)
        doc = small()
        doc["schema"] = value
        add(f"schema={word}", doc)
    doc = small()
    doc["results"][0]["kernel"] = "nowhere"
    add("a result of no kernel", doc)
    doc = small()
    doc["results"][0]["claim"] = "no-such-claim"
    add("a result of no claim", doc)
    doc = small()
    doc["results"][0]["message"] = "x" * (2 << 20)
    add("a 2 MiB string", doc)
    good = json.dumps(small())
    raw = {
        "5000 digits": good.replace('"duration_s": ', '"duration_s": ' + "9" * 5000 + ", \"x\": ", 1),
        "21 digits": good.replace('"duration_s": ', '"duration_s": ' + "9" * 21 + ", \"x\": ", 1),
        "NaN": good.replace('"duration_s": ', '"duration_s": NaN, "x": ', 1),
        "Infinity": good.replace('"duration_s": ', '"duration_s": -Infinity, "x": ', 1),
        "1e999": good.replace('"duration_s": ', '"duration_s": 1e999, "x": ', 1),
        "lone surrogate": good.replace('"message": "', '"message": "\\ud800', 1),
        "lone surrogate in a key": good.replace('"evidence": {', '"evidence": {"\\udc00": "v", ', 1),
        "duplicate key": good.replace('"status": ', '"status": "pass", "status": ', 1),
        "100000 deep": "[" * 100000 + "]" * 100000,
        "100000 deep object": '{"a":' * 100000 + "1" + "}" * 100000,
        "deep evidence": good.replace('"evidence": {', '"evidence": {"d": ' + "[" * 50 + "]" * 50 + ", ", 1),
        "truncated": good[: len(good) // 2],
        "empty": "",
        "not JSON": "results: yes\n",
        "trailing garbage": good + "}",
    }
    out += [(name, text.encode()) for name, text in raw.items()]
    out += [("invalid UTF-8", good.encode().replace(b'"message": "', b'"message": "\xff\xfe', 1)),
            ("NUL bytes", b"\0" * 100)]
    return out


CASES = documents()


@pytest.fixture
def signals_kept():
    """cli.main installs the run's signal handlers; pytest keeps its own."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


def one_line_exit_2(capsys, argv, out):
    code = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("ipcproof: ") and "Traceback" not in err
    assert all(ch >= " " for ch in err.strip()), repr(err)
    assert not out.exists() and [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_there_are_a_few_hundred():
    assert len(CASES) > 300
    assert len({name for name, _ in CASES}) == len(CASES)


@pytest.mark.parametrize("name,data", CASES, ids=[n for n, _ in CASES])
def test_a_malformed_results_file(name, data, tmp_path, capsys, signals_kept):
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    bad.write_bytes(data)
    good.write_text(json.dumps(small()))
    out = tmp_path / "o" / "out"
    out.parent.mkdir()
    one_line_exit_2(capsys, ["report", bad, "--out", out], out)
    one_line_exit_2(capsys, ["merge", good, bad, "--out", out], out)
    one_line_exit_2(capsys, ["diff", good, bad, "--out", out], out)
    one_line_exit_2(capsys, ["diff", bad, good], out)


def test_the_unmutated_base_is_accepted(tmp_path, capsys, signals_kept):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(small()))
    assert cli.main(["report", str(good), "--out", str(tmp_path / "out")]) == 0
    assert cli.main(["merge", str(good), str(good), "--out", str(tmp_path / "merged")]) in (0, 1)
    assert cli.main(["diff", str(good), str(good)]) == 0


@pytest.mark.parametrize("name", ["5000 digits", "100000 deep", "lone surrogate", "kernels=a string",
                                  "results.status=a control character"])
def test_through_the_command_line(name, tmp_path):
    [data] = [d for n, d in CASES if n == name]
    bad = tmp_path / "bad.json"
    bad.write_bytes(data)
    for argv in (["report", bad, "--out", tmp_path / "out"], ["merge", bad, "--out", tmp_path / "out"],
                 ["diff", bad, bad]):
        code, _, err = ipcproof(*argv)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("what", ["/dev/zero", "fifo", "directory of a fifo"])
def test_an_input_that_never_ends(what, tmp_path):
    """Refused before the first read: no hang, no memory filled."""
    import os
    fifo = tmp_path / "d" / "results.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    path = {"/dev/zero": "/dev/zero", "fifo": fifo, "directory of a fifo": fifo.parent}[what]
    for argv in (["report", path, "--out", tmp_path / "out"], ["merge", path, "--out", tmp_path / "out"],
                 ["diff", path, path]):
        code, _, err = ipcproof(*argv, timeout=60)
        assert code == 2 and "is not a regular file" in err and len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "out").exists()
