"""Results that do not name the machine they were made on: paths inside the
project become relative to it, a case's private temp directory becomes
$CASE_TMP, a report's logs become logs/NAME.  Applied where results become a
document, so results.json and every report carry the same words."""
import re
from pathlib import PurePosixPath

from . import catalog

# A source file of the project, wherever the checkout was (a reference made
# in another checkout names that one).
SOURCE = re.compile(r"(?:/[^\s/:()'\"]+)+?/((?:cases|harness)/[^\s:()'\"]+\.[ch])\b")
# The harness's per-case directory (ipcproof-<case>-XXXXXX), and whatever
# run, sandbox or guest directory holds it.
# Greedy: the case's own dir, the innermost of the run's temp dirs, ends it.
CASE_TMP = re.compile(r"(?:/[^\s/()'\"]+)*/ipcproof-[^\s/()'\"]*-[A-Za-z0-9_]{6,8}(?=/)")
LOGS = re.compile(r"(?:/[^\s/()'\"]+)*?/(logs/[^\s/()'\"]+)")


def text(s):
    if "/" not in s:   # most strings of a document (every rule needs one)
        return s
    s = s.replace(str(catalog.ROOT) + "/", "")
    s = SOURCE.sub(r"\1", s)
    s = CASE_TMP.sub("$CASE_TMP", s)
    return LOGS.sub(r"\1", s)


def scrub(value):
    """value with every string in it made machine-neutral."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def document(doc):
    """A results document made machine-neutral; a merged kernel's source
    file is named by its directory and file only."""
    doc = scrub(doc)
    for k in doc.get("kernels", []):
        if str(k.get("source", "")).startswith("/"):
            k["source"] = str(PurePosixPath(*PurePosixPath(k["source"]).parts[-2:]))
    return doc
