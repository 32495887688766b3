"""`./ipcproof run` end to end on the host kernel, as a user runs it."""
import os
import platform
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from driver import catalog, results, view


def test_run_exits_0_with_every_case_matched(run):
    bad = [(r["case"], r["status"], r["message"]) for r in run["doc"]["results"]
           if r["status"] not in ("pass", "skip")]
    assert bad == []
    assert run["code"] == 0, run["stderr"]


def test_results_follow_the_contract_and_describe_the_host(run):
    doc = run["doc"]
    assert results.invalid(doc) is None
    [kernel] = doc["kernels"]
    assert kernel["id"] == "host" and kernel["runner"] == "host"
    assert kernel["release"] == platform.release() and kernel["machine"] == platform.machine()
    assert kernel["page_size"] == os.sysconf("SC_PAGE_SIZE")


def test_every_claimed_case_has_one_result(run):
    got = sorted(r["case"] for r in run["doc"]["results"])
    assert got == sorted(catalog.claim_of_case(catalog.load()))


def test_evidence_reaches_the_results(run):
    by_case = {r["case"]: r for r in run["doc"]["results"]}
    ev = by_case["pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports@pipe"]["evidence"]
    assert ev["pipe_capacity"] == ev["f_getpipe_sz"] == str(16 * os.sysconf("SC_PAGE_SIZE"))
    ev = by_case["pipe/write_to_full_pipe_blocks_until_a_read_makes_room@pipe"]["evidence"]
    assert ev["blocked_in"] == "write" and ev["detect"] == "proc-syscall"


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.ids, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.ids += [v for k, v in attrs if k == "id"]

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_is_self_contained_and_shows_every_claim(run):
    page = Page()
    page.feed((run["out"] / "report.html").read_text())
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    for claim in run["doc"]["claims"]:
        assert claim["id"] in page.ids


def test_reports_put_the_notes_wrong_sentences_first_in_each_area(run):
    md = (run["out"] / "report.md").read_text()
    for area, claims in view.areas(run["doc"]):
        claims = [c for c in claims if not catalog.is_beyond(c)]  # no verdict: their own section
        ranks = [view.VERDICT_ORDER[c["note_verdict"]] for c in claims]
        assert ranks == sorted(ranks)
        positions = [md.index(f"### `{c['id']}`") for c in claims]
        assert positions == sorted(positions)
    wrong = md.split("## Where the notes are wrong or imprecise")[1].split("\n## ")[0]
    for claim in run["doc"]["claims"]:
        assert (f"`{claim['id']}`" in wrong) == (claim["note_verdict"] not in ("holds", ""))


def test_junit_has_one_testcase_per_result(run):
    root = ET.parse(run["out"] / "junit.xml").getroot()
    assert len(root.findall(".//testcase")) == len(run["doc"]["results"])
    assert sum(int(s.get("failures")) + int(s.get("errors")) for s in root) == 0


def test_the_run_leaves_no_temp_files(run):
    assert list(run["tmp"].iterdir()) == []
