"""What every rule reads: paragraphs with their line, sentences, headings."""

from __future__ import annotations

import re
from dataclasses import dataclass

CN_DIGITS = "一二三四五六七八九十两"
#: What may end a paragraph that is a whole sentence (or introduces a list).
END = set("。！？!?…”’」』）)》】；;：:.")
SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]*[”’」』]?")


@dataclass(frozen=True)
class Para:
    """One paragraph of the draft as the rules see it."""

    index: int  # block index in the Draft
    line: int
    text: str
    kind: str  # title | salutation | heading1 | heading2 | paragraph
    source: str = ""  # fragment id ("" without provenance)
    ignore: tuple[str, ...] = ()


_MARK = re.compile(
    rf"^(?:\*\*)?\s*(第[{CN_DIGITS}]+(?:[，,、：:．.]|(?![次个批届位名季年天把时线书责部章条款步阶轮课期号项件份种类层级回场轮])(?=[\u4e00-\u9fff]))|[{CN_DIGITS}]+[、．.，,](?![{CN_DIGITS}]批)|[（(][{CN_DIGITS}]+[）)]"
    rf"|\d{{1,2}}[.．、](?!\d)|[（(]\d{{1,2}}[）)]|[{CN_DIGITS}]+是)"
)


def leading_mark(text: str) -> str:
    """The number a paragraph starts with (第一， 一、 （一） 1. （1） 一是), or ""."""
    m = _MARK.match(text)
    return m.group(1) if m else ""


def is_heading(p: Para) -> bool:
    """A heading: so marked, or a short numbered paragraph that holds no full stop."""
    if p.kind in ("title", "heading1", "heading2", "salutation"):
        return True
    return bool(leading_mark(p.text)) and "。" not in p.text and len(p.text) <= 60


def sentences(text: str) -> list[tuple[int, str]]:
    """(start, sentence) of each sentence of *text*, end punctuation included."""
    return [(m.start(), m.group(0)) for m in SENTENCE.finditer(text) if m.group(0).strip()]


def sentence_at(text: str, pos: int) -> str:
    """The sentence of *text* holding position *pos*."""
    for start, s in sentences(text):
        if start <= pos < start + len(s):
            return s
    return text


def cn_number(word: str) -> int:
    """一 → 1, 十二 → 12, 两 → 2, 3 → 3 (0 when it is not a number)."""
    if word.isdigit():
        return int(word)
    values = {c: i for i, c in enumerate("零一二三四五六七八九", 0)}
    values["两"] = 2
    if word == "十":
        return 10
    if "十" in word:
        tens, _, ones = word.partition("十")
        return (values.get(tens, 0) if tens else 1) * 10 + (values.get(ones, 0) if ones else 0)
    return values.get(word, 0) if len(word) == 1 else 0


def hit(p: Para, rule: str, text: str, message: str, suggestion: str = "") -> Finding:
    """A finding of *rule* on the words *text* of paragraph *p*."""
    return Finding(rule, p.line, text, message, suggestion, p.index)


from speechgen.lint import Finding  # noqa: E402  (the package defines it; rules import it from here)
