"""The notes' numbers set against each kernel: on which kernels a number the
notes give is literally false (65536 bytes of pipe on 16 KiB pages, an
offset rule of 4096 where a page is 16384), and what each kernel is (page
size, word size, runner), for the report pages' kernel entries."""

# claim id: (the number in its note, what it is (a key of WORDS), where a
# kernel's value is: ("kernel", field of its entry) or (case, evidence key)).
NUMBERS = {
    "pipe.capacity.default-65536": (65536, "capacity",
                                    ("pipe/default_capacity_is_16_pages_as_f_getpipe_sz_reports", "pipe_capacity")),
    "mmap.offset.page-multiple": (4096, "page", ("kernel", "page_size")),
}

# The few words of these additions, in both report languages.
WORDS = {
    "en": {"capacity": "pipe capacity (bytes)", "page": "page size (bytes)", "number": "the note's number",
           "false_on": "literally false on", "facts": "page size, word size, runner", "release": "release",
           "machine": "machine", "pages": "{n} B pages", "bits": "{n}-bit", "runner": "runner {r}"},
    "zh": {"capacity": "管道容量（字节）", "page": "页大小（字节）", "number": "笔记中的数字",
           "false_on": "字面上不成立的内核", "facts": "页大小、字长、运行方式", "release": "版本",
           "machine": "机器", "pages": "页 {n} 字节", "bits": "{n} 位", "runner": "运行方式 {r}"},
}


def word(lang, key):
    return WORDS.get(lang, WORDS["en"])[key]


def measured(kernel, where, index):
    source, key = where
    if source == "kernel":
        value = kernel.get(key)
    else:
        result = index.get((source, kernel["id"]))
        value = (result or {}).get("evidence", {}).get(key)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def literally_false(doc, index):
    """[(claim, number, what, [(kernel id, measured value)])] for every claim
    of the document whose note's number some kernel contradicts."""
    claims = {c["id"]: c for c in doc["claims"]}
    found = []
    for cid, (number, what, where) in NUMBERS.items():
        if cid not in claims:
            continue
        off = [(k["id"], v) for k in doc["kernels"] if k.get("status") != "miss"
               for v in [measured(k, where, index)] if v is not None and v != number]
        if off:
            found.append((claims[cid], number, what, off))
    return found


def kernel_facts(kernel, lang="en"):
    """page size, word size and runner of one kernel's entry, as short text."""
    parts = []
    if kernel.get("page_size"):
        parts.append(word(lang, "pages").format(n=kernel["page_size"]))
    if kernel.get("word_bits"):
        parts.append(word(lang, "bits").format(n=kernel["word_bits"]))
    if kernel.get("runner"):
        parts.append(word(lang, "runner").format(r=kernel["runner"]))
    return " · ".join(parts)
