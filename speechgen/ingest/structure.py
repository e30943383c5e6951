"""Inside a point: where its heading ends and how its sub-points (一是/1./（1）) split.

Helpers of :mod:`speechgen.ingest.segment`; pure functions over strings.
"""

from __future__ import annotations

import re

from speechgen.model import Subpoint

NUMS = "一二三四五六七八九十"
_DIGIT = {c: i for i, c in enumerate(NUMS, 1)}
_STOP = "。！？"
# Words that open a new clause: where a heading that runs straight into its body ends.
STARTERS = frozenset(
    ["关于", "坚持", "第一批", "第二批", "这次", "此次", "当前", "目前", "近年来", "今年", "去年", "我们", "我", "各级", "各地", "各单位", "围绕", "按照", "根据", "通过", "随着", "党的", "习近平", "总书记", "中央", "省委", "市委", "县委", "区委", "一方面", "首先", "主题教育", "从", "在", "对", "为", "这", "是", "要按照", "实践证明", "事实证明", "大家"]
)
_BAD_END = tuple("的和与及把对在、于将被从")
_SUB_STYLES: dict[str, str] = {
    "一是": rf"([{NUMS}]{{1,2}})是(?=[^\s，,。；])",
    "一要": rf"([{NUMS}]{{1,2}})要(?=[^\s，,。；])",
    "一抓": rf"([{NUMS}]{{1,2}})抓(?=[^\s，,。；])",
    "1．": r"(\d{1,2})[．.、](?![\d．.])",
    "（1）": r"[（(](\d{1,2})[）)]",
    "（一）": rf"[（(]([{NUMS}]{{1,3}})[）)]",
    "第一，": rf"第([{NUMS}]{{1,2}})[，,、]",
}
_AFTER = {"一是": "。！？；：，,", "一要": "。！？；：，,", "一抓": "。！？；：，,"}
_DEFAULT_AFTER = "。！？；：…"


def to_int(numeral: str) -> int:
    """一 → 1, 十二 → 12, 二十三 → 23, "7" → 7 (0 when it is no numeral)."""
    if numeral.isdigit():
        return int(numeral)
    if not numeral or any(c not in _DIGIT for c in numeral):
        return 0
    if "十" not in numeral:
        return _DIGIT[numeral] if len(numeral) == 1 else 0
    tens, _, ones = numeral.partition("十")
    return (_DIGIT.get(tens, 0) if tens else 1) * 10 + (_DIGIT.get(ones, 0) if ones else 0)


def chain(found: list[tuple[int, int]]) -> list[int]:
    """The longest run 1, 2, 3, … among (position, value) pairs; its positions."""
    best: list[int] = []
    for start, (_, value) in enumerate(found):
        if value != 1:
            continue
        run, expected = [], 1
        for pos, val in found[start:]:
            if val == expected:
                run.append(pos)
                expected += 1
        if len(run) > len(best):
            best = run
    return best


# --------------------------------------------------------------------------- headings


def heading_of(rest: str, flat: bool, has_more: bool) -> tuple[str, str, bool]:
    """Split a point's first paragraph (number removed) into heading and remainder.

    Returns:
        (heading, remainder of the paragraph, review) — review is True when the
        boundary was guessed because the heading runs straight into the body.
    """
    rest = rest.strip()
    inner = rest.rstrip("。；")
    own_line = len(inner) <= 80 and not re.search(f"[{_STOP}]", inner) and (has_more or len(inner) <= 40)
    if own_line and (not flat or len(inner) <= 30):
        return inner, "", False
    first_clause = re.match(r"[^，,。；：！？:;]*", rest).group(0)  # type: ignore[union-attr]
    if (flat and len(first_clause) > 8) or len(first_clause) > 24:
        cut = runon_split(first_clause)
        if cut:
            return first_clause[:cut], rest[cut:], True
    # a heading that runs on ends at the first 。 (or ；, the way its siblings often end)
    stops = _STOP if flat else _STOP + "；"
    sentence = re.match(f"[^{stops}]*", rest).group(0)  # type: ignore[union-attr]
    if 0 < len(sentence) <= 80:
        return sentence.rstrip("；："), rest[len(sentence) + 1 :].strip(), False
    head = first_clause if 2 <= len(first_clause) <= 40 else rest[:20]
    return head, rest[len(head) :].lstrip("，,：:；;"), True


def runon_split(clause: str) -> int:
    """Where a heading that runs into its body most likely ends (0 when unsure)."""
    from speechgen.words import tokens

    pos = 0
    for tok in tokens(clause):
        at = clause.find(tok, pos)
        if at < 0:
            continue
        pos = at + len(tok)
        if at >= 4 and tok in STARTERS and len(clause) - at >= 2 and not clause[:at].endswith(_BAD_END):
            return at
    return 0


# --------------------------------------------------------------------------- sub-points


def _markers(paras: list[str], style: str) -> list[tuple[tuple[int, int, int], int]]:
    """Markers of *style* at the start of a paragraph or right after one of its punctuation marks.

    The place is checked per match: a pattern beginning ``(?:^|(?<=[…]))`` made re try the
    lookbehind at every character (the slowest step of segmenting). No marker holds one of
    those punctuation marks, so no marker starts inside a match that is turned down, and the
    markers are the same (``tests/ingest/test_segment.py``).
    """
    after = _AFTER.get(style, _DEFAULT_AFTER)
    rx = re.compile(_SUB_STYLES[style])
    found = []
    for pi, para in enumerate(paras):
        for m in rx.finditer(para):
            start = m.start()
            if start == 0 or para[start - 1] in after:
                found.append(((pi, start, m.end()), to_int(m.group(1))))
    return found


def _best_markers(paras: list[str], exclude: str) -> list[tuple[int, int, int]]:
    best: list[tuple[int, int, int]] = []
    for style in _SUB_STYLES:
        if style == exclude or (exclude == "1．" and style == "1．"):
            continue
        found = _markers(paras, style)
        idx = chain([(i, v) for i, (_, v) in enumerate(found)])
        if len(idx) < 2:
            continue
        run = [found[i][0] for i in idx]
        if not best or run[0] < best[0]:
            best = run
    return best


def split_subpoints(paras: list[str], exclude: str) -> tuple[str, list[Subpoint], str]:
    """Split a point body into (text before, sub-points, tail after the last one).

    Args:
        paras: the body paragraphs (heading already removed).
        exclude: the numbering style of the points themselves, never a sub-point style.
    """
    marks = _best_markers(paras, exclude)
    if not marks:
        return "\n".join(paras), [], ""
    p0, s0, _ = marks[0]
    before = [*paras[:p0], paras[p0][:s0]]
    subs = []
    for k, (pi, _, end) in enumerate(marks):
        if k + 1 < len(marks):
            nq, ns, _ = marks[k + 1]
            chunk = [paras[pi][end:]] + paras[pi + 1 : nq] if nq > pi else [paras[pi][end:ns]]
            if nq > pi:
                chunk.append(paras[nq][:ns])
        else:
            chunk = [paras[pi][end:]]
        subs.append(_subpoint("\n".join(c.strip() for c in chunk if c.strip())))
    after = paras[marks[-1][0] + 1 :]
    if after and all(s == 0 for _, s, _ in marks):
        # sub-points that start paragraphs: what follows the last one is its own content
        last = subs[-1]
        subs[-1] = Subpoint(last.lead, _join([last.text, *after]))
        after = []
    return _join(before), subs, "\n".join(after)


def _join(chunks: list[str]) -> str:
    return "\n".join(c.strip() for c in chunks if c.strip())


def _subpoint(content: str) -> Subpoint:
    first, nl, more = content.partition("\n")
    # the lead is the first sentence (or what comes before a colon), never cut at a comma
    for stops, limit in (("。！？；", 60), ("：:", 40), ("。！？；", 100)):
        m = re.search(f"[{stops}]", first)
        if m and m.end() <= limit:
            return Subpoint(first[: m.end()], _join([first[m.end() :], more]))
    if len(first) <= 60:
        return Subpoint(first, more)
    return Subpoint(first[:30], _join([first[30:], more]))
