"""Clean text → speeches → structure (title, salutation, opening, points, closing).

Every character of the clean text lands in exactly one :class:`Part` (its ``raw``);
a part's fields hold that text without the numbering (第一，/一、/一是) that the
composer writes again. A file may hold several speeches (a collection); a header
such as ``（2篇）`` is kept as a ``header`` part, never a speech.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from speechgen.ingest.headings import BY_NAME, Heading, find_headings, strip_ordinal
from speechgen.ingest.structure import NUMS, heading_of, split_subpoints, to_int
from speechgen.model import Subpoint

_TERM = "。！？；"
_TITLE_END = re.compile(r"(讲话|讲话稿|讲话提纲|讲话材料|发言|发言提纲|致辞|讲稿|报告|动员讲话|党课)$")
_CN_DIGIT = "〇○零一二三四五六七八九"  # ○ (U+25CB) is written for 〇 as often as not
#: Redaction marks a date line may hold instead of digits (2019年×月×日, 2019年X月X日).
_MARKS = "Xx*＊×Ｘｘ□○"
_DATE = re.compile(
    r"^[（(]?\s*(?P<d>"
    rf"(\d{{4}}|[{_MARKS}]{{2,4}}|[{_CN_DIGIT}]{{4}})\s*年\s*([\d{_MARKS}]{{1,2}}|[{NUMS}]{{1,3}})\s*月\s*(([\d{_MARKS}]{{1,2}}|[{NUMS}]{{1,3}})\s*日)?"
    r"|\d{4}[.．/]\d{1,2}(?:[.．/]\d{1,2})?)"
    r"\s*[）)]?$"
)
_COUNT = re.compile(r"^[（(]\s*[\d一二三四五六七八九十]+\s*篇\s*[）)]$")
# A vocative: 同志们, 各位代表, 尊敬的…领导, 老师们…; a salutation is a list of them and a colon.
_PRONOUNS = ("我们", "你们", "他们", "它们", "咱们", "人们")
_VOC = (
    r"(?:(?:尊敬的|亲爱的)[^，、。！？：:；\n]{1,30}?|各位[^，、。！？：:；\n]{1,12}?|全体[^，、。！？：:；\n]{1,10}?"
    r"|[\u4e00-\u9fff]{1,4}们|女士们|先生们)"
)
_VOCS = rf"{_VOC}(?:[，、,和及与]\s*{_VOC}){{0,7}}"
_SALUTATION = re.compile(rf"^(?P<s>{_VOCS}[：:])")
_VOC_LINE = re.compile(rf"^{_VOCS}[！!，,]?$")
_TRANSITION = re.compile(
    r"^(下面|下边|现在|接下来|今天|借此机会|这里)[^。！？]{0,50}(讲|谈|强调|提)[^。！？]{0,8}(意见|看法|体会|要求|问题)[^。！？]{0,20}[。：:]$"
)
_NUMBER = rf"[{NUMS}两\d]+"
#: How the opening announces the count: 我讲六点意见, 讲4点意见, 三个问题, 讲三个方面, 一共有十个问题.
ANNOUNCED = re.compile(
    rf"(?:(?:讲|谈|强调|提|说|讲讲|谈谈|提出|再强调|交流)(?:以下)?(?P<a>{_NUMBER})(?:点|个方面|个问题|方面|条)"
    rf"|(?:有|是|归纳为|概括为|分为|讲|抓好|做好|抓|突出|围绕)(?P<b>{_NUMBER})个(?:问题|方面))"
)
_CLOSING = re.compile(r"(我就讲(这么多|这些|到这里)|就讲这些|谢谢大家|谢谢！|谢谢各位)|^(同志们[，,！!]|从(今天|现在)(开始|起))")
# Other paragraphs that close a speech once the last point has its body.
_CLOSING_START = re.compile(
    rf"^({_VOCS}[，,！!]|总之|总而言之|最后[，,]\s*(祝|预祝|让我们|希望)|希望(大家|全|各|同志们|你们|同学们)|让我们|我相信|我坚信|祝(大家|各位|同学们|全)|预祝|谢谢)"
)
_REQUIREMENTS = re.compile(rf"(提|强调|讲)(几|[{NUMS}])(点|条|个方面)(要求|希望|意见)[：:]$")
_SPEAKER_TAG = re.compile(r"^(讲话人|主讲人|报告人|发言人)[：:]\s*")
_NOTICE = re.compile(r"^(关于[^。！？]{2,80}的?(通知|通报|函)|现将[^。]{0,80}印发[^。]{0,30}。)")
_SUBTITLE = re.compile(r"^(——|—|－－|--)\s*\S")
_GLUED_DATE = re.compile(r"[（(]\s*(\d{4}|[〇零一二三四五六七八九]{4})\s*年[^（）()]{1,10}[）)]$")
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
    subtitle: str = ""  # ——在…上的讲话 under the title
    salutation: str = ""  # as found, "" when the speech has none
    closing: str = ""  # the closing text, "" when the speech has none

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
    flat = bool(lines) and (len(lines) <= 3 and max(len(ln) for ln in lines) > 300)
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
    skip = _notice_end(paras)
    starts = [skip + i for i in _speech_starts(paras[skip:])]
    header: Part | None = None
    if starts and starts[0] > 0:
        header = Part("header", "\n".join(paras[: starts[0]]))
    if not starts:
        starts = [0]
    bounds = [*starts, len(paras)]
    speeches = [segment_speech(paras[a:b], flat) for a, b in zip(bounds, bounds[1:], strict=False)]
    return header, [s for s in speeches if s.parts]


def _notice_end(paras: list[str]) -> int:
    """Where the speech starts after a notice that forwards it (关于印发…的通知, 全校教工：, 现将…印发), or 0."""
    at = next((i for i, p in enumerate(paras[:4]) if _NOTICE.match(p)), None)
    if at is None:
        return 0
    for i in range(at + 1, min(len(paras), at + 12)):
        if _is_title(paras[i]) and _TITLE_END.search(paras[i]):
            return i
    return 0


def _is_title(line: str) -> bool:
    return 4 <= len(line) <= 60 and not line.endswith(tuple(_TERM + "：:，")) and "。" not in line


def _is_heading_line(line: str) -> bool:
    return bool(BY_NAME["第一，"].rx.match(line) or BY_NAME["一、"].rx.match(line))


def _speech_starts(paras: list[str]) -> list[int]:
    starts: list[int] = []
    for i, line in enumerate(paras):
        if not _is_title(line) or _is_heading_line(line) or _is_salutation(line):
            continue
        if _DATE.match(line) or _COUNT.match(line) or (starts and i - starts[-1] < 3):
            continue  # front matter of the speech just started, not a new one
        if starts and (_SUBTITLE.match(line) or _SPEAKER_TAG.match(line)):
            continue
        nxt = paras[i + 1] if i + 1 < len(paras) else ""
        if _COUNT.match(nxt):
            continue  # a collection header: 某某讲话材料（2篇）
        after = paras[i + 2] if i + 2 < len(paras) else ""
        opens = bool(_is_salutation(nxt) or _DATE.match(nxt))
        opens = opens or (_is_speaker(nxt) and bool(_is_salutation(after) or _DATE.match(after)))
        strong = bool(_TITLE_END.search(line)) and len(nxt) > 60 and not (starts and _front_line(paras[i - 1]))
        if opens or strong or (i == 0 and not _COUNT.match(nxt)):
            starts.append(i)
    return starts


def _front_line(line: str) -> bool:
    """A date, speaker or subtitle line: what stands between a title and its speech."""
    return bool(_DATE.match(line) or _SUBTITLE.match(line) or _SPEAKER_TAG.match(line) or _is_speaker(line))


def _is_salutation(line: str) -> bool:
    m = _SALUTATION.match(line)
    return bool(m) and not line.startswith(_PRONOUNS)


def _is_speaker(line: str) -> bool:
    if _SPEAKER_TAG.match(line):
        return True
    return 0 < len(line) <= 20 and not re.search(r"[，。！？：:；]", line) and not _is_title_words(line)


def _is_title_words(line: str) -> bool:
    return bool(_TITLE_END.search(line)) or "会议" in line


# --------------------------------------------------------------------------- one speech


def segment_speech(paras: list[str], flat: bool = False) -> Speech:
    """Structure one speech given as paragraphs (title first when it has one)."""
    b = _Builder()
    paras = _unglue(paras)
    i, title, subtitle, date, speaker = _front(paras, b)
    if title and i < len(paras) and paras[i] == title:
        b.add("title_repeat", title, text=title)  # the title printed twice (a forum or web page header)
        i += 1
    salutation = ""
    if i < len(paras) and _is_salutation(paras[i]) and len(paras[i]) <= 60 and paras[i].endswith(("：", ":")):
        salutation = paras[i]
        b.add("salutation", paras[i], text=paras[i])
        i += 1
    if title and i < len(paras) and paras[i].startswith(title) and len(paras[i]) > len(title):
        b.add("title_repeat", title, text=title)  # a title printed again before the text (a web page header)
        paras = [*paras[:i], paras[i][len(title) :], *paras[i + 1 :]]
    found = find_headings(paras[i:])
    body = list(found.paras)
    heads = list(found.heads)
    closing_at, req_at = _ending(body, _after_last(body, heads) if heads else 1)
    if heads:
        _opening(body[: heads[0].index], b, flat)
    else:  # no numbered headings: no invented points, plain paragraphs
        _opening(body[: min(1, closing_at)], b, flat)
        for para in body[1:req_at]:
            b.add("paragraph", para, text=para)
    for k, h in enumerate(heads):
        end = heads[k + 1].index if k + 1 < len(heads) else min(req_at, closing_at)
        _point(body[h.index : end], h, found.style, b, flat)
    if req_at < closing_at:
        _requirements(body[req_at:closing_at], b)
    if closing_at < len(body):
        b.add("closing", "\n".join(body[closing_at:]), text="\n".join(body[closing_at:]))
    meta = {"title": title, "subtitle": subtitle, "date": date, "speaker": speaker, "salutation": salutation}
    return _finish(meta, b, found.style, body, found.warnings)


def _unglue(paras: list[str]) -> list[str]:
    """Cut the first paragraphs where a title, date, salutation and opening run together.

    ``…讲话（2021年3月5日）同志们：今天…`` → title, date, salutation, opening;
    ``标题——在…上的讲话各位代表、同志们：…`` → title, subtitle, salutation, opening.
    """
    out: list[str] = []
    for k, para in enumerate(paras):
        if k >= 8 or len(out) >= 8:
            out += paras[k:]
            break
        out += _unglue_one(para, first=not out)
    return out


def _unglue_one(para: str, first: bool) -> list[str]:
    pieces: list[str] = []
    m = _SALUTATION.match(para)
    if m and not para.startswith(_PRONOUNS):
        sal = m.group("s")
        return [sal, para[len(sal) :]] if len(para) > len(sal) else [para]
    # a salutation glued after a title or a date: 讲话同志们：, …日）各位代表：
    g = re.search(rf"(?<=[话辞告言）)])(?={_VOCS}[：:])", para[:120])
    if g and 4 <= g.start() <= 80 and not re.search("[。！？]", para[: g.start()]):
        head, rest = para[: g.start()], para[g.start() :]
        return [*_split_title(head), *_unglue_one(rest, False)]
    if first and len(para) <= 120 and "。" not in para:
        pieces = _split_title(para)
        if len(pieces) > 1:
            return pieces
    return [para]


def _split_title(head: str) -> list[str]:
    """A title line with a subtitle (——在…) or a date glued to it, in pieces."""
    out: list[str] = []
    d = _GLUED_DATE.search(head)
    date = ""
    if d and d.start() >= 4:
        head, date = head[: d.start()], head[d.start() :]
    sub = re.search(r"(——|—|－－)\s*[^—－]", head)
    if sub and sub.start() >= 4:
        out += [head[: sub.start()], head[sub.start() :]]
    else:
        out.append(head)
    return [p for p in [*out, date] if p]


def _front(paras: list[str], b: _Builder) -> tuple[int, str, str, str, str]:
    """Title (with a second line and a subtitle), date and speaker, in any order."""
    i, title, subtitle, date, speaker = 0, "", "", "", ""
    if paras and _is_title(paras[0]) and not _is_salutation(paras[0]) and not _is_heading_line(paras[0]) and not _DATE.match(paras[0]):
        title = paras[0]
        b.add("title", title, text=title)
        i = 1
        # a title printed over two lines: 在全省…电视电话会议 / 上的讲话
        if i < len(paras) and not _TITLE_END.search(title) and _TITLE_END.search(paras[i]) and _is_title(paras[i]) and not _front_line(paras[i]) and len(title + paras[i]) <= 60:
            title += paras[i]
            b.add("title", paras[i], text=paras[i])
            i += 1
    for _ in range(5):
        if i >= len(paras):
            break
        line = paras[i]
        if not date and (m := _DATE.match(line)):
            date = m.group("d")
            b.add("date", line, text=date)
        elif title and not subtitle and _SUBTITLE.match(line) and _is_title(line.lstrip("—－-")):
            subtitle = line
            b.add("subtitle", line, text=line)
        elif (title or date) and not speaker and _is_speaker(line) and i + 1 < len(paras) and not _is_salutation(line):
            speaker = _SPEAKER_TAG.sub("", line)
            b.add("speaker", line, text=speaker)
        else:
            break
        i += 1
    return i, title, subtitle, date, speaker


def _after_last(body: list[str], heads: list[Heading]) -> int:
    """The first paragraph a closing may start at: the last point keeps a body."""
    idx, end = heads[-1].index, heads[-1].end
    rest = body[idx][end:]
    own_line = len(rest) <= 60 and not re.search("[。！？；]", rest.rstrip("。；"))
    # points of one paragraph each (第一，希望…。第二，希望…。): the last one is one too
    single = len(heads) >= 2 and all(b.index - a.index == 1 for a, b in zip(heads, heads[1:], strict=False))
    return idx + (2 if own_line and not single else 1)


def _ending(body: list[str], after: int) -> tuple[int, int]:
    """Where the closing and a closing 我也提几点要求： block start (len(body) when absent)."""
    n = len(body)
    closing = n
    if n > after and _CLOSING.search(body[-1]):
        closing = n - 1
        if closing - 1 >= after and _CLOSING.search(body[closing - 1]) and len(body[closing - 1]) < 200:
            closing -= 1
    # a vocative line of its own (同志们、朋友们！) opens the closing
    for j in range(after, n):
        if _VOC_LINE.match(body[j]) and not _is_salutation(body[j]):
            closing = min(closing, j)
            break
    # paragraphs at the end that close (希望…, 让我们…, 总之…, 最后，祝…)
    j = closing
    while j - 1 >= after and _CLOSING_START.match(body[j - 1]) and not body[j - 1].startswith(_PRONOUNS):
        j -= 1
    closing = j
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


def _point(paras: list[str], head: Heading, style: str, b: _Builder, flat: bool) -> None:
    first = paras[0]
    cut = strip_ordinal(style, first) or head.end
    rest = first[cut:]
    if style == "一抓" and rest.startswith("是"):
        rest = rest[1:]
    heading, remainder, review = heading_of(rest, flat, has_more=len(paras) > 1)
    body = ([remainder] if remainder else []) + paras[1:]
    text, subs, tail = split_subpoints(body, exclude=style)
    b.add(
        "point", "\n".join(paras), heading=heading, number=head.number, text=text,
        subpoints=tuple(subs), tail=tail, review=review,
    )


def _requirements(paras: list[str], b: _Builder) -> None:
    text, subs, tail = split_subpoints(paras, exclude="")
    b.add("requirements", "\n".join(paras), text=text, subpoints=tuple(subs), tail=tail)


def _finish(meta: dict[str, str], b: _Builder, style: str, body: list[str], notes: tuple[str, ...]) -> Speech:
    found = sum(1 for p in b.parts if p.kind == "point")
    intro = " ".join(p.text for p in b.parts if p.kind in ("opening", "transition"))
    m = ANNOUNCED.search(intro)
    announced = to_int((m.group("a") or m.group("b")).replace("两", "二")) if m else None
    warnings: list[str] = list(notes)
    announced = announced or None
    if announced is not None and announced != found:
        note = " (truncated?)" if found < announced else ""
        warnings.append(f"announced {announced} points, found {found}{note}")
    if body and not body[-1].endswith(tuple(_TERM + "”’）」』…：:")):
        warnings.append("the text ends mid-sentence (truncated?)")
    if any(p.review for p in b.parts):
        warnings.append("a heading boundary was guessed — check the fragments marked review: true")
    closing = next((p.text for p in b.parts if p.kind == "closing"), "")
    return Speech(
        meta["title"], meta["date"], meta["speaker"], tuple(b.parts), announced or None, tuple(warnings), style,
        subtitle=meta["subtitle"], salutation=meta["salutation"], closing=closing,
    )
