"""The report pages in English or in the notes' language: the words of the
pages themselves, and the catalog's statement, truth and why in Chinese
(cases/claims.zh.toml and, for the claims beyond the notes,
cases/beyond.zh.toml, keyed by claim id)."""
import json
import tomllib

from . import catalog
from .errors import UserError

LANGS = ("en", "zh")
ZH_CATALOG = catalog.ROOT / "cases" / "claims.zh.toml"
ZH_BEYOND = catalog.ROOT / "cases" / "beyond.zh.toml"
TRANSLATED = ("statement", "truth", "why")

# key: (English, Chinese), from driver/words.toml.  Placeholders are
# str.format fields.
with open(catalog.ROOT / "driver" / "words.toml", "rb") as _f:
    WORDS = {key: (w["en"], w["zh"]) for key, w in tomllib.load(_f).items()}

STATUS = {"pass": "通过", "fail": "失败", "error": "出错", "timeout": "超时", "skip": "跳过",
          "xfail": "已声明的差异", "xpass": "声明的差异未出现", "miss": "无结果"}
VERDICT = {"holds": "成立", "refined": "需修正", "refuted": "错误"}


class Words:
    """The page words in one language: words["title"], words("claims_n", n=3)."""

    def __init__(self, lang):
        if lang not in LANGS:
            raise UserError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
        self.lang = lang
        self.zh = lang == "zh"

    def __getitem__(self, key):
        return WORDS[key][self.zh]

    def __call__(self, key, **fields):
        return self[key].format(**fields)

    def label(self, key):
        """A word introducing what follows it, with the language's colon."""
        return self[key] + ("：" if self.zh else ": ")

    def status(self, status):
        return STATUS.get(status, status) if self.zh else status

    def verdict(self, verdict):
        return VERDICT.get(verdict, verdict) if self.zh else verdict


def read_zh(path):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise UserError(f"cannot read the Chinese catalog {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"the Chinese catalog {path} is not valid TOML: {e}") from None


def load_zh(path=ZH_CATALOG, beyond=ZH_BEYOND):
    """{claim id: {statement, truth, why}} in Chinese, the notes' claims
    and those beyond them (beyond=None: the notes' only)."""
    zh = read_zh(path)
    if beyond is not None:
        extra = read_zh(beyond)
        twice = sorted(extra.keys() & zh.keys())
        if twice:
            raise UserError(f"claims in both {path.name} and {beyond.name}: {', '.join(twice)}")
        zh.update(extra)
    return zh


def problems(claims, zh):
    """Claims whose texts are missing in one of the two languages."""
    found = []
    for c in claims:
        for field in TRANSLATED:
            if field == "why" and not c.get("why"):
                if zh.get(c["id"], {}).get("why"):
                    found.append(f"{c['id']}: a Chinese why but no English one")
                continue
            if not c.get(field):
                found.append(f"{c['id']}: no English {field}")
            if not zh.get(c["id"], {}).get(field):
                found.append(f"{c['id']}: no Chinese {field}")
    for cid in zh.keys() - {c["id"] for c in claims}:
        found.append(f"{cid}: in the Chinese catalog but not in the catalog")
    return found


def localised(doc, lang):
    """The doc with its claims' texts in lang (English where no translation
    exists, so an older results file still renders)."""
    if lang == "en":
        return doc
    zh = load_zh()
    doc = json.loads(json.dumps(doc))
    for c in doc["claims"]:
        for field in TRANSLATED:
            if zh.get(c["id"], {}).get(field):
                c[field] = zh[c["id"]][field]
    return doc
