"""Long titles broken into balanced lines at word boundaries, as GB/T 9704 shapes them.

A 二号 (22 pt) title holds 20 characters on the 156 mm line. A longer one is broken
between words (jieba), never inside a blank 【＿＿】, never before a particle (的 之 上…)
or a closing mark, never after 在/关于 or an opening mark, into as few lines as fit and
as even as they can be (a trapezoid or diamond, not a full line and a stub).
"""

from __future__ import annotations

import math
import re

#: 22 pt characters on a 442.2 pt line.
TITLE_CHARS = 20

_MARK = re.compile(r"【[^【】]*】")
#: a piece made only of these joins the piece before it (no line starts with them)
_TRAILING = re.compile(r"[的之上中了着和与及、，。；：！？）》」』”’\]）]+")
#: a piece made only of these joins the piece after it (no line ends with them)
_LEADING = re.compile(r"(在|关于|对|为|从|（|《|「|『|“|‘)+")


def title_lines(title: str, width: int = TITLE_CHARS) -> list[str]:
    """*title* as lines of at most *width* characters (a word longer than that is cut)."""
    if len(title) <= width:
        return [title]
    pieces = _pieces(title, width)
    for n in range(math.ceil(len(title) / width), len(pieces) + 1):
        lines = _balanced(pieces, n, width)
        if lines:
            return lines
    return [title[i : i + width] for i in range(0, len(title), width)]  # pragma: no cover


def _pieces(title: str, width: int) -> list[str]:
    """Unbreakable pieces: jieba words, a blank whole, particles and marks glued on."""
    from speechgen.words import split

    raw: list[str] = []
    pos = 0
    for m in _MARK.finditer(title):
        raw += split(title[pos : m.start()]) if m.start() > pos else []
        raw.append(m.group(0))
        pos = m.end()
    raw += split(title[pos:]) if pos < len(title) else []
    glued: list[str] = []
    carry = ""
    for word in raw:
        if glued and not carry and _TRAILING.fullmatch(word):
            glued[-1] += word
        elif _LEADING.fullmatch(word):
            carry += word
        else:
            glued.append(carry + word)
            carry = ""
    if carry:
        glued.append(carry)
    out: list[str] = []
    for piece in glued:  # a piece wider than a line (never in a real title) is cut
        out += [piece[i : i + width] for i in range(0, len(piece), width)]
    return out


def _balanced(pieces: list[str], n: int, width: int) -> list[str] | None:
    """*pieces* in *n* lines of at most *width*: the longest line as short as it can be,
    then the lines as even as they can be, then the upper lines the longer."""
    total = sum(len(p) for p in pieces)
    mean = total / n
    ends = [0]
    for p in pieces:
        ends.append(ends[-1] + len(p))
    m = len(pieces)
    # best[k][j]: cost of the first j pieces in k lines, and where line k starts
    Cost = tuple[int, float, tuple[int, ...]]
    best: list[dict[int, tuple[Cost, int]]] = [{0: ((0, 0.0, ()), 0)}]
    for k in range(1, n + 1):
        row: dict[int, tuple[Cost, int]] = {}
        for j in range(k, m - (n - k) + 1):
            for i, (cost, _) in best[k - 1].items():
                size = ends[j] - ends[i]
                if i >= j or size > width:
                    continue
                new: Cost = (max(cost[0], size), cost[1] + (size - mean) ** 2, (*cost[2], -size))
                if j not in row or new < row[j][0]:
                    row[j] = (new, i)
        best.append(row)
    if m not in best[n]:
        return None
    lines: list[str] = []
    j = m
    for k in range(n, 0, -1):
        i = best[k][j][1]
        lines.append("".join(pieces[i:j]))
        j = i
    return lines[::-1]
