"""The one document model of a draft, and its Markdown dialect (read and write).

Every exporter (.md, .txt, .docx) writes from a :class:`Draft`; a hand-edited
Markdown draft is read back into one, so it can be exported again.

The Markdown dialect (docs/draft-format.md):

* optional front matter between ``---`` lines: ``speaker``, ``date`` (YYYY-MM-DD or
  already written as 2024年3月15日), and any other metadata;
* ``# title`` — the title (one);
* ``## heading`` — a level-1 heading, numbered already (第一，… / 一、…);
* ``### heading`` — a level-2 heading (（一）…);
* other paragraphs, separated by blank lines; ``**lead**`` marks a bold run
  (the 一是… lead of a sub-point); ``【…】`` is a blank the writer still has to fill.
* a first paragraph that ends with ``：`` and is short (同志们：) is the salutation.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from speechgen.errors import BAD_CHARS, SpeechgenError, bad_char

BlockKind = Literal["title", "salutation", "heading1", "heading2", "paragraph"]
SpanStyle = Literal["plain", "bold", "mark"]

#: A blank or unfilled slot as it shows in a draft: 【＿＿】, 【市名】, 【数量：＿＿】.
MARK_RE = re.compile(r"【[^【】\n]{1,40}】")
_BOLD_RE = re.compile(r"\*\*(.+?)\*\*")
_SALUTATION_MAX = 40


@dataclass(frozen=True)
class Span:
    """A run of text in one style."""

    text: str
    style: SpanStyle = "plain"


@dataclass(frozen=True)
class Block:
    """A paragraph-level element of the draft."""

    kind: BlockKind
    spans: tuple[Span, ...]
    #: provenance: the id of the fragment this block was composed from ("" when none)
    source: str = ""
    #: lint rules silenced on this block (``<!-- lint: ignore level -->`` before it)
    ignore: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The plain text of the block."""
        return "".join(s.text for s in self.spans)


@dataclass(frozen=True)
class Note:
    """A remark on some words of one block: a lint finding, shown as a Word comment.

    *block* is the index in :attr:`Draft.blocks`; *text* the words exactly as they stand
    in that block's text (the comment's anchor); *message* what the writer reads.
    """

    block: int
    text: str
    message: str
    rule: str = ""
    author: str = "speechgen"


@dataclass(frozen=True)
class Draft:
    """A speech draft: title, byline metadata and blocks in reading order."""

    title: str
    blocks: tuple[Block, ...]
    speaker: str = ""
    date: dt.date | None = None
    date_text: str = ""  # the date as written when it is not a full date (2019年9月)
    meta: dict[str, str] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()
    #: the words a search should find the speech by (Word's keywords, after the meeting):
    #: compose takes them from its fragments' tags; None for a draft read from Markdown,
    #: whose keywords the Word export finds in the text. Derived, so not compared.
    keywords: tuple[str, ...] | None = field(default=None, compare=False)
    #: fragment id → the source file it was ingested from (``<!-- fragment: ID (FILE) -->``)
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def date_line(self) -> str:
        """（2024年3月15日）: Arabic digits, no leading zeros; empty without a date."""
        if self.date is not None:
            d = self.date
            return f"（{d.year}年{d.month}月{d.day}日）"
        return f"（{self.date_text}）" if self.date_text else ""

    @property
    def body(self) -> tuple[Block, ...]:
        """Every block but the title."""
        return tuple(b for b in self.blocks if b.kind != "title")

    def marks(self) -> list[tuple[int, str]]:
        """(block index, mark) of every blank still in the draft."""
        return [(i, m.group(0)) for i, b in enumerate(self.blocks) for m in MARK_RE.finditer(b.text)]

    def chars(self) -> int:
        """Characters of the speech (title and body), white space not counted."""
        return sum(1 for b in self.blocks for ch in b.text if not ch.isspace())


def spans_of(text: str) -> tuple[Span, ...]:
    """Split inline Markdown (``**bold**``, ``【mark】``) into spans."""
    out: list[Span] = []
    pos = 0
    for m in _BOLD_RE.finditer(text):
        out += _marked(text[pos : m.start()], "plain")
        out += _marked(m.group(1), "bold")
        pos = m.end()
    out += _marked(text[pos:], "plain")
    return tuple(s for s in out if s.text)


def _marked(text: str, style: SpanStyle) -> list[Span]:
    out: list[Span] = []
    pos = 0
    for m in MARK_RE.finditer(text):
        out.append(Span(text[pos : m.start()], style))
        out.append(Span(m.group(0), "mark"))
        pos = m.end()
    out.append(Span(text[pos:], style))
    return out


def paragraph(text: str, kind: BlockKind = "paragraph") -> Block:
    """A block from inline-Markdown text."""
    return Block(kind, spans_of(text))


# --------------------------------------------------------------------------- Markdown


def to_markdown(draft: Draft) -> str:
    """The draft in the Markdown dialect (what ``compose -o x.md`` writes).

    A block composed from a fragment is preceded by ``<!-- fragment: ID (FILE) -->`` where
    its source changes (FILE: the speech it was ingested from, when known;
    ``<!-- fragment: -->`` where the text is the template's own), so ``speechgen lint``
    reads the provenance back.
    """
    return "\n".join(markdown_lines(draft)[0]).rstrip("\n") + "\n"


def markdown_lines(draft: Draft) -> tuple[list[str], list[int]]:
    """The lines of :func:`to_markdown` and the 1-based line of each block."""
    lines: list[str] = []
    meta = {}
    if draft.speaker:
        meta["speaker"] = draft.speaker
    if draft.date is not None:
        meta["date"] = draft.date.isoformat()
    elif draft.date_text:
        meta["date"] = draft.date_text
    meta.update(draft.meta)
    if meta:
        lines.append("---")
        lines += [f"{k}: {_yaml_scalar(v)}" for k, v in meta.items()]
        lines += ["---", ""]
    prefix = {"title": "# ", "heading1": "## ", "heading2": "### "}
    at: list[int] = []
    source = ""
    for block in draft.blocks:
        if block.source != source:
            origin = f" ({draft.origins[block.source]})" if draft.origins.get(block.source) else ""
            lines += [f"<!-- fragment: {block.source}{origin} -->" if block.source else "<!-- fragment: -->", ""]
            source = block.source
        if block.ignore:
            lines += [f"<!-- lint: ignore {' '.join(block.ignore)} -->", ""]
        text = "".join(f"**{s.text}**" if s.style == "bold" else s.text for s in block.spans)
        at.append(len(lines) + 1)
        lines += [prefix.get(block.kind, "") + text, ""]
    return lines, at


def _yaml_scalar(value: str) -> str:
    if re.fullmatch(r"[\w\u4e00-\u9fff年月日（）()\-.、 ]+", value) and not value.isdigit():
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def from_markdown(text: str, name: str = "draft.md") -> Draft:
    """Read a draft written in the Markdown dialect (hand edits welcome)."""
    return read_markdown(text, name)[0]


_COMMENT = re.compile(r"<!--\s*(fragment|lint):?\s*(.*?)\s*-->")


def read_markdown(text: str, name: str = "draft.md") -> tuple[Draft, list[int]]:
    """Like :func:`from_markdown`, also giving the 1-based line of each block.

    ``<!-- fragment: ID -->`` sets the provenance of the blocks after it;
    ``<!-- lint: ignore RULE … -->`` silences those rules on the next block.
    """
    bad = BAD_CHARS.search(text)
    if bad:  # a NUL or ESC breaks the Word writer, a lone surrogate every writer
        line = text.count("\n", 0, bad.start()) + 1
        raise SpeechgenError(f"{name}:{line}: {bad_char(bad.group(0))}")
    meta, body, offset = _front_matter(text, name)
    title = ""
    blocks: list[Block] = []
    lines: list[int] = []
    source = ""
    origins: dict[str, str] = {}
    ignore: tuple[str, ...] = ()
    for line_no, para in _paragraphs(body, offset):
        comment = _COMMENT.fullmatch(para)
        if comment:
            if comment.group(1) == "fragment":
                source, _, origin = comment.group(2).partition(" (")
                if source and origin.endswith(")"):
                    origins[source] = origin[:-1]
            elif comment.group(2).startswith("ignore"):
                ignore = tuple(comment.group(2).split()[1:]) or ("all",)
            continue
        if para.startswith("# "):
            if title:
                raise SpeechgenError(
                    f"{name}:{line_no}: a second '# ' title — a draft has one title; "
                    "use '## ' for a heading"
                )
            title = para[2:].strip()
            block = paragraph(title, "title")
        elif para.startswith("### "):
            block = paragraph(para[4:].strip(), "heading2")
        elif para.startswith("## "):
            block = paragraph(para[3:].strip(), "heading1")
        else:
            block = paragraph(para, "salutation" if _is_salutation(para, blocks) else "paragraph")
        blocks.append(Block(block.kind, block.spans, source, ignore))
        lines.append(line_no)
        ignore = ()
    if not title:
        raise SpeechgenError(f"{name}: no title — the draft needs a line '# 标题'")
    date, date_text = _date(meta.pop("date", ""), name)
    speaker = meta.pop("speaker", "")
    return Draft(title, tuple(blocks), speaker, date, date_text, meta, origins=origins), lines


def _is_salutation(para: str, blocks: list[Block]) -> bool:
    before = [b for b in blocks if b.kind != "title"]
    return not before and para.endswith("：") and len(para) <= _SALUTATION_MAX


def _front_matter(text: str, name: str) -> tuple[dict[str, str], str, int]:
    text = text.lstrip("\ufeff")
    if not text.startswith("---\n"):
        return {}, text, 0
    end = text.find("\n---", 4)
    if end < 0:
        raise SpeechgenError(f"{name}:1: front matter opened with '---' is never closed — add a '---' line")
    from speechgen.userfiles import parse_yaml

    # The leading line break keeps YAML's line numbers equal to the file's.
    data = parse_yaml("\n" + text[4:end], name) or {}
    if not isinstance(data, dict):
        raise SpeechgenError(f"{name}:2: front matter must be 'key: value' lines")
    for key, value in data.items():
        if isinstance(value, (list, dict)):
            raise SpeechgenError(
                f"{name}: front matter '{key}' must be text, not a list or mapping — "
                f"write it as '{key}: …' on one line"
            )
    rest = text[end + 4 :]
    offset = text[: end + 4].count("\n")
    return {str(k): str(v) for k, v in data.items()}, rest, offset


def _paragraphs(body: str, offset: int) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for no, line in enumerate(body.split("\n"), offset + 1):
        stripped = line.strip()
        if not stripped:
            if buf:
                out.append((start, "".join(buf)))
                buf = []
            continue
        if (stripped.startswith("#") or stripped.startswith("<!--")) and buf:
            out.append((start, "".join(buf)))
            buf = []
        if not buf:
            start = no
        buf.append(stripped)
        if stripped.startswith("#") or (stripped.startswith("<!--") and stripped.endswith("-->")):
            out.append((start, "".join(buf)))
            buf = []
    if buf:
        out.append((start, "".join(buf)))
    return out


def _date(value: str, name: str) -> tuple[dt.date | None, str]:
    value = value.strip().strip("（）()")
    if not value:
        return None, ""
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", value)
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3])), ""
        except ValueError:
            raise SpeechgenError(f"{name}: date '{value}' is not a real date — write it as YYYY-MM-DD") from None
    return None, value


# --------------------------------------------------------------------------- provenance in Word

#: Custom document property names of a .docx's provenance: ``speechgen 1``, ``speechgen 2``, …
PROVENANCE_PROPERTY = "speechgen "
#: … and of the front matter: ``speechgen:date``, ``speechgen:本级``…
META_PROPERTY = "speechgen:"
CUSTOM_PROPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
CUSTOM_PROPS_RELTYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"


def provenance_runs(draft: Draft) -> list[tuple[str, str, int, str]]:
    """(fragment id, source file, paragraphs, first words) of each run of blocks composed
    from one fragment, in reading order: what a .docx records in its custom properties."""
    runs: list[tuple[str, str, int, str]] = []
    for block in draft.body:
        if runs and block.source == runs[-1][0]:
            fid, origin, n, first = runs[-1]
            runs[-1] = (fid, origin, n + 1, first)
        else:
            runs.append((block.source, draft.origins.get(block.source, ""), 1, block.text[:PREFIX]))
    return [r for r in runs if r[0]]


PREFIX = 16  # characters of a run's first paragraph kept to find it again in an edited .docx


def provenance_value(run: tuple[str, str, int, str]) -> str:
    """``s000.point.1; 000_6e77d68632e4004c.txt; 5; 一、认真学习领会大会精神和`` (first words last)."""
    fid, origin, n, first = run
    return f"{fid}; {origin}; {n}; {first}"


def parse_provenance(value: str) -> tuple[str, str, int, str] | None:
    """The run a property value records, or None when it is not one of ours."""
    parts = value.split("; ", 3)
    if len(parts) != 4 or not parts[0] or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2]), parts[3]


def attach_provenance(blocks: list[Block], runs: list[tuple[str, str, int, str]]) -> list[Block]:
    """*blocks* read from a .docx with the fragment of each run set as their source: a run
    starts at the next block whose text begins with its first words (paragraphs added or
    deleted before it do not matter) and covers as many blocks as it had."""
    from dataclasses import replace

    out = list(blocks)
    at = 0
    for fid, _, n, first in runs:
        start = next((i for i in range(at, len(out)) if out[i].text.startswith(first)), None)
        if start is None:
            continue  # the writer rewrote its first paragraph: provenance unknown from here
        for i in range(start, min(start + n, len(out))):
            out[i] = replace(out[i], source=fid)
        at = start + n
    return out
