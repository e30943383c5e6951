"""Raw bytes or text → clean text: decoding, junk removal, punctuation, joined lines.

The result keeps one paragraph per line. Every rule is a removal or a normalisation
that a second pass leaves alone, so :func:`clean_text` is idempotent (the property
tests hold it to that).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from speechgen.errors import IngestError
from speechgen.ingest.noise import strip_noise
from speechgen.userfiles import read_speech

#: Watermark sentences pasted into speeches by the sites they were copied from.
DEFAULT_JUNK: tuple[str, ...] = (
    r"文章系[^。，,\n]{0,40}原创发布[，,]?\s*侵权必究[。.！!]?",
    r"(本文|文章)(来源|转载)于?[^。\n]{0,40}(如有侵权|侵权删)[^。\n]{0,20}[。.]?",
    r"(关注|搜索)[^。\n]{0,20}(微信)?公众号[^。\n]{0,30}(获取|下载|领取)[^。\n]{0,20}[。.！!]?",
    r"更多(精彩|范文|材料)[^。\n]{0,30}(请|敬请)?关注[^。\n]{0,30}[。.！!]?",
)

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = "，。、；：？！“”‘’（）《》【】…—"
_CJKISH = f"[{_HAN}{_CJK_PUNCT}]"
_ENDS = "。！？；：…”’）》」』!?"

_PAID = re.compile(r"#{2}\s*paid(?:begin|end)\s*#{2}", re.IGNORECASE)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?/?>")
_DASH = r"\-—－–‐‑−"
# A page mark printed by a PDF: -1-, — 2 —, －3－ (not a range such as 2023-2024).
_PAGE = re.compile(rf"(?<![\dA-Za-z{_DASH}])[{_DASH}]{{1,2}}[ \t\u3000]*\d{{1,3}}[ \t\u3000]*[{_DASH}]{{1,2}}(?![\d{_DASH}])")
_PAGE_LINE = re.compile(rf"^[ \t\u3000]*(第\s*\d{{1,3}}\s*页|[{_DASH}]{{1,2}}\s*\d{{1,3}}\s*[{_DASH}]{{1,2}}|\d{{1,3}}\s*/\s*\d{{1,3}})[ \t\u3000]*$")
_COLLAPSE = re.compile(r"[ \t\u3000\u00a0\u200b\ufeff]+")
_SPACE_BETWEEN = re.compile(rf"(?<={_CJKISH})[ \t\u3000\u00a0]+(?={_CJKISH})")

# A brace from a source would be read as Jinja once in a fragment file (a pasted "{{ … }}"
# or "{%" breaks the library or, worse, runs): Chinese text writes them full-width anyway.
_BRACES = str.maketrans({"{": "｛", "}": "｝"})
_ASCII_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_PUNCT_AFTER_CJK = re.compile(rf"(?<={_CJKISH})[,;:?!]|[,;:?!](?={_CJKISH})")
_PERIOD = re.compile(rf"(?<=[{_HAN}”）》])\.(?=[{_HAN}“《（]|\d{{1,2}}[.．](?!\d)|$)", re.MULTILINE)
_PARENS = re.compile(r"\(([^()\n]{0,60})\)")
_ASCII_PUNCT = re.compile(r"[,;:?!]")
_DASH_DIGIT = re.compile(rf"[{_DASH}][ \t\u3000]*\d")


def decode(data: bytes, name: str) -> str:
    """Decode the bytes of a text file: UTF-8 (with or without BOM), GB18030/GBK, others.

    Raises:
        IngestError: the file is empty, binary, or in no encoding we can read.
    """
    if not data.strip():
        raise IngestError(f"{name}: empty file — nothing to ingest")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
            if _mostly_han(text):
                return text
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096] or _looks_binary(data):
        raise IngestError(f"{name}: binary file, not a speech — give a .txt or .docx")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "utf-8-sig" or _mostly_han(text):
            return text
    detected = _detect(data)
    if detected is None:
        raise IngestError(
            f"{name}: cannot decode the text (not UTF-8, GB18030 or another known encoding) "
            "— save it as UTF-8"
        )
    return detected


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return control > max(8, len(head) // 50)


def _mostly_han(text: str) -> bool:
    sample = text[:4000]
    han = sum(1 for ch in sample if "\u4e00" <= ch <= "\u9fff")
    odd = sum(1 for ch in sample if unicodedata.category(ch) in ("Co", "Cn", "Cs") or ch == "\ufffd")
    return han > 0 and han >= odd * 4


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.chaos > 0.3:
        return None
    text = str(best)
    return text if _mostly_han(text) else None


def read_source(path: Path, name: str | None = None) -> str:
    """The raw text of a .txt or .docx speech (not yet cleaned).

    Raises:
        IngestError: the file cannot be read or decoded.
    """
    shown = name or str(path)
    try:
        data = read_speech(path, shown)  # a regular file of sane size; a .docx no zip bomb
    except OSError as exc:
        raise IngestError(f"{shown}: cannot read ({exc.strerror})") from None
    if path.suffix.lower() == ".docx":
        return read_docx(data, shown)
    return decode(data, shown)


def read_docx(data: bytes, name: str) -> str:
    """The paragraphs of a .docx file, one per line (tables row by row).

    Raises:
        IngestError: empty or not a Word file.
    """
    import io
    import zipfile
    import zlib

    if not data.strip():
        raise IngestError(f"{name}: empty file — nothing to ingest")
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
        from lxml.etree import XMLSyntaxError

        document = docx.Document(io.BytesIO(data))
    except (  # every way a damaged zip or its XML shows up (fuzzed in tests/test_errors.py)
        zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, XMLSyntaxError,
        zlib.error, EOFError, NotImplementedError, AttributeError, TypeError,
    ):
        raise IngestError(
            f"{name}: not a valid .docx (corrupt or not a Word file) — re-save it from Word"
        ) from None
    lines = _numbered_headings(document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            lines.append(" ".join(cell.text for cell in row.cells))
    text = "\n".join(lines)
    if not text.strip():
        raise IngestError(f"{name}: empty file — nothing to ingest")
    return text


_NUMBERED = re.compile(r"^\s*(第[一二三四五六七八九十]+[，,、点]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]|\d+[．.、])")
_HEADING_STYLE = re.compile(r"^(heading|标题)\s*1$", re.IGNORECASE)


def _numbered_headings(paragraphs: Any) -> list[str]:
    """Paragraph texts, with Word headings that carry no number of their own numbered 第一，….

    In a .docx the points are often marked by a heading style or by bold alone, with the
    number left to Word's list numbering (which is not in the text). Such a heading gets
    the number the segmenter looks for, so the speech is read like a typed one.
    """
    from speechgen.numerals import chinese

    lines: list[str] = []
    n = 0
    for p in paragraphs:
        text = p.text
        if lines and any(x.strip() for x in lines) and _is_heading(p) and not _NUMBERED.match(text):
            n += 1
            text = f"第{chinese(n)}，{text.strip()}"
        lines.append(text)
    return lines


def _is_heading(p: Any) -> bool:
    """A level-1 heading style, or a short paragraph that is bold throughout."""
    text = p.text.strip()
    if not text or len(text) > 60 or text.endswith(("：", ":")):
        return False
    style = p.style
    if style is not None and _HEADING_STYLE.match(style.name or ""):
        return True
    runs = [r for r in p.runs if r.text.strip()]
    style_bold = bool(style is not None and style.font.bold)
    return bool(runs) and all(r.bold or (r.bold is None and style_bold) for r in runs)


# --------------------------------------------------------------------------- cleaning


def compile_junk(patterns: Iterable[str] = ()) -> list[re.Pattern[str]]:
    """The default watermark patterns plus the user's (regular expressions)."""
    return [re.compile(p) for p in (*DEFAULT_JUNK, *patterns)]


def clean_text(
    text: str,
    junk: Iterable[re.Pattern[str]] | None = None,
    *,
    removed: list[tuple[str, str]] | None = None,
    join_wraps: bool = True,
) -> str:
    """Clean raw speech text: one paragraph per line, no junk, full-width punctuation.

    Args:
        text: the decoded text of a source.
        junk: watermark patterns (see :func:`compile_junk`); the defaults when None.
        removed: when given, every piece of noise removed is appended as (text, reason).
        join_wraps: join lines hard-wrapped at a fixed width (never for .docx paragraphs).

    Returns:
        The clean text, lines joined by ``\\n``, no empty lines, no trailing newline.
    """
    patterns = list(junk) if junk is not None else compile_junk()
    log: list[tuple[str, str]] = []
    for _ in range(6):  # each pass can only remove or normalise; stop at the fixed point
        new = _pass(text, patterns, log, join_wraps)
        if new == text:
            break
        text = new
    if removed is not None:
        removed.extend(dict.fromkeys(log))
    return text


# Runs of U+3000 or of several spaces inside a line: where a web page had its paragraphs.
# (not after a lone numeral: 一　　重工业 is a heading with a wide gap)
# A gap starts right after two characters that are not space; that lookbehind, tried by re at
# every character, made this the slowest pattern of cleaning, so :func:`_para_gaps` checks it
# for each gap found instead (the same replacements: tests/ingest/test_clean.py).
_PARA_GAP = re.compile(r"[ \t\u00a0]*(?:\u3000{2,}|[ \u00a0]{3,}|\u3000[ \u00a0]{2,})[ \t\u3000\u00a0]*(?=[^\s])")


def _para_gaps(text: str) -> str:
    """Each paragraph gap (after two characters that are not space) as a line break."""

    def gap(m: re.Match[str]) -> str:
        s = m.start()
        return "\n" if s >= 2 and not text[s - 1].isspace() and not text[s - 2].isspace() else m.group(0)

    return _PARA_GAP.sub(gap, text)


def _pass(text: str, junk: list[re.Pattern[str]], log: list[tuple[str, str]], join_wraps: bool) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\ufeff", "").replace("\u200b", "").replace("\x00", "")
    if "{" in text or "}" in text:
        text = text.translate(_BRACES)
    text = _PAID.sub("", text)
    if "<" in text:
        text = _TAG.sub("", text)
    if "&" in text:
        text = html.unescape(text)
    for pat in junk:
        if pat.pattern in DEFAULT_JUNK:
            log.extend((m.group(0), "watermark") for m in pat.finditer(text) if m.group(0))
            text = pat.sub("", text)
    text = _para_gaps(text)
    text = _drop_page_marks(text)
    user = [p for p in junk if p.pattern not in DEFAULT_JUNK]
    lines = strip_noise(text.split("\n"), user, log)
    lines = [_COLLAPSE.sub(" ", ln).strip() for ln in lines]
    log.extend((ln, "PDF page mark") for ln in lines if ln and _PAGE_LINE.match(ln))
    lines = [ln for ln in lines if ln and not _PAGE_LINE.match(ln)]
    lines = [_punct(ln) for ln in lines]
    return "\n".join(_join_wrapped(lines) if join_wraps else lines)


def _drop_page_marks(text: str) -> str:
    if not _DASH_DIGIT.search(text):  # both patterns need one; their lookbehinds make a full scan slow
        return text
    # A mark on its own line between two halves of a sentence joins them (清正\n-2-\n廉洁).
    text = re.sub(
        rf"(?<=[^{_ENDS}\n])[ \t]*\n[ \t\u3000]*[{_DASH}]{{1,2}}[ \t\u3000]*\d{{1,3}}[ \t\u3000]*[{_DASH}]{{1,2}}[ \t\u3000]*\n(?=[{_HAN}])",
        "",
        text,
    )
    return _PAGE.sub("", text)


def _punct(line: str) -> str:
    # each rule runs only where its character occurs: scanning for a lookbehind is slow
    if " " in line or "\t" in line or "\u3000" in line or "\u00a0" in line:
        line = _SPACE_BETWEEN.sub("", line)
    if _ASCII_PUNCT.search(line):
        line = _PUNCT_AFTER_CJK.sub(lambda m: _ASCII_TO_FULL[m.group(0)], line)
    if "." in line:
        line = _PERIOD.sub("。", line)
    return _PARENS.sub(_paren, line) if "(" in line else line


def _paren(m: re.Match[str]) -> str:
    inner = m.group(1)
    before = m.string[m.start() - 1 : m.start()]
    after = m.string[m.end() : m.end() + 1]
    if re.search(f"[{_HAN}]", inner + before + after):
        return f"（{inner}）"
    return m.group(0)


# --------------------------------------------------------------------------- hard wraps


def _join_wrapped(lines: list[str]) -> list[str]:
    """Join lines a PDF or e-mail wrapped mid-sentence back into paragraphs."""
    width = _wrap_width(lines)
    out: list[str] = []
    prev = ""  # the last line as it came, before joining
    for ln in lines:
        if out and _continues(prev, ln, width):
            out[-1] += ln
        else:
            out.append(ln)
        prev = ln
    return out


def _wrap_width(lines: list[str]) -> int:
    """The width text was wrapped at, or 0 when the lines are whole paragraphs."""
    # a wrapped line ends mid-sentence: lines that end a sentence say nothing about a width
    lengths = [len(ln) for ln in lines if len(ln) >= 16 and not ln.endswith(tuple(_ENDS))]
    if len(lengths) < 3:
        return 0
    counts = Counter(lengths)
    # the width is the length most lines share (±1: a half-width character shifts a wrap)
    width = max(counts, key=lambda w: (sum(c for n, c in counts.items() if w - 1 <= n <= w), w))
    near = sum(c for n, c in counts.items() if width - 1 <= n <= width)
    return width if near >= max(3, len(lengths) // 3) else 0


def _continues(prev: str, line: str, width: int) -> bool:
    """Whether *line* continues *prev*: only where the text was evidently wrapped.

    Never after a sentence end or a heading, never before a heading; a line cut inside
    a quotation or title mark (“ 《 （) is unfinished whatever the width.
    """
    if prev.endswith(tuple(_ENDS)) or _starts_structure(line) or _starts_structure(prev) and len(prev) < width - 2:
        return False
    if prev.endswith(("“", "《", "（")):
        return True
    return bool(width) and width - 2 <= len(prev) <= width + 1


def _starts_structure(line: str) -> bool:
    return bool(
        re.match(
            r"(第[一二三四五六七八九十]+[，、,点个]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|\d{1,2}[．、]"
            r"|首先[，,]|其次[，,]|再次[，,]|最后[，,]|同志们|各位|总之[，,])",
            line,
        )
    )
