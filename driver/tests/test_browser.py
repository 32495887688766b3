"""The HTML report as a person sees it: rendered by a real browser (Debian's
chromium, headless, no network), read back from the rendered DOM (the text
a reader sees, not the markup that was written), measured in a window of
the size people use, and photographed.  Set IPCPROOF_SCREENS=DIR to keep a
copy of the screenshots there."""
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from conftest import ROOT, ipcproof
from driver import catalog, i18n

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
REFERENCE = ROOT / "reports" / "reference" / "all" / "results.json"
MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>|&lt;|&gt;|&amp;")



@pytest.fixture(autouse=True, scope="module")
def installed(chromium):
    """Chromium and the Chinese fonts, installed by the fixture if missing."""
    global CHROMIUM
    CHROMIUM = chromium


def browser(profile, *args):
    """One headless chromium run with a fresh profile; its stdout."""
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *map(str, args)],
                          capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    return done.stdout


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


# The seven reference kernels and five more made from them: two that
# behave differently (a bigger default pipe, a FIFO that keeps its bytes)
# and one whose blocked processes are seen in other kernel functions only.
COPIES = {"host": "host@ci-b", "debian-6.12": "debian-6.13-amd64", "debian-6.12-rt": "debian-6.12-rt@ci-c",
          "debian-6.1-arm64": "debian-6.1-arm64@ci-d", "uml": "uml-6.12"}
BIGGER = "pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports@pipe"
KEEPS = "fifo/unread_bytes_are_discarded_when_every_end_is_closed_and_the_file_stays"


def twelve_kernels(doc):
    """Seven real kernels' results (the committed reference) judged by the
    catalog as it is now, and five more made from them."""
    doc = json.loads(json.dumps(doc))
    claims = catalog.load()
    claim_of = catalog.claim_of_case(claims)
    doc["claims"] = [catalog.public(c) for c in claims]
    doc["results"] = [dict(r, claim=claim_of[r["case"]]) for r in doc["results"] if r["case"] in claim_of]
    kernels = {k["id"]: k for k in doc["kernels"]}
    for old, new in COPIES.items():
        doc["kernels"].append(dict(kernels[old], id=new, **({"release": "6.13.0-1-amd64"} if "6.13" in new else {})))
        for r in [r for r in doc["results"] if r["kernel"] == old]:
            r = dict(r, kernel=new, evidence=dict(r["evidence"]))
            if new == "debian-6.13-amd64" and r["case"] == BIGGER:
                r["evidence"].update(pipe_capacity="131072", f_getpipe_sz="131072")
                r.update(status="fail", message="cases/pipe/capacity.c:20: 131072 != 16 * 4096")
            if new == "uml-6.12" and r["case"] == KEEPS:
                r["evidence"].update(queued_after_reopen="3", read_after_reopen="data")
                r.update(status="fail", message="cases/fifo/sharing.c:80: 3 bytes survived the last close")
            if new == "host@ci-b" and "wchan" in r["evidence"]:
                r["evidence"]["wchan"] += "_v2"
            doc["results"].append(r)
    assert len(doc["kernels"]) >= 12  # the reference's own kernels and the copies made of them
    return doc


class Dom(HTMLParser):
    """What a reader sees of a rendered page: its text (not the style), the
    kernel headers, and per matrix the rows with their glyph cells."""

    def __init__(self, html):
        super().__init__()
        self.headers, self.tables, self.text, self.stack = [], [], [], []
        self.row = None
        self.feed(html)
        self.text = "".join(self.text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.stack.append((tag, a))
        if tag == "table":
            self.tables.append([])
        if tag == "th" and "k" in (a.get("class") or "").split():
            self.headers.append("")
        if tag == "tr" and a.get("data-case") and self.tables:
            self.row = {"diverges": "diverges" in (a.get("class") or ""), "claim": a["data-claim"],
                        "case": a["data-case"], "cells": {}}
            self.tables[-1].append(self.row)
        if tag == "td" and "data-kernel" in a and self.row is not None:
            self.row["cells"][a["data-kernel"]] = (a.get("data-status"), a.get("data-behaviour"),
                                                   a.get("class", "").split())

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        tags = [t for t, _ in self.stack]
        if "style" in tags or "title" in tags:
            return
        self.text.append(data)
        if "th" in tags and any(t == "th" and "k" in (a.get("class") or "").split() for t, a in self.stack):
            self.headers[-1] += data.strip()

    def rows(self):
        return [r for t in self.tables for r in t]


def measured(page, profile, width):
    """(document width, window width) of page in a window width px wide: a
    copy of the page with a script that writes them into the DOM."""
    probe = page.with_name(f"measure-{page.name}")
    probe.write_text(page.read_text().replace(
        "</body>", "<script>document.body.dataset.widths = document.documentElement.scrollWidth"
                   " + ' ' + document.documentElement.clientWidth</script></body>"))
    dom = browser(profile, f"--window-size={width},1000", "--dump-dom", probe.as_uri())
    probe.unlink()
    return tuple(map(int, re.search(r'data-widths="(\d+) (\d+)"', dom).groups()))


def shoot(page, profile, png, height, style="", open_rows=False):
    """A screenshot of page at 1400 px; style hides what the picture is
    not about, open_rows opens the evidence of the rows that diverge, as a
    reader clicking them would."""
    html = page.read_text().replace("</style>", style + "</style>", 1)
    if open_rows:
        html = "\n".join(line.replace("<details>", "<details open>") if line.startswith('<tr class="diverges"')
                         else line for line in html.split("\n"))
    copy = page.with_name(f"shot-{page.name}")
    copy.write_text(html)
    browser(profile, f"--window-size=1400,{height}", f"--screenshot={png}", copy.as_uri())
    copy.unlink()
    if os.environ.get("IPCPROOF_SCREENS"):
        shutil.copy(png, os.environ["IPCPROOF_SCREENS"])
    return png


@pytest.fixture(scope="module")
def rendered(run, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    (tmp / "results.json").write_text(json.dumps(three_kernels(run["doc"])))
    code, _, stderr = ipcproof("report", tmp / "results.json", "--out", tmp / "out")
    assert code == 0, stderr
    page = tmp / "out" / "report.html"
    profile = tmp / "profile"
    dom = browser(profile, "--dump-dom", page.as_uri())
    shot = shoot(page, profile, tmp / "out" / "report.png", 2400)
    return {"dom": dom, "out": tmp / "out", "shot": shot}


@pytest.fixture(scope="module")
def twelve(tmp_path_factory):
    """The report of twelve kernels, in English and in Chinese, as the
    browser renders it."""
    tmp = tmp_path_factory.mktemp("twelve")
    (tmp / "results.json").write_text(json.dumps(twelve_kernels(json.loads(REFERENCE.read_text()))))
    got = {"tmp": tmp, "profile": tmp / "profile"}
    for lang in ("en", "zh"):
        code, _, stderr = ipcproof("report", tmp / "results.json", "--out", tmp / lang, "--lang", lang)
        assert code == 0, stderr
        for page in ("report", "notes"):
            got[lang, page] = Dom(browser(got["profile"], "--dump-dom", (tmp / lang / f"{page}.html").as_uri()))
    return got


def test_the_browser_renders_every_kernel_as_a_column(rendered):
    dom = Dom(rendered["dom"])
    assert rendered["dom"].startswith("<html") or "<body" in rendered["dom"]
    assert dom.headers and len(dom.headers) % 3 == 0
    for table_headers in (dom.headers[i:i + 3] for i in range(0, len(dom.headers), 3)):
        assert table_headers == ["host", "agrees", "diverges"]


def test_rows_where_kernels_disagree_come_first(rendered):
    dom = Dom(rendered["dom"])
    divergent = [r["case"] for r in dom.rows() if r["diverges"]]
    assert "pipe/write_without_readers_kills_the_writer_with_sigpipe@pipe" in divergent
    assert "pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports@pipe" in divergent
    for table in dom.tables:
        claims = list(dict.fromkeys(r["claim"] for r in table))
        diverging = [any(r["diverges"] for r in table if r["claim"] == claim) for claim in claims]
        assert diverging == sorted(diverging, reverse=True), "a claim where kernels agree comes first"
        for claim in claims:
            flags = [r["diverges"] for r in table if r["claim"] == claim]
            assert flags == sorted(flags, reverse=True), f"{claim}: an agreeing case comes first"


def pages_read(rendered, twelve):
    yield "three kernels", Dom(rendered["dom"])
    for key in (("en", "report"), ("en", "notes"), ("zh", "report"), ("zh", "notes")):
        yield " ".join(key), twelve[key]


def test_the_text_a_reader_sees_holds_no_markup(rendered, twelve):
    for name, dom in pages_read(rendered, twelve):
        leaked = MARKUP.search(dom.text)
        assert not leaked, f"{name}: {dom.text[max(0, leaked.start() - 80):leaked.end() + 80]!r}"


def test_a_row_marked_as_diverging_has_cells_that_differ(rendered, twelve):
    for name, dom in pages_read(rendered, twelve):
        for row in dom.rows():
            seen = {(status, behaviour) for status, behaviour, _ in row["cells"].values() if status != "miss"}
            assert row["diverges"] == (len(seen) > 1), f"{name} {row['case']}: marked {row['diverges']}, cells {seen}"


def test_the_kernel_outside_the_majority_is_the_marked_cell(twelve):
    rows = {r["case"]: r for r in twelve["en", "report"].rows()}
    for case, kernel in ((BIGGER, "debian-6.13-amd64"), (KEEPS, "uml-6.12")):
        odd = [k for k, (_, _, classes) in rows[case]["cells"].items() if "odd" in classes]
        assert kernel in odd and "host" not in odd


def test_twelve_kernels_fit_a_1400_px_window(twelve):
    for lang in ("en", "zh"):
        for page in ("report", "notes"):
            width, window = measured(twelve["tmp"] / lang / f"{page}.html", twelve["profile"], 1400)
            assert window == 1400 and width <= window, f"{lang} {page}.html is {width} px wide"


def test_the_summary_counts_each_area_and_profiles_each_kernel(twelve):
    text = twelve["en", "report"].text
    summary = text.split("Summary", 2)[2].split("Where the kernels disagree")[0]
    assert "debian-6.13-amd64" in summary and "1 behaviour differs: pipe_capacity=131072" in summary
    uml_copy = next(line for line in summary.splitlines() if line.startswith("uml-6.12"))
    assert "queued_after_reopen=3" in uml_copy and "reading_a_prot_write_page=killed by SIGSEGV" in uml_copy
    gvisor = summary.split("gvisor", 1)[1].split("debian-6.1")[0]
    assert re.search(r"\d+ behaviours differ: .*filled_with_1000_byte_writes=65000", gvisor)
    # a copy that was left as it was reads as its original
    lines = {line.split("✓")[0].split(" ")[0]: line for line in summary.splitlines() if "✓" in line}
    for original, copy in (("debian-6.12-rt", "debian-6.12-rt@ci-c"), ("debian-6.1-arm64", "debian-6.1-arm64@ci-d")):
        assert ("behaves as most kernels do" in lines.get(original, "")) == ("behaves as most kernels do" in lines.get(copy, ""))
    assert summary.count("behaves as most kernels do") >= 2
    pipe_cell = re.search(r"✓\d+✗(\d+)⊘\d+–\d+", summary.split("debian-6.13-amd64")[1])
    assert pipe_cell and pipe_cell.group(1) == "1"  # its pipe area: one fail


def test_observation_differences_are_apart_and_collapsed(twelve, tmp_path):
    html = (twelve["tmp"] / "en" / "report.html").read_text()
    section = html.split('<section id="divergences">')[1].split("</section>")[0]
    behaviour, observed = section.split('<details id="observation">')
    assert "wchan" not in behaviour and "detect" not in behaviour
    assert "pipe_capacity" in behaviour and "queued_after_reopen" in behaviour
    assert "wchan" in observed and "_v2" in observed


def test_the_chinese_report_is_complete(twelve):
    zh = i18n.load_zh()
    doc = json.loads((twelve["tmp"] / "zh" / "results.json").read_text())
    report, notes = twelve["zh", "report"].text, twelve["zh", "notes"].text
    for word in ("Where the kernels disagree", "Where the notes are wrong", "Summary", "behaves as",
                 "How the note is off", "evidence"):
        # the pages' own words; a case's message (harness/evidence.c:102 …) is data
        unsaid = re.compile(rf"(?<![\w/]){re.escape(word)}(?![\w.])")
        assert not unsaid.search(report) and not unsaid.search(notes), word
    for c in doc["claims"]:
        # a claim beyond the notes has no sentence on the notes page
        assert zh[c["id"]]["truth"] in report and (catalog.is_beyond(c) or zh[c["id"]]["truth"] in notes)
        if c.get("why"):
            assert zh[c["id"]]["why"] in report
    assert "内核之间的分歧" in report and "逐句批注的笔记" in report


def test_the_annotated_notes_mark_every_judged_sentence(twelve):
    dom = twelve["en", "notes"]
    html = (twelve["tmp"] / "en" / "notes.html").read_text()
    doc = json.loads((twelve["tmp"] / "en" / "results.json").read_text())
    marked = set(" ".join(re.findall(r'data-claims="([^"]+)"', html)).split())
    # every claim on the notes' words, and none beyond them (they have none)
    assert marked == {c["id"] for c in doc["claims"] if not catalog.is_beyond(c)}
    for verdict in ("refuted", "refined", "holds"):
        assert f'class="m {verdict}"' in html
    assert html.count('class="line plain"') > 10 and "no claim checked here" in dom.text
    assert all(f'href="report.html#{c["id"]}"' in html for c in doc["claims"] if not catalog.is_beyond(c))


def test_screenshots_of_the_summary_the_matrix_and_the_notes(rendered, twelve):
    tmp, profile = twelve["tmp"], twelve["profile"]
    only = lambda keep: f"body>section:not({keep}),body>p,body>h2,body>ul{{display:none}}"
    shots = [rendered["shot"],
             shoot(tmp / "en" / "report.html", profile, tmp / "summary.png", 1300),
             shoot(tmp / "en" / "report.html", profile, tmp / "matrix.png", 2200, only("#area-pipe"), True),
             shoot(tmp / "en" / "notes.html", profile, tmp / "notes.png", 2000),
             shoot(tmp / "zh" / "report.html", profile, tmp / "summary-zh.png", 1300),
             shoot(tmp / "zh" / "notes.html", profile, tmp / "notes-zh.png", 2000)]
    for png in shots:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10000, png
