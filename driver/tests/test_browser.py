"""The HTML report as a person sees it: rendered by a real browser (Debian's
chromium, headless, no network), read back from the rendered DOM, and a
screenshot saved next to the report."""
import json
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import ipcproof

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="chromium is not installed (./ipcproof test installs it)")


def three_kernels(doc):
    """The host run, plus two made-up kernels: one that agrees, and one
    whose pipes are smaller and whose SIGPIPE case fails."""
    doc = json.loads(json.dumps(doc))
    extra = []
    for kid, diverge in (("agrees", False), ("diverges", True)):
        doc["kernels"].append(dict(doc["kernels"][0], id=kid, runner="test"))
        for r in [r for r in doc["results"] if r["kernel"] == "host"]:
            r = dict(r, kernel=kid, evidence=dict(r["evidence"]))
            if diverge and "pipe_capacity" in r["evidence"]:
                r["evidence"]["pipe_capacity"] = "4096"
            if diverge and r["case"] == "pipe/write_without_readers_kills_the_writer_with_sigpipe@pipe":
                r.update(status="fail", message="child exited 0, expected to be killed by SIGPIPE")
            extra.append(r)
    doc["results"] += extra
    return doc


class Dom(HTMLParser):
    """The kernel headers and, per area table, the rows in order."""

    def __init__(self):
        super().__init__()
        self.headers, self.tables, self._in_th = [], [], False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        if tag == "th" and "kernel" in (a.get("class") or ""):
            self._in_th = True
            self.headers.append("")
        if tag == "div":
            self._in_th = False
        if tag == "tr" and a.get("data-case") and self.tables:
            self.tables[-1].append(("diverges" in (a.get("class") or ""), a["data-claim"], a["data-case"]))

    def handle_endtag(self, tag):
        if tag == "th":
            self._in_th = False

    def handle_data(self, data):
        if self._in_th:
            self.headers[-1] += data.strip()


@pytest.fixture(scope="module")
def rendered(run, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    (tmp / "results.json").write_text(json.dumps(three_kernels(run["doc"])))
    code, _, stderr = ipcproof("report", tmp / "results.json", "--out", tmp / "out")
    assert code == 0, stderr
    page = (tmp / "out" / "report.html").as_uri()
    profile = tmp / "profile"
    dom = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page],
                         capture_output=True, text=True, timeout=120)
    shot = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1400,2400",
                           f"--screenshot={tmp / 'out' / 'report.png'}", page],
                          capture_output=True, text=True, timeout=120)
    return {"dom": dom.stdout, "out": tmp / "out", "shot": shot}


def test_the_browser_renders_every_kernel_as_a_column(rendered):
    dom = Dom()
    dom.feed(rendered["dom"])
    assert rendered["dom"].startswith("<html") or "<body" in rendered["dom"]
    for table_headers in (dom.headers[i:i + 3] for i in range(0, len(dom.headers), 3)):
        assert table_headers == ["host", "agrees", "diverges"]


def test_rows_where_kernels_disagree_come_first(rendered):
    dom = Dom()
    dom.feed(rendered["dom"])
    divergent = [case for table in dom.tables for flag, _, case in table if flag]
    assert "pipe/write_without_readers_kills_the_writer_with_sigpipe@pipe" in divergent
    assert "pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports@pipe" in divergent
    for table in dom.tables:
        claims = list(dict.fromkeys(claim for _, claim, _ in table))
        diverging = [any(f for f, c, _ in table if c == claim) for claim in claims]
        assert diverging == sorted(diverging, reverse=True), "a claim where kernels agree comes first"
        for claim in claims:
            flags = [f for f, c, _ in table if c == claim]
            assert flags == sorted(flags, reverse=True), f"{claim}: an agreeing case comes first"


def test_a_screenshot_is_saved_next_to_the_report(rendered):
    png = rendered["out"] / "report.png"
    assert png.exists(), rendered["shot"].stderr[-500:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000
