"""Clean text → speeches → structure (title, salutation, opening, points, closing).

Every character of the clean text lands in exactly one :class:`Part` (its ``raw``);
a part's fields hold that text without the numbering (第一，/一、/一是) that the
composer writes again. A file may hold several speeches (a collection); a header
such as ``（2篇）`` is kept as a ``header`` part, never a speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from speechgen.ingest.structure import NUMS, chain, heading_of, split_subpoints, to_int
from speechgen.model import Subpoint

_TERM = "。！？；"
_TITLE_END = re.compile(r"(讲话|讲话稿|讲话提纲|讲话材料|发言|发言提纲|致辞|讲稿|报告|动员讲话|党课)$")
_DATE = re.compile(
    r"^[（(]?\s*(?P<d>(\d{4}|[Xx*＊]{2,4})\s*年\s*[\dXx*＊]{1,2}\s*月\s*([\dXx*＊]{1,2}\s*日)?)\s*[）)]?$"
)
_COUNT = re.compile(r"^[（(]\s*[\d一二三四五六七八九十]+\s*篇\s*[）)]$")
_SALUTATION = re.compile(
    r"^(尊敬的[^。！？\n]{0,50}|各位[^。！？\n]{0,40}|[^。！？\n]{0,30}同志们|女士们[^。！？\n]{0,20}|朋友们)[：:]$"
)
_TRANSITION = re.compile(
    r"^(下面|下边|现在|接下来|今天|借此机会|这里)[^。！？]{0,50}(讲|谈|强调|提)[^。！？]{0,8}(意见|看法|体会|要求|问题)[^。！？]{0,20}[。：:]$"
)
_ANNOUNCED = re.compile(rf"我(重点|再|主要|简要)?(讲|谈|强调|提|说)(以下)?([{NUMS}]+)(点|个方面)")
_CLOSING = re.compile(r"(我就讲(这么多|这些|到这里)|就讲这些|谢谢大家|谢谢！|谢谢各位)|^(同志们[，,！!]|从(今天|现在)(开始|起))")
_REQUIREMENTS = re.compile(rf"(提|强调|讲)(几|[{NUMS}])(点|条|个方面)(要求|希望|意见)[：:]$")
_TOP_STYLES = {
    "第一，": re.compile(rf"^第([{NUMS}]{{1,3}})(?:点|个方面)?[，,、：:]\s*"),
    "一、": re.compile(rf"^([{NUMS}]{{1,3}})[、]\s*"),
    "（一）": re.compile(rf"^[（(]([{NUMS}]{{1,3}})[）)]\s*"),
    "1．": re.compile(r"^(\d{1,2})[．.、](?!\d)\s*"),
}
# Where a text with no line breaks is cut into paragraphs: before a top-level marker
# that follows the end of a sentence, and before a last 同志们，.
_FLAT_CUT = re.compile(
    rf"(?<=[{_TERM}：])(?=第[{NUMS}]{{1,3}}[，、]|[{NUMS}]{{1,3}}、|[（(][{NUMS}]{{1,3}}[）)]|同志们[，！])"
)
_FLAT_HEAD = re.compile(
    r"^(?P<title>[^。！？，；\n]{4,60}?(讲话提纲|讲话稿|讲话|发言|致辞))"
    r"(?P<date>[（(]\s*(\d{4}|[Xx*＊]{2,4})年[^（）()]{2,10}[）)])?"
    r"(?P<speaker>(?<=[）)])(X{2,4}|x{2,4}|\*{1,3}|＊{1,3})(?![A-Za-z]))?"
)


@dataclass(frozen=True)
class Part:
    """A piece of a speech: its exact clean text (``raw``) and what it holds."""

    kind: str
    raw: str
    text: str = ""
    heading: str = ""
    number: int | None = None
    subpoints: tuple[Subpoint, ...] = ()
    tail: str = ""
    review: bool = False


@dataclass(frozen=True)
class Speech:
    """One speech of a source file, split into parts."""

    title: str = ""
    date: str = ""
    speaker: str = ""
    parts: tuple[Part, ...] = ()
    announced_points: int | None = None
    warnings: tuple[str, ...] = ()
    style: str = ""  # the numbering of the points as found: 第一， / 一、 / （一） / 1．

    @property
    def points(self) -> list[Part]:
        """The numbered points, in order."""
        return [p for p in self.parts if p.kind == "point"]

    def part(self, kind: str) -> Part | None:
        """The first part of *kind*, if any."""
        return next((p for p in self.parts if p.kind == kind), None)


@dataclass
class _Builder:
    parts: list[Part] = field(default_factory=list)

    def add(self, kind: str, raw: str, **kw: object) -> None:
        if raw:
            self.parts.append(Part(kind, raw, **kw))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- speeches


def paragraphs(clean: str) -> tuple[list[str], bool]:
    """The paragraphs of *clean* text, and whether it came without line breaks (flat)."""
    lines = [ln for ln in clean.split("\n") if ln.strip()]
    flat = bool(lines) and (len(lines) <= 2 and max(len(ln) for ln in lines) > 600)
    if not flat:
        return lines, False
    out: list[str] = []
    for ln in lines:
        head = _FLAT_HEAD.match(ln)
        if head and head.end() < len(ln):
            out += [g for g in (head.group("title"), head.group("date"), head.group("speaker")) if g]
            ln = ln[head.end() :]
        out += [p for p in _FLAT_CUT.split(ln) if p]
    return out, True


def split_speeches(clean: str) -> tuple[Part | None, list[Speech]]:
    """Split a whole clean file into an optional collection header and its speeches."""
    paras, flat = paragraphs(clean)
    starts = _speech_starts(paras)
    header: Part | None = None
    if starts and starts[0] > 0:
        header = Part("header", "\n".join(paras[: starts[0]]))
    if not starts:
        starts = [0]
    bounds = [*starts, len(paras)]
    speeches = [segment_speech(paras[a:b], flat) for a, b in zip(bounds, bounds[1:], strict=False)]
    return header, [s for s in speeches if s.parts]


def _is_title(line: str) -> bool:
    return 4 <= len(line) <= 60 and not line.endswith(tuple(_TERM + "：:，")) and "。" not in line


def _speech_starts(paras: list[str]) -> list[int]:
    starts: list[int] = []
    for i, line in enumerate(paras):
        if not _is_title(line) or _TOP_STYLES["第一，"].match(line) or _TOP_STYLES["一、"].match(line):
            continue
        if _DATE.match(line) or _COUNT.match(line) or (starts and i - starts[-1] < 3):
            continue  # front matter of the speech just started, not a new one
        nxt = paras[i + 1] if i + 1 < len(paras) else ""
        if _COUNT.match(nxt):
            continue  # a collection header: 某某讲话材料（2篇）
        after = paras[i + 2] if i + 2 < len(paras) else ""
        opens = bool(_SALUTATION.match(nxt) or _DATE.match(nxt))
        opens = opens or (_is_speaker(nxt) and bool(_SALUTATION.match(after) or _DATE.match(after)))
        strong = bool(_TITLE_END.search(line)) and len(nxt) > 60
        if opens or strong or (i == 0 and not _COUNT.match(nxt)):
            starts.append(i)
    return starts


def _is_speaker(line: str) -> bool:
    return 0 < len(line) <= 16 and not re.search(r"[，。！？：:、]", line) and not _is_title_words(line)


def _is_title_words(line: str) -> bool:
    return bool(_TITLE_END.search(line)) or "会议" in line


# --------------------------------------------------------------------------- one speech


def segment_speech(paras: list[str], flat: bool = False) -> Speech:
    """Structure one speech given as paragraphs (title first when it has one)."""
    b = _Builder()
    i, title, date, speaker = _front(paras, b)
    if i < len(paras) and _SALUTATION.match(paras[i]):
        b.add("salutation", paras[i], text=paras[i])
        i += 1
    body = paras[i:]
    style, heads = _top_headings(body)
    closing_at, req_at = _ending(body, heads[-1] + 1 if heads else 1)
    if heads:
        _opening(body[: heads[0]], b, flat)
    else:  # no numbered headings: no invented points, plain paragraphs
        _opening(body[: min(1, closing_at)], b, flat)
        for para in body[1:req_at]:
            b.add("paragraph", para, text=para)
    for k, h in enumerate(heads):
        end = heads[k + 1] if k + 1 < len(heads) else min(req_at, closing_at)
        _point(body[h:end], k + 1, style, b, flat)
    if req_at < closing_at:
        _requirements(body[req_at:closing_at], b)
    if closing_at < len(body):
        b.add("closing", "\n".join(body[closing_at:]), text="\n".join(body[closing_at:]))
    return _finish(title, date, speaker, b, style, body)


def _front(paras: list[str], b: _Builder) -> tuple[int, str, str, str]:
    i, title, date, speaker = 0, "", "", ""
    if paras and _is_title(paras[0]) and not _SALUTATION.match(paras[0]) and not _TOP_STYLES["第一，"].match(paras[0]):
        title = paras[0]
        b.add("title", title, text=title)
        i = 1
    for _ in range(2):
        if i < len(paras) and not date and _DATE.match(paras[i]):
            date = _DATE.match(paras[i]).group("d")  # type: ignore[union-attr]
            b.add("date", paras[i], text=date)
            i += 1
        elif title and i < len(paras) and not speaker and _is_speaker(paras[i]) and i + 1 < len(paras):
            speaker = paras[i]
            b.add("speaker", paras[i], text=speaker)
            i += 1
    return i, title, date, speaker


def _top_headings(body: list[str]) -> tuple[str, list[int]]:
    """The numbering style of the points and the paragraph index of each point."""
    best: tuple[int, str, list[int]] | None = None
    for style, rx in _TOP_STYLES.items():
        found = [(i, to_int(m.group(1))) for i, p in enumerate(body) if (m := rx.match(p))]
        heads = chain(found)
        if len(heads) < 2:
            continue
        rank = heads[0] + (10_000 if style == "1．" else 0)
        if best is None or rank < best[0]:
            best = (rank, style, heads)
    return (best[1], best[2]) if best else ("", [])


def _ending(body: list[str], after: int) -> tuple[int, int]:
    """Where the closing and a closing 我也提几点要求： block start (len(body) when absent)."""
    n = len(body)
    closing = n
    if n > after and _CLOSING.search(body[-1]):
        closing = n - 1
        if closing - 1 >= after and _CLOSING.search(body[closing - 1]) and len(body[closing - 1]) < 200:
            closing -= 1
    req = closing
    for j in range(after, closing):
        if _REQUIREMENTS.search(body[j]):
            req = j
            break
    return closing, req


def _opening(paras: list[str], b: _Builder, flat: bool) -> None:
    if not paras:
        return
    last = paras[-1]
    trans = ""
    if _TRANSITION.match(last) and len(last) <= 80:
        trans, paras = last, paras[:-1]
    else:
        sentences = re.findall(rf"[^{_TERM}]*[{_TERM}]?", last)
        tail = next((s for s in reversed(sentences) if s), "")
        if tail and tail != last and _TRANSITION.match(tail) and len(tail) <= 80:
            trans = tail
            paras = [*paras[:-1], last[: len(last) - len(tail)]]
    if paras:
        raw = "\n".join(paras)
        b.add("opening", raw, text=raw)
    if trans:
        b.add("transition", trans, text=trans)


def _point(paras: list[str], number: int, style: str, b: _Builder, flat: bool) -> None:
    rx = _TOP_STYLES[style]
    first = paras[0]
    m = rx.match(first)
    rest = first[m.end() :] if m else first
    heading, remainder, review = heading_of(rest, flat, has_more=len(paras) > 1)
    body = ([remainder] if remainder else []) + paras[1:]
    text, subs, tail = split_subpoints(body, exclude=style)
    b.add(
        "point", "\n".join(paras), heading=heading, number=number, text=text,
        subpoints=tuple(subs), tail=tail, review=review,
    )


def _requirements(paras: list[str], b: _Builder) -> None:
    text, subs, tail = split_subpoints(paras, exclude="")
    b.add("requirements", "\n".join(paras), text=text, subpoints=tuple(subs), tail=tail)


def _finish(title: str, date: str, speaker: str, b: _Builder, style: str, body: list[str]) -> Speech:
    found = sum(1 for p in b.parts if p.kind == "point")
    intro = " ".join(p.text for p in b.parts if p.kind in ("opening", "transition"))
    m = _ANNOUNCED.search(intro)
    announced = to_int(m.group(4)) if m else None
    warnings: list[str] = []
    if announced is not None and announced != found:
        note = " (truncated?)" if found < announced else ""
        warnings.append(f"announced {announced} points, found {found}{note}")
    if body and not body[-1].endswith(tuple(_TERM + "”’）」』…：:")):
        warnings.append("the text ends mid-sentence (truncated?)")
    if any(p.review for p in b.parts):
        warnings.append("a heading boundary was guessed — check the fragments marked review: true")
    return Speech(title, date, speaker, tuple(b.parts), announced, tuple(warnings), style)
