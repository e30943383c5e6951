"""Which paragraphs start the top-level points: a table of numbering styles, candidates
scored, and the best consistent ordinal sequence chosen.

A style is a regular expression that matches an ordinal at the start of a paragraph
(:data:`STYLES`). For each style every paragraph that starts with one is a candidate;
the chosen sequence counts 1, 2, 3… in text order and may skip one missed ordinal
(junk glued before it); a candidate that reads like a heading (a short clause, a body
after it) scores higher than one in a list of short lines (a preview of the points).
Where an ordinal was skipped, it is looked for inside the paragraphs in between (a
photo credit glued before ``第三，``) and the paragraph is cut there, with a warning.
The first style in text order whose sequence has two points or more wins, so a list
inside a point (``第一，`` under ``一、``) never stands in for the top level; the
styles marked ``fallback`` count only when no other style has a sequence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from speechgen.ingest.structure import NUMS, to_int

_SEQ = {"首先": 1, "其次": 2, "再次": 3, "然后": 3}
_LAST = "最后"
# 最后，/最后一点， after 第一…第三 is the last point unless it is a closing wish
_LAST_POINT = re.compile(r"^最后(?:一点|一个问题|一个方面|一条)?[，,：:]\s*")
_WISH = re.compile(r"^(祝|预祝|衷心|再次|谢谢|让我们|希望大家|我相信|我坚信|恭祝|向)")


@dataclass(frozen=True)
class Style:
    """A numbering style: its name (the composer's spelling) and the ordinal at a paragraph start."""

    name: str
    rx: re.Pattern[str]
    fallback: bool = False


def _style(name: str, pattern: str, fallback: bool = False) -> Style:
    return Style(name, re.compile(pattern), fallback)


#: The numbering styles of top-level points (a bare ``一 `` is read as ``一、`` by clean).
STYLES: tuple[Style, ...] = (
    _style("第一，", rf"^第(?P<n>[{NUMS}]{{1,3}})(?:点|个问题|个方面|部分|条)?[，,、：:]\s*"),
    _style("一、", rf"^(?P<n>[{NUMS}]{{1,3}})[、．]\s*"),
    _style("（一）", rf"^[（(](?P<n>[{NUMS}]{{1,3}})[）)]\s*"),
    _style("首先，", r"^(?P<n>首先|其次|再次|然后|最后)[，,：:]\s*"),
    _style("1．", r"^(?P<n>\d{1,2})[．.、](?!\d)\s*", fallback=True),
    # 一抓…十抓, 一要…: paragraph-initial runs in a speech without numbered headings
    _style("一抓", rf"^(?P<n>[{NUMS}]{{1,3}})(?=(?P<v>[抓要是创强促推建优]))", fallback=True),
)
BY_NAME = {s.name: s for s in STYLES}


@dataclass(frozen=True)
class Heading:
    """A point's first paragraph: its index, where its ordinal ends, its number."""

    index: int
    end: int
    number: int


@dataclass(frozen=True)
class Found:
    """The chosen style, its headings, the paragraphs (some cut) and warnings."""

    style: str
    heads: tuple[Heading, ...]
    paras: tuple[str, ...]
    warnings: tuple[str, ...] = ()


def _value(style: Style, m: re.Match[str]) -> int:
    n = m.group("n")
    if style.name == "首先，":
        return _SEQ.get(n, 0)  # 最后 is 0: it takes whatever comes next
    return to_int(n)


def _weight(para: str, end: int, nxt: str | None) -> float:
    """How much a candidate reads like a heading (1 to 1.6)."""
    rest = para[end:]
    sentence = re.match(r"[^。！？；]*", rest).group(0)  # type: ignore[union-attr]
    w = 1.0
    if 2 <= len(sentence) <= 60:
        w += 0.3
    if len(rest) > len(sentence) + 1 or (nxt is not None and len(nxt) > 20):
        w += 0.3  # a body follows, in the paragraph or after it
    return w


def _candidates(style: Style, paras: list[str]) -> list[tuple[int, int, int, float]]:
    """(index, ordinal end, value, weight) of each paragraph starting with the style."""
    out = []
    for i, p in enumerate(paras):
        m = style.rx.match(p)
        if not m:
            continue
        value = _value(style, m)
        if style.name == "一抓" and (value == 0 or m.group("v") == "是" and len(p) < 12):
            continue
        nxt = paras[i + 1] if i + 1 < len(paras) else None
        out.append((i, m.end(), value, _weight(p, m.end(), nxt)))
    return out


def _best_run(cands: list[tuple[int, int, int, float]], verb_of: dict[int, str]) -> list[int]:
    """Indices into *cands* of the best sequence 1, 2, 3… (one ordinal may be skipped)."""
    n = len(cands)
    best: list[tuple[float, int, int]] = [(-1e9, -1, 0)] * n  # (score, previous, value)
    for k, (i, _, v, w) in enumerate(cands):
        if v == 1:
            best[k] = (w, -1, 1)
        for j in range(k):
            sj, _, vj = best[j]
            if sj < -1e8:
                continue
            if verb_of and verb_of.get(cands[j][0]) != verb_of.get(i):
                continue
            gap = (v - vj - 1) if v else 0
            if gap not in (0, 1):
                continue
            score = sj + w - 1.2 * gap
            if cands[j][0] == i - 1 and w < 1.5:
                score -= 0.8  # two short lines in a row: a list, not sections
            if score >= best[k][0]:  # on a tie the nearer predecessor (首先 in the opening loses)
                best[k] = (score, j, v or vj + 1)
    if not n:
        return []
    end = max(range(n), key=lambda k: (best[k][0], -k))
    if best[end][0] < -1e8:
        return []
    run = []
    while end >= 0:
        run.append(end)
        end = best[end][1]
    return run[::-1]


def _runs(style: Style, paras: list[str]) -> tuple[list[Heading], list[int]]:
    """The best sequence of *style* as headings, and the ordinals it skipped."""
    cands = _candidates(style, paras)
    verbs = {}
    if style.name == "一抓":
        verbs = {i: paras[i][e] for i, e, _, _ in cands}
    run = _best_run(cands, verbs)
    heads: list[Heading] = []
    skipped: list[int] = []
    for k in run:
        i, e, v, _ = cands[k]
        number = v or (heads[-1].number + 1 if heads else 1)
        if heads and number == heads[-1].number + 2:
            skipped.append(number - 1)
        heads.append(Heading(i, e, number))
    if style.name == "首先，" and not any(h.number == 2 for h in heads):
        return [], []
    return heads, skipped


def _with_last(style: Style, paras: list[str], heads: list[Heading]) -> list[Heading]:
    """Add a 最后，/最后一点， point after 第一…第三 (not a closing wish)."""
    if style.name != "第一，" or not heads:
        return heads
    for i in range(heads[-1].index + 1, len(paras)):
        m = _LAST_POINT.match(paras[i])
        if m and not _WISH.match(paras[i][m.end() :]) and i + 1 < len(paras):
            return [*heads, Heading(i, m.end(), heads[-1].number + 1)]
    return heads


def _recover(style: Style, paras: list[str], heads: list[Heading], number: int) -> tuple[list[str], str] | None:
    """Cut the paragraph where the skipped ordinal *number* sits inside it (glued to junk)."""
    from speechgen.numerals import chinese

    before = next(h for h in reversed(heads) if h.number < number)
    after = next(h for h in heads if h.number > number)
    if style.name == "首先，":
        return None
    numeral = chinese(number) if style.name != "1．" else str(number)
    probe = re.compile(style.rx.pattern.replace("(?P<n>", "(?P<x>", 1).lstrip("^"))
    for i in range(before.index, after.index):
        for m in probe.finditer(paras[i]):
            if m.start() == 0 or (i == before.index and m.start() < before.end):
                continue
            if m.group("x") != numeral:
                continue
            left = paras[i][: m.start()]
            cut = [*paras[:i], left, paras[i][m.start() :], *paras[i + 1 :]]
            return cut, f"point {number}: its number was found inside a paragraph, after “{left[-12:]}” — check the text before it"
    return None


def find_headings(paras: list[str]) -> Found:
    """The numbering style of the points, their headings and the paragraphs they cut."""
    chosen: tuple[int, Style, list[Heading], list[int]] | None = None
    for fallback in (False, True):
        for style in STYLES:
            if style.fallback != fallback:
                continue
            heads, skipped = _runs(style, paras)
            if len(heads) < 2:
                continue
            rank = heads[0].index + (10_000 * STYLES.index(style) if fallback else 0)
            if chosen is None or rank < chosen[0]:
                chosen = (rank, style, heads, skipped)
        if chosen:
            break
    if chosen is None:
        return Found("", (), tuple(paras))
    _, style, heads, skipped = chosen
    warnings: list[str] = []
    work = list(paras)
    for number in skipped:
        got = _recover(style, work, heads, number)
        if got is None:
            warnings.append(f"point {number} not found: the numbering jumps from {number - 1} to {number + 1}")
            continue
        work, note = got
        warnings.append(note)
        heads, _ = _runs(style, work)
    heads = _with_last(style, work, heads)
    return Found(style.name, tuple(heads), tuple(work), tuple(warnings))


def strip_ordinal(style: str, para: str) -> int:
    """Where the ordinal of a heading paragraph in *style* ends (0 when none)."""
    m = BY_NAME[style].rx.match(para) if style in BY_NAME else None
    if m:
        return m.end()
    m = _LAST_POINT.match(para)
    return m.end() if m else 0
