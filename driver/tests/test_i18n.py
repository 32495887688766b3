"""The report in the notes' language: every claim of the catalog has its
statement, truth and why in English and in Chinese, and --lang zh renders
every report page in Chinese."""
import json
import re

from conftest import ipcproof
from driver import catalog, i18n

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_claim_has_both_languages():
    assert i18n.problems(catalog.load(), i18n.load_zh()) == []


def test_the_chinese_texts_are_chinese_and_keep_the_technical_names():
    zh = i18n.load_zh()
    for c in catalog.load():
        for field in i18n.TRANSLATED:
            if c.get(field):
                text = zh[c["id"]][field]
                assert len(HAN.findall(text)) > len(text) // 8, f"{c['id']} {field}: {text}"
                # errno names, flags and functions stay as the kernel spells them
                for name in set(re.findall(r"\b(?:E[A-Z]{3,}|SIG[A-Z]+|MAP_[A-Z_]+|O_[A-Z]+)\b", c[field])):
                    assert name in text, f"{c['id']} {field}: {name} is lost in the translation"


def test_a_missing_translation_is_named():
    claims = catalog.load()[:2]
    zh = {claims[0]["id"]: {"statement": "x", "truth": "y"}}
    found = i18n.problems(claims, zh)
    assert f"{claims[1]['id']}: no Chinese truth" in found
    assert not [p for p in found if p.startswith(claims[0]["id"]) and "why" not in p]


def small_doc():
    claim = next(c for c in catalog.load() if c["note_verdict"] == "refined")  # it has a why
    return {"schema": "ipcproof/results/1", "generated": "now",
            "kernels": [{"id": "host", "release": "6.1", "machine": "x86_64"}],
            "claims": [dict(catalog.public(claim), cases=claim["cases"][:1])],
            "results": [{"claim": claim["id"], "case": claim["cases"][0], "kernel": "host", "status": "pass",
                         "duration_s": 0.1, "evidence": {"fds": "3,4"}, "message": ""}]}


def test_lang_zh_renders_every_page_in_chinese(tmp_path):
    doc = small_doc()
    (tmp_path / "results.json").write_text(json.dumps(doc))
    code, _, stderr = ipcproof("report", tmp_path / "results.json", "--out", tmp_path / "zh", "--lang", "zh")
    assert code == 0, stderr
    zh = i18n.load_zh()[doc["claims"][0]["id"]]
    for page in ("report.html", "notes.html", "report.md"):
        text = (tmp_path / "zh" / page).read_text()
        assert zh["truth"] in text and zh["why"] in text, page
        assert zh["statement"] in text or page == "report.html", page
        assert "How the note is off" not in text and "Linux:" not in text, page
    assert '<html lang="zh">' in (tmp_path / "zh" / "report.html").read_text()
    assert "## 笔记中错误或不精确之处" in (tmp_path / "zh" / "report.md").read_text()
    assert json.loads((tmp_path / "zh" / "results.json").read_text()) == doc  # the data stays English


def test_english_stays_the_default(tmp_path):
    (tmp_path / "results.json").write_text(json.dumps(small_doc()))
    code, _, stderr = ipcproof("report", tmp_path / "results.json", "--out", tmp_path / "en")
    assert code == 0, stderr
    page = (tmp_path / "en" / "report.html").read_text()
    assert "How the note is off" in page and '<html lang="en">' in page


def test_the_beyond_claims_have_their_own_chinese_file():
    beyond = {c["id"] for c in catalog.load() if catalog.is_beyond(c)}
    assert set(i18n.read_zh(i18n.ZH_BEYOND)) == beyond
    assert not beyond & set(i18n.load_zh(beyond=None))


def test_an_id_in_both_chinese_files_is_refused(tmp_path):
    first = catalog.load()[0]["id"]
    (tmp_path / "b.zh.toml").write_text(f'["{first}"]\nstatement = "x"\ntruth = "y"\n', encoding="utf-8")
    try:
        i18n.load_zh(beyond=tmp_path / "b.zh.toml")
    except i18n.UserError as e:
        assert first in str(e)
    else:
        raise AssertionError("a claim in both Chinese files was accepted")


def test_reports_show_the_beyond_claims_in_their_own_section(tmp_path):
    doc = small_doc()
    [notes_claim] = doc["claims"]
    beyond = next(c for c in catalog.load() if catalog.is_beyond(c))
    doc["claims"].append(dict(catalog.public(beyond), cases=beyond["cases"][:1]))
    doc["results"].append({"claim": beyond["id"], "case": beyond["cases"][0], "kernel": "host", "status": "pass",
                           "duration_s": 0.1, "evidence": {}, "message": ""})
    (tmp_path / "results.json").write_text(json.dumps(doc))
    for lang, title in (("en", "Beyond the notes"), ("zh", "笔记之外")):
        code, _, stderr = ipcproof("report", tmp_path / "results.json", "--out", tmp_path / lang, "--lang", lang)
        assert code == 0, stderr
        md = (tmp_path / lang / "report.md").read_text()
        before, section = md.split(f"## {title}")
        assert f"`{beyond['id']}`" not in before and f"`{beyond['id']}`" in section
        assert f"`{notes_claim['id']}`" in before and f"`{notes_claim['id']}`" not in section
        html = (tmp_path / lang / "report.html").read_text()
        area_part, beyond_part = html.split('<section id="beyond">')
        assert f'id="{beyond["id"]}"' in beyond_part and f'id="{beyond["id"]}"' not in area_part
