"""Render drafts' .docx with LibreOffice and check the PDF a writer would print.

Every example brief is composed, written as .docx and rendered; the PDF text must hold
every non-space character of the draft in order (nothing lost at line ends), full pages
22 lines of 28 characters, and page numbers odd right / even left. Skipped, with the
reason, when LibreOffice or poppler is not installed (CI installs both). Fonts named in
the layout are missing here; speechgen/data/fonts.conf maps them to Noto CJK (docs/word.md).
"""

from __future__ import annotations

import difflib
import math
import os
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT
from speechgen.draft import Draft, from_markdown
from speechgen.export.docx import write_docx
from speechgen.export.pdf import render
from speechgen.export.text import to_text

FIXTURES = ROOT / "tests" / "fixtures"
MM = 72 / 25.4  # points per millimetre
TOP, BOTTOM = 37 * MM, (297 - 35) * MM  # the text area
PITCH = 579 / 20  # the fixed line pitch, 28.95 pt
HANGING = "、，。；：！？”’）》"  # may hang in the margin after the 28th character

_missing = [
    name for name, tool in (("LibreOffice (soffice)", "soffice"), ("poppler (pdftotext)", "pdftotext"))
    if shutil.which(tool) is None
]  # fmt: skip
pytestmark = pytest.mark.skipif(
    bool(_missing) and not os.environ.get("CI"),
    reason=f"{' and '.join(_missing)} not installed — apt-get install libreoffice-writer poppler-utils",
)


@dataclass(frozen=True)
class Word:
    """A word of the PDF text with its box, in points from the top-left corner."""

    text: str
    x0: float
    y0: float
    x1: float


@dataclass(frozen=True)
class Rendered:
    draft: Draft
    pdf: Path
    pages: int


def rendered_pdf(draft: Draft, work: Path) -> Rendered:
    source = work / "讲话稿.docx"
    write_docx(draft, source)
    pdf = work / "讲话稿.pdf"
    pdf.write_bytes(render(source, work))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "A4" in info
    return Rendered(draft, pdf, int(re.search(r"Pages:\s+(\d+)", info)[1]))  # type: ignore[index]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    draft = from_markdown((FIXTURES / "draft.md").read_text(encoding="utf-8"), "draft.md")
    return rendered_pdf(draft, tmp_path_factory.mktemp("render"))


def composed(brief: Path) -> Draft:
    from speechgen.compose import compose_file, template_dirs
    from speechgen.paths import library_dirs

    return compose_file(brief, library_dirs([]), template_dirs(None), allow_blanks=True).draft


@pytest.fixture(scope="module", params=sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    return rendered_pdf(composed(EXAMPLES / request.param), tmp_path_factory.mktemp("example"))


def page_words(pdf: Path, page: int) -> list[Word]:
    args = ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"]
    html = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
    return [
        Word(text, float(x0), float(y0), float(x1))
        for x0, y0, x1, text in re.findall(pattern, html)
    ]


def text_lines(pdf: Path, page: int) -> list[Word]:
    """The lines of the text area, top to bottom (the words of one line joined)."""
    lines: dict[int, list[Word]] = {}
    for w in page_words(pdf, page):
        if w.y0 < BOTTOM:
            lines.setdefault(round(w.y0), []).append(w)
    return [
        Word("".join(w.text for w in ws), ws[0].x0, ws[0].y0, ws[-1].x1)
        for _, ws in sorted(lines.items())
    ]


def slot(word: Word) -> int:
    """Which of the page's 22 line positions the word's line sits in (0 = top)."""
    return math.floor((word.y0 - TOP) / PITCH)


def ems(text: str) -> float:
    """Width in characters of 16 pt: a Chinese character 1, a digit or Latin letter about ½."""
    return sum(1 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in text)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def lost_characters(want: str, got: str) -> list[str]:
    """What of *want* is not in *got*, in order (with a little context), by diffing."""
    ops = difflib.SequenceMatcher(None, want, got, autojunk=False).get_opcodes()
    return [f"{op}: …{want[max(0, a - 8):b + 8]}… → {got[c:d]!r}" for op, a, b, c, d in ops if op != "equal"]


# ------------------------------------------------------------------------------ the examples


def test_every_character_of_the_draft_is_printed_in_order(example: Rendered) -> None:
    want = squash(to_text(example.draft))
    got = "".join(w.text for page in range(1, example.pages + 1) for w in text_lines(example.pdf, page))
    assert len(want) > 1500
    assert lost_characters(want, squash(got)) == []
    assert squash(got) == want


def test_full_pages_have_22_lines_of_28_characters(example: Rendered) -> None:
    for page in range(1, example.pages):  # every page but the last is full
        lines = text_lines(example.pdf, page)
        slots = [slot(w) for w in lines]
        assert slots == sorted(set(slots)), page  # one line a slot, top to bottom
        # page 1 leaves one line empty under the byline (空一行); the others fill all 22
        assert len(slots) == (21 if page == 1 else 22) and slots[-1] == 21, (page, slots)
        for w in lines:
            body = w.text[:-1] if w.text[-1] in HANGING and ems(w.text) > 28 else w.text
            assert ems(body) <= 28, (page, w.text)
        assert max(ems(w.text) for w in lines) >= 27.5


def test_the_official_fonts_are_stood_in_for_by_their_free_faces(example: Rendered) -> None:
    """speechgen/data/fonts.conf in force: Song/Ming, Hei and Kai faces, not one fallback."""
    fonts = subprocess.run(["pdffonts", str(example.pdf)], capture_output=True, text=True, check=True).stdout
    assert "NotoSerifCJK" in fonts  # 仿宋_GB2312, 方正小标宋简体, 宋体
    assert "NotoSansCJK" in fonts  # 黑体 (the level-1 headings)
    assert "UKai" in fonts or not shutil.which("fc-list") or "UKai" not in subprocess.run(
        ["fc-list"], capture_output=True, text=True).stdout  # 楷体_GB2312 where installed


def test_page_numbers_odd_right_even_left_on_every_page(example: Rendered) -> None:
    for page in range(1, example.pages + 1):
        footer = [w for w in page_words(example.pdf, page) if w.y0 > BOTTOM]
        assert [w.text for w in footer] == ["—", str(page), "—"]
        if page % 2:
            assert abs((210 - 26) * MM - footer[-1].x1 - 14) < 2, page  # one character in from the right
        else:
            assert abs(footer[0].x0 - 28 * MM - 14) < 2, page  # one character in from the left


# ------------------------------------------------------------------------------ the fixture draft


def estimated_lines(draft: Draft) -> int:
    """Lines of a 28-character measure (title 20 at 22 pt), indent 2, byline and spacer."""
    lines = 0
    for block in draft.blocks:
        n = len(block.text)
        if block.kind == "title":
            lines += math.ceil(n / 20)
        elif block.kind == "salutation":
            lines += math.ceil(n / 28)
        else:
            lines += math.ceil((n + 2) / 28)
    return lines + sum(1 for x in (draft.speaker, draft.date_line) if x) + 1


def test_pdf_page_count_fits_the_text(rendered: Rendered) -> None:
    expected = math.ceil(estimated_lines(rendered.draft) / 22)
    assert rendered.draft.chars() > 4000
    # headings kept with the next line and widow control may push a line or two over
    assert expected <= rendered.pages <= expected + 1, (rendered.pages, expected)


def test_pdf_text_holds_title_byline_and_first_heading(rendered: Rendered) -> None:
    first = squash("".join(w.text for w in text_lines(rendered.pdf, 1)))
    draft = rendered.draft
    first_heading = next(b.text for b in draft.blocks if b.kind == "heading1")
    assert first.startswith(squash(draft.title))
    assert squash(draft.speaker + draft.date_line) in first
    assert first_heading == "一、认真学习铸忠魂"
    assert first.index(squash(draft.title)) < first.index("同志们：") < first.index(first_heading)


def test_lines_sit_on_the_fixed_pitch_and_fill_the_measure(rendered: Rendered) -> None:
    lines = text_lines(rendered.pdf, 2)
    pitches = {round(b.y0 - a.y0, 1) for a, b in zip(lines, lines[1:], strict=False)}
    assert pitches <= {28.9, 29.0}  # the fixed 28.95 pt line
    # a full line starts at the 28 mm margin and ends at the 26 mm one (a mark may hang)
    full = [w for w in lines if ems(w.text) >= 28 and "—" not in w.text]
    assert full
    for w in full:
        assert abs(w.x0 - 28 * MM) < 1.5
        limit = (210 - 26) * MM + (16 if w.text[-1] in HANGING and ems(w.text) > 28 else 0)
        assert limit - 4 < w.x1 < limit + 1


def test_first_line_of_a_paragraph_is_indented_two_characters(rendered: Rendered) -> None:
    starts = sorted({round(w.x0 - 28 * MM) for w in text_lines(rendered.pdf, 2)})
    assert starts == [0, 2 * 16]  # flush with the margin, or two 16 pt characters in


def test_page_number_sits_7_mm_under_the_text_area(rendered: Rendered) -> None:
    footer = [w for w in page_words(rendered.pdf, 1) if w.y0 > BOTTOM]
    assert 5 < (footer[0].y0 - BOTTOM) / MM < 9  # GB/T 9704: about 7 mm under the text area
