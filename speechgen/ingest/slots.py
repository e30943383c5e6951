"""Redaction tokens (``*``, ``XX``, ``xx``, a lone ``A``…) → named slots, typed blanks, restored phrases.

Rules, first match wins (docs/ingest.md has the table):

1. a fixed phrase the corpus holds unredacted elsewhere is restored
   (``A新时代中国特色社会主义思想`` → ``习近平新时代…``), with the evidence recorded;
2. a date with a redacted part (``*月*日``, ``XXXX年``) → ``{{ blank("日期") }}``;
3. ``X市`` → ``{{ 市名 }}``; ``我*``/``全*``/``*委`` → ``{{ 本级 }}``; the higher body
   (``根据*统一安排``, ``*已对…作出安排``) → ``{{ 上级 }}``;
4. a count (``*个``, ``第*``) → ``{{ blank("数量") }}``; a person (``*同志``) → ``{{ blank("人名") }}``;
   a document (``《*》``) → ``{{ blank("文件") }}``; anything else → ``{{ blank("名称") }}``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from speechgen.library.evidence import ANCHORS, anchor_evidence

# X in a name is no redaction: 1+X 证书, X光, X射线, X线
# Other web copies and office drafts redact with ×××, full-width ＸＸ, □□, ○○ or ☆: ×
# between digits or letters is a sign (3×4), ○ among Chinese numerals a zero (二○○三年),
# ☆ away from Chinese text and other marks a decoration.
TOKEN = (
    # the lookahead first: most positions hold none of the marks, and fail there at once
    r"(?=[Xx*＊×Ｘｘ□○☆★])(?:(?<![A-Za-z+＋])(?:X+|x+)(?![A-Za-z光射线])|\*+|＊+"
    r"|(?<![0-9A-WYZa-wyz])×+(?![0-9A-WYZa-wyz])|(?<![Ａ-Ｚａ-ｚ])(?:Ｘ+|ｘ+)(?![Ａ-Ｚａ-ｚ])|□+"
    r"|(?<![一二三四五六七八九十〇○零])○{2,}(?![一二三四五六七八九十〇○零])"
    r"|(?<=[\u4e00-\u9fff*＊×Ｘｘ□○Xx])[☆★]+|[☆★]+(?=[\u4e00-\u9fff*＊×Ｘｘ□○Xx]))"
)
_TOKEN_RE = re.compile(rf"{TOKEN}|(?<![A-Za-z])A(?=新时代|总书记|同志为核心)")
_TOKEN_CHARS = re.compile("[Xx*＊A×Ｘｘ□○☆★]")  # every token holds one
#: The check the library must pass: no raw token may survive (see the brief).
RAW_TOKEN = re.compile(rf"(^|[^A-Za-z+＋])(X{{1,4}}|x{{1,3}})([^A-Za-z光射线]|$)|\*|＊|{TOKEN}")
_RAW_CHARS = re.compile("[Xx*＊×Ｘｘ□○☆★]")  # each match of RAW_TOKEN holds one
_DATE = re.compile(
    rf"(?:(?:\d{{4}}|{TOKEN})年)?(?:\d{{1,2}}|{TOKEN})月(?:(?:\d{{1,2}}|{TOKEN})日)?|{TOKEN}年(?!来|度|代)"
)
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_MEASURE = tuple(
    ["个", "次", "名", "家", "场", "万", "千", "百", "亿", "成", "项", "人", "批", "天", "周", "条", "篇", "期", "轮", "届", "位", "所", "件", "户", "元", "%", "％", "倍", "点", "多", "余", "大类", "方面"]
)
#: Words that start with a measure word but name no count: 庆祝××成立70周年, ××人民
_NOT_MEASURE = ("成立", "成为", "成果", "成绩", "成效", "成员", "人民", "人大", "人员", "人才", "家庭", "家乡",
                "名称", "名单", "场所", "条例", "期间", "届时", "位于", "所有", "点燃", "多样", "多元", "天然",
                "周边", "千方百计", "万众")
_PERSON = ("同志", "书记", "部长", "主任", "省长", "市长", "县长", "区长", "局长", "主席", "组长")
_UPPER_AFTER = ("根据", "按照", "参照", "落实", "遵照", "贯彻")
_UPPER_NEXT = (
    "已", "专门", "下发", "印发", "统一", "提出", "召开", "初定", "将", "主题教育领导小组",
    "主题教育办公室", "成立", "指导组", "巡回", "要求", "部署", "模式", "精神", "决策",
)


@dataclass
class Result:
    """Text with tokens replaced, and what replaced them."""

    text: str
    slots: list[str] = field(default_factory=list)
    blanks: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)


#: What a corpus says about the anchors: per source, (anchor, the characters before it) for each
#: occurrence (:func:`~speechgen.library.evidence.anchor_evidence` of its texts, in order).
Evidence = Mapping[str, Sequence[tuple[str, str]]]


class Restorer:
    """Learns, from a corpus of clean texts, the names redacted before fixed phrases."""

    def __init__(self, corpus: Mapping[str, str]) -> None:
        self._learn_all({name: anchor_evidence(text) for name, text in corpus.items()})

    @classmethod
    def from_evidence(cls, evidence: Evidence) -> Restorer:
        """The restorer of a corpus known only by its evidence (the same as from the texts)."""
        self = cls.__new__(cls)
        self._learn_all(evidence)
        return self

    def _learn_all(self, evidence: Evidence) -> None:
        self.fillers: dict[str, tuple[str, str]] = {}
        # what stood before each anchor, counted, in the order first met (as the counts below need)
        tallies: dict[str, Counter[str]] = {anchor: Counter() for anchor in ANCHORS}
        for occurrences in evidence.values():
            for anchor, before in occurrences:
                tallies[anchor][before] += 1
        for anchor in ANCHORS:
            found = _learn(anchor, tallies[anchor], evidence)
            if found:
                self.fillers[anchor] = found
        # A filler that holds another anchor's filler plus a word before it (贯彻习近平) is cut to it.
        for anchor, (filler, _) in list(self.fillers.items()):
            shorter = [f for f, _ in self.fillers.values() if f != filler and filler.endswith(f)]
            if shorter:
                name = max(shorter, key=len)
                self.fillers[anchor] = (name, _first_source(evidence, name, anchor))
        # An anchor seen unredacted only once takes a name learned from a better-attested one.
        names = {filler for filler, _ in self.fillers.values()}
        for anchor in ANCHORS:
            if anchor in self.fillers:
                continue
            for name in sorted(names, key=len, reverse=True):
                source = _first_source(evidence, name, anchor)
                if source:
                    self.fillers[anchor] = (name, source)
                    break

    def restore(self, right: str) -> tuple[str, str] | None:
        """(filler, evidence) for a token followed by *right*, or None."""
        for anchor, (filler, source) in self.fillers.items():
            if right.startswith(anchor):
                return filler, f"{filler}{anchor} ← {source}"
        return None


def _first_source(evidence: Evidence, name: str, anchor: str) -> str:
    """The first source (by name) holding *name* + *anchor*, or "".

    *name* is at most :data:`~speechgen.library.evidence.BEFORE` Chinese characters, so the
    phrase is in a text exactly when an occurrence of the anchor has it before it.
    """
    return next((n for n in sorted(evidence) if _holds(evidence[n], name, anchor)), "")


def _holds(found: Iterable[tuple[str, str]], name: str, anchor: str) -> bool:
    return any(a == anchor and before.endswith(name) for a, before in found)


def _learn(anchor: str, tally: Counter[str], evidence: Evidence) -> tuple[str, str] | None:
    """The name most often before *anchor*: *tally* counts the characters before each occurrence
    (up to 4), keyed in the order first met, so each count of the last k of them is met first
    where an occurrence with them was, and ties go to the name met first."""
    counts: dict[int, Counter[str]] = {k: Counter() for k in (2, 3, 4)}
    for before_all, n in tally.items():
        for k in counts:
            before = before_all[-k:]
            if len(before) == k and _HAN.match(before):
                counts[k][before] += n
    if not counts[2]:
        return None
    top2, n2 = counts[2].most_common(1)[0]
    if n2 < 2:
        return None
    filler = top2
    for k in (3, 4):
        if counts[k]:
            top, n = counts[k].most_common(1)[0]
            if top.endswith(filler) and n >= max(2, 0.8 * n2):
                filler = top
    return filler, _first_source(evidence, filler, anchor)


def _slot(name: str) -> str:
    return "{{ " + name + " }}"


def _blank(kind: str) -> str:
    return '{{ blank("' + kind + '") }}'


def replace_tokens(text: str, restorer: Restorer | None = None) -> Result:
    """Replace every redaction token in *text* (see the module rules)."""
    if not _TOKEN_CHARS.search(text):  # most text holds none; the token patterns scan slowly
        return Result(text)
    res = Result("")
    out: list[str] = []
    pos = 0
    for m in _scan(text):
        out.append(text[pos : m.start()])
        rep, skip = _decide(text, m, restorer, res)
        out.append(rep)
        pos = m.end() + skip
    out.append(text[pos:])
    res.text = "".join(out)
    return res


def _scan(text: str) -> list[re.Match[str]]:
    """Dates with a redacted part first, then lone tokens outside them."""
    found: list[re.Match[str]] = [m for m in _DATE.finditer(text) if _TOKEN_RE.search(m.group(0))]
    taken = [(m.start(), m.end()) for m in found]
    for m in _TOKEN_RE.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            found.append(m)
    return sorted(found, key=lambda m: m.start())


def _is_date(m: re.Match[str]) -> bool:
    return m.re is _DATE


def _decide(text: str, m: re.Match[str], restorer: Restorer | None, res: Result) -> tuple[str, int]:
    """The replacement for match *m* and how many characters after it it swallows."""
    tok = m.group(0)
    left, right = text[max(0, m.start() - 4) : m.start()], text[m.end() : m.end() + 24]
    if _is_date(m):
        return _add_blank(res, "日期"), 0
    if restorer is not None and (found := restorer.restore(right)):
        filler, evidence = found
        if evidence not in res.restored:
            res.restored.append(evidence)
        return filler, 0
    if tok == "A":
        return _add_blank(res, "人名"), 0
    name, skip = _named(left, right)
    if name:
        if name not in res.slots:
            res.slots.append(name)
        return _slot(name), skip
    return _add_blank(res, _blank_kind(left, right)), 0


def _named(left: str, right: str) -> tuple[str, int]:
    if right.startswith("市") and not right.startswith(("市委", "市直", "市级")):
        return "市名", 1
    if left.endswith(("我", "全")) or right.startswith("委"):
        return "本级", 0
    clause_start = not left or left.endswith(tuple("，。；：、“（\n")) or left.endswith(_UPPER_AFTER)
    if clause_start and right.startswith(_UPPER_NEXT):
        return "上级", 0
    if left.endswith(("尊敬的", "和", "及")) and right.startswith(_UPPER_NEXT):
        return "上级", 0
    return "", 0


def _blank_kind(left: str, right: str) -> str:
    if (left.endswith(("第", "共", "近", "约")) and not left.endswith("中共")) or (
        right.startswith(_MEASURE) and not right.startswith(_NOT_MEASURE)
    ):
        return "数量"
    if right.startswith(_PERSON):
        return "人名"
    if left.endswith("《") or right.startswith(("》", "号文件", "文件")):
        return "文件"
    if right.startswith(("单位", "部门", "机关", "和国家机关")):
        return "单位"
    return "名称"


def _add_blank(res: Result, kind: str) -> str:
    res.blanks.append(kind)
    return _blank(kind)


def metadata(value: str) -> str:
    """A source field (title, date, speaker) without raw tokens: 2019年9月xx日 → 2019年9月."""
    # a redacted day goes, then a redacted month: 2019年×月×日 → 2019年
    value = re.sub(rf"(?:\d{{1,2}}|{TOKEN})日$", lambda m: "" if _TOKEN_RE.search(m.group(0)) else m.group(0), value)
    value = re.sub(rf"(?<=年){TOKEN}月$", "", value)
    if _TOKEN_RE.fullmatch(value):
        return _slot("讲话人")
    return replace_tokens(value).text


def has_raw_token(text: str) -> bool:
    """True when *text* still holds a redaction token outside ``{{ … }}``."""
    bare = re.sub(r"\{\{.*?\}\}", "\n", text)  # a slot ends a token; it does not join two marks into one
    # RAW_TOKEN.search(bare), tried only where a match can start: at a mark or the character
    # before it (every match holds one; scanning a whole fragment file for the first
    # alternative's look-around is slow)
    for m in _RAW_CHARS.finditer(bare):
        i = m.start()
        if (i and RAW_TOKEN.match(bare, i - 1)) or RAW_TOKEN.match(bare, i):
            return True
    return False
