"""Each kernel's entry names its page size, word size and runner, and the
report says on which kernels a number of the notes is literally false."""
from driver import catalog
from driver.reports import html, md, numbers

CASE = "pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports"


def doc():
    claims = {c["id"]: c for c in catalog.load()}
    wanted = [claims["pipe.capacity.default-65536"], claims["mmap.offset.page-multiple"]]
    kernels = [{"id": "host", "runner": "host", "release": "6.1", "machine": "x86_64", "page_size": 4096,
                "word_bits": 64, "status": "ran"},
               {"id": "debian-6.12-arm64-16k", "runner": "qemu", "release": "6.12.117+deb12-arm64-16k",
                "machine": "aarch64", "page_size": 16384, "word_bits": 64, "status": "ran"},
               {"id": "host-i386", "runner": "compat", "release": "6.1", "machine": "x86_64", "page_size": 4096,
                "word_bits": 32, "status": "ran"}]
    results = [{"claim": "pipe.capacity.default-65536", "case": CASE, "kernel": k["id"], "status": "pass",
                "duration_s": 0.1, "message": "", "evidence": {"pipe_capacity": str(16 * k["page_size"])}}
               for k in kernels]
    return {"schema": "ipcproof/results/1", "kernels": kernels,
            "claims": [catalog.public(c) for c in wanted], "results": results}


def test_the_notes_numbers_are_false_only_on_the_16_kib_kernel():
    d = doc()
    index = {(r["case"], r["kernel"]): r for r in d["results"]}
    found = {c["id"]: off for c, _, _, off in numbers.literally_false(d, index)}
    assert found == {"pipe.capacity.default-65536": [("debian-6.12-arm64-16k", 262144)],
                     "mmap.offset.page-multiple": [("debian-6.12-arm64-16k", 16384)]}


def test_both_pages_show_the_kernels_facts_and_where_the_numbers_are_false():
    page, text = html.render(doc()), md.render(doc())
    table = page.split('<table id="numbers">')[1].split("</table>")[0]
    assert "debian-6.12-arm64-16k: 262144" in table and "debian-6.12-arm64-16k: 16384" in table
    assert "host:" not in table and "host-i386" not in table
    assert "32-bit · runner compat" in page and "16384 B pages · 64-bit · runner qemu" in page
    assert "| host-i386 | 6.1 | x86\\_64 | 4096 B pages · 32-bit · runner compat |" in text
    assert "| 65536 (pipe capacity (bytes)) | debian-6.12-arm64-16k: 262144 |" in text
    assert "64 位 · 运行方式 qemu" in md.render(doc(), "zh")
