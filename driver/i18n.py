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

# key: (English, Chinese).  Placeholders are str.format fields.
WORDS = {
    "title": ("ipcproof conformance report", "ipcproof 一致性报告"),
    "generated": ("Generated {when}.", "生成于 {when}。"),
    "kernels": ("Kernels", "内核"),
    "claims_n": ("{n} claims", "{n} 条论断"),
    "results_n": ("{n} results", "{n} 个结果"),
    "verdict_line": ("Verdicts on the notes: {refuted} refuted, {refined} refined, {holds} hold.",
                     "对笔记的判定：{refuted} 条错误，{refined} 条需修正，{holds} 条成立。"),
    "missed": ("Missed kernel {kernel}: {reason} (log: {log})", "未得到结果的内核 {kernel}：{reason}（日志：{log}）"),
    "summary": ("Summary", "概览"),
    "summary_intro": ("Per kernel and area: passed, failed (with errors and timeouts), declared divergences (xfail), skipped.",
                      "每个内核、每个领域：通过、失败（含出错与超时）、已声明的差异（xfail）、跳过。"),
    "kernel": ("kernel", "内核"),
    "profile": ("where its behaviour is not what most kernels did", "行为与多数内核不同之处"),
    "profile_none": ("behaves as most kernels do", "与多数内核行为一致"),
    "profile_line": ("{n} behaviours differ: {items}", "{n} 处行为不同：{items}"),
    "profile_line_1": ("1 behaviour differs: {items}", "1 处行为不同：{items}"),
    "legend": ("Legend", "图例"),
    "disagree": ("Where the kernels disagree", "内核之间的分歧"),
    "disagree_intro": ("What the kernels did differently: the status of a case, or evidence of behaviour (capacities, errno, si_code, bytes). A highlighted cell in the matrices below is a kernel outside the majority.",
                       "各内核做法不同之处：用例的状态，或行为证据（容量、errno、si_code、字节）。下方矩阵中高亮的格子表示该内核不属于多数。"),
    "agree": ("Every kernel that ran a case behaved the same on it.", "运行了同一用例的内核，行为全都一致。"),
    "observed": ("How the cases observed it ({n} cases): detection method, kernel wait channel",
                 "观察方式的差异（{n} 个用例）：检测方法、内核等待通道"),
    "observed_intro": ("These differ in how a blocked process was seen, not in what the kernel did; they never count as a divergence.",
                       "这些差异在于如何观察到进程被阻塞，而不是内核做了什么；它们不算作分歧。"),
    "wrong": ("Where the notes are wrong or imprecise", "笔记中错误或不精确之处"),
    "unexpected": ("Kernels that did not behave as the catalog says", "行为与目录所述不符的内核"),
    "orphans": ("Cases with no claim in the catalog", "目录中没有论断的用例"),
    "claim": ("claim", "论断"),
    "case": ("case", "用例"),
    "how": ("how", "差异"),
    "note_says": ("the note says", "笔记原文"),
    "verdict": ("verdict", "判定"),
    "how_off": ("how it is off", "偏差在哪里"),
    "linux": ("Linux", "Linux 实际行为"),
    "note_off": ("How the note is off", "笔记的偏差"),
    "statement": ("Claim", "论断"),
    "evidence": ("evidence", "证据"),
    "same_on_all": ("the same on every kernel", "各内核相同"),
    "observation": ("observation", "观察方式"),
    "declared": ("declared divergence", "已声明的差异"),
    "on": ("on", "于"),
    "the_other": ("the other {n}", "其余 {n} 个"),
    "more": ("+{n} more", "另有 {n} 项"),
    "notes_page": ("The notes, sentence by sentence", "逐句批注的笔记"),
    "notes_title": ("The notes, annotated", "笔记批注"),
    "notes_intro": ("The study notes as written. Each sentence the catalog judges is marked with its verdict and links to what Linux really does and the evidence; a line with no mark makes no claim that is checked.",
                    "笔记原文。目录判定过的每一句都标出判定，并链接到 Linux 的实际行为和证据；没有标记的行不含被检验的论断。"),
    "no_claim": ("no claim checked here", "此处没有被检验的论断"),
    "back_report": ("the full report", "完整报告"),
    "diff_title": ("Behaviour changes between two runs", "两次运行之间的行为变化"),
    "diff_intro": ("Old: {old}. New: {new}. Only what a kernel did counts: status and evidence of behaviour; how a case observed it is listed apart, and evidence that varies from run to run by nature is ignored.",
                   "旧：{old}。新：{new}。只计内核的行为：状态和行为证据；观察方式单独列出，每次运行本就不同的证据不计。"),
    "diff_none": ("No behaviour changed.", "没有行为变化。"),
    "diff_n": ("{n} behaviour changes", "{n} 处行为变化"),
    "diff_obs": ("Observation changes ({n})", "观察方式的变化（{n}）"),
    "diff_kernels": ("Kernels", "内核"),
    "diff_notes": ("Kernel facts that changed", "变化了的内核信息"),
    "old": ("old", "旧"),
    "new": ("new", "新"),
    "only_old": ("only in the old results", "只在旧结果中"),
    "only_new": ("only in the new results", "只在新结果中"),
    "status_word": ("status", "状态"),
    "refs": ("References", "参考"),
    "beyond": ("Beyond the notes", "笔记之外"),
    "beyond_intro": ("{n} claims the notes never make, from the man pages: documented limits and error paths of the mechanisms the notes name. They judge no note; each is checked like the rest.",
                     "笔记从未提出、来自手册页的 {n} 条论断：笔记所提到机制的文档化限制和错误路径。它们不评判笔记，但和其他论断一样逐条检验。"),
    "source": ("source", "来源"),
    "changed_from": ("{old} → {new}", "{old} → {new}"),
}

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
