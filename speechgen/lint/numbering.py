"""Rule ``numbering``: a broken or mixed sequence of points, a stated count that differs.

Styles (第一， 一、 （一） 1. （1） 一是) take levels in the order they first appear, as a
reader meets them; a marker resets the counters of every deeper level. A speech excerpt
may start anywhere, so the first marker of a style in the text may have any number.
"""

from __future__ import annotations

import re

from speechgen.lint import Finding, LintContext
from speechgen.lint.base import CN_DIGITS, Para, cn_number, hit, leading_mark

_STATED = re.compile(
    rf"(?:讲|谈|提|强调|说|交流)(?:以下|这么|如下)?([{CN_DIGITS}]+)(?:点|个方面|句话|个问题|个部分)(?:的)?(?:意见|内容|看法|体会|要求)?"
)
_INNER = re.compile(r"一是(.+?)二是")


def _style(mark: str) -> tuple[str, int]:
    """The style of a marker and its number: ('第一，', 3) for 第三，."""
    core = mark.strip("*")
    if core.startswith("第"):
        return "第一，", cn_number(core[1:].rstrip("，,、：:．."))
    if core.endswith("是"):
        return "一是", cn_number(core[:-1])
    if core[0] in "（(":
        inner = core[1:-1]
        return ("（1）", int(inner)) if inner.isdigit() else ("（一）", cn_number(inner))
    if core[0].isdigit():
        return "1.", int(core[:-1])
    return "一、", cn_number(core[:-1])


def numbering(paras: list[Para], context: LintContext) -> list[Finding]:
    """Gaps, repeats and mixed styles in the numbered sequences; a stated count that differs."""
    out: list[Finding] = []
    levels: list[str] = []  # styles in order of first appearance, 一是 always last
    count: dict[str, int] = {}
    since: dict[str, str] = {}  # style → text read since its last marker (inline 一是…)
    tops: list[tuple[Para, int]] = []
    for p in paras:
        if p.kind == "title":
            continue
        mark = leading_mark(p.text)
        if not mark:
            for s in since:
                since[s] += p.text
            continue
        style, n = _style(mark)
        if n == 0:
            continue
        shown = mark.strip("*")
        if style not in levels:
            upper = _mixed_with(levels, count, style, n)
            if upper:
                out.append(hit(p, "numbering", shown, f"'{shown}' continues a list numbered in the {upper} style",
                               f"number all the points in one style ({_as(upper, n)})"))
                count[upper] = n
                _reset(levels, count, since, upper)
                tops.append((p, n))
                continue
            if style == "一是" or "一是" not in levels:
                levels.append(style)
            else:
                levels.insert(levels.index("一是"), style)
            first_in_text = not any(count.get(s) for s in levels[: levels.index(style)])
            count[style] = 0 if not first_in_text else n - 1
        expected = count.get(style, 0) + 1
        if n != expected and not _said_inline(since.get(style, ""), expected, n, style):
            what = "repeats" if n == expected - 1 else "skips" if n > expected else "breaks"
            out.append(hit(p, "numbering", shown, f"'{shown}' {what} the sequence (expected {_as(style, expected)})",
                           f"renumber: this should be {_as(style, expected)}"))
        count[style] = n
        since[style] = p.text
        _reset(levels, count, since, style)
        if levels and style == levels[0]:
            tops.append((p, n))
        out += _nested(p, style)
    return out + _stated(paras, tops)


def _mixed_with(levels: list[str], count: dict[str, int], style: str, n: int) -> str:
    """The style a new top-level marker continues (第一， … 二、), or ""."""
    if style not in ("第一，", "一、") or n < 2:
        return ""
    for upper in levels:
        if upper in ("第一，", "一、") and upper != style and count.get(upper) == n - 1:
            return upper
    return ""


def _reset(levels: list[str], count: dict[str, int], since: dict[str, str], style: str) -> None:
    for deeper in levels[levels.index(style) + 1:]:
        count[deeper] = 0
        since[deeper] = ""


def _said_inline(text: str, expected: int, n: int, style: str) -> bool:
    """抓学习，一是通读。…  then a paragraph 二是…: the missing ordinals were said inline."""
    if n <= expected:
        return False
    return all(_as(style, k) in text for k in range(expected, n))


def _as(style: str, n: int) -> str:
    from speechgen.numerals import chinese

    word = chinese(n)
    return {"第一，": f"第{word}，", "一、": f"{word}、", "（一）": f"（{word}）", "1.": f"{n}.",
            "（1）": f"（{n}）", "一是": f"{word}是"}[style]


def _nested(p: Para, style: str) -> list[Finding]:
    """一是… inside a paragraph that is itself 一是/二是…: two lists of the same words."""
    if style != "一是":
        return []
    m = _INNER.search(p.text, 2)
    if not m:
        return []
    return [hit(p, "numbering", "一是", "a list 一是…二是 inside a sub-point that is itself numbered 一是/二是",
                "number the inner list differently (首先/其次, 1./2.) or split the sub-point")]


def _stated(paras: list[Para], tops: list[tuple[Para, int]]) -> list[Finding]:
    """我讲三点意见 before the points, and a different number of points."""
    if not tops:
        return []
    first = tops[0][0].index
    for p in paras:
        if p.index >= first:
            return []
        m = _STATED.search(p.text)
        if not m:
            continue
        said = cn_number(m.group(1))
        found = len(tops)
        if said and found != said:
            return [hit(p, "numbering", m.group(0), f"says {m.group(1)}点 but {found} points follow",
                        f"say {_as('第一，', found)[1:-1]}点, or add or remove points")]
    return []
