"""junit.xml: one test suite per kernel and area, for CI systems."""
import re
import xml.etree.ElementTree as ET

# Characters XML 1.0 cannot hold at all, not even escaped.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text):
    return _INVALID.sub("\ufffd", str(text))


def render(doc):
    root = ET.Element("testsuites", name="ipcproof")
    suites = {}
    for r in doc["results"]:
        area, _, name = r["case"].partition("/")
        key = f"{r['kernel']}.{area}"
        suite = suites.get(key)
        if suite is None:
            suite = suites[key] = ET.SubElement(root, "testsuite", name=clean(key))
        tc = ET.SubElement(suite, "testcase", classname=clean(key), name=clean(name),
                           time=f"{r.get('duration_s', 0.0):.6f}")
        tag = {"fail": "failure", "error": "error", "timeout": "error", "skip": "skipped"}.get(r["status"])
        if tag:
            el = ET.SubElement(tc, tag, message=clean(r["message"].split("\n")[0][:500]),
                               type=r["status"])
            el.text = clean(r["message"])
        lines = [f"claim={r['claim']}"] + [f"{k}={v}" for k, v in r.get("evidence", {}).items()]
        ET.SubElement(tc, "system-out").text = clean("\n".join(lines))
    for suite in suites.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            suite.set(attr, str(sum(1 for c in cases if c.find(tag) is not None)))
        suite.set("time", f"{sum(float(c.get('time')) for c in cases):.6f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
