"""Render the example draft's .docx with LibreOffice and check the PDF a writer would print.

Skipped, with the reason, when LibreOffice or poppler is not installed. Fonts named in
the layout are missing here; tests/fixtures/fonts.conf maps them to Noto CJK (docs/word.md).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT
from speechgen.draft import Draft, from_markdown
from speechgen.export.docx import write_docx

FIXTURES = ROOT / "tests" / "fixtures"
MM = 72 / 25.4  # points per millimetre

pytestmark = [
    pytest.mark.skipif(
        shutil.which("soffice") is None,
        reason="LibreOffice (soffice) is not installed — apt-get install libreoffice-writer",
    ),
    pytest.mark.skipif(
        shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
        reason="poppler (pdftotext, pdfinfo) is not installed — apt-get install poppler-utils",
    ),
]


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


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    work = tmp_path_factory.mktemp("render")
    draft = from_markdown((FIXTURES / "draft.md").read_text(encoding="utf-8"), "draft.md")
    source = work / "讲话稿.docx"
    write_docx(draft, source)
    env = dict(os.environ, HOME=str(work / "home"), FONTCONFIG_FILE=str(FIXTURES / "fonts.conf"))
    cmd = [
        "soffice",
        f"-env:UserInstallation=file://{work / 'profile'}",
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(work),
        str(source),
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    pdf = work / "讲话稿.pdf"
    assert pdf.exists(), f"soffice made no PDF: {done.stdout} {done.stderr}"
    return Rendered(draft, pdf)


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return dict(
        (k.strip(), v.strip())
        for k, v in (ln.split(":", 1) for ln in out.stdout.splitlines() if ":" in ln)
    )


def page_text(pdf: Path, page: int) -> str:
    args = ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def page_words(pdf: Path, page: int) -> list[Word]:
    args = ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"]
    html = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>'
    return [
        Word(text, float(x0), float(y0), float(x1))
        for x0, y0, x1, text in re.findall(pattern, html)
    ]


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


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_pdf_is_a4_and_the_page_count_fits_the_text(rendered: Rendered) -> None:
    info = pdf_info(rendered.pdf)
    assert "A4" in info["Page size"]
    pages = int(info["Pages"])
    expected = math.ceil(estimated_lines(rendered.draft) / 22)
    assert rendered.draft.chars() > 4000
    # headings kept with the next line and widow control may push a line or two over
    assert expected <= pages <= expected + 1, (pages, expected)


def test_pdf_text_holds_title_byline_and_first_heading(rendered: Rendered) -> None:
    first = squash(page_text(rendered.pdf, 1))
    draft = rendered.draft
    first_heading = next(b.text for b in draft.blocks if b.kind == "heading1")
    assert first.startswith(squash(draft.title))
    assert squash(draft.speaker + draft.date_line) in first
    assert first_heading == "一、认真学习铸忠魂"
    assert first_heading in first
    assert first.index(squash(draft.title)) < first.index("同志们：") < first.index(first_heading)


def test_a_full_page_has_22_lines_of_at_most_28_characters(rendered: Rendered) -> None:
    words = page_words(rendered.pdf, 2)
    bottom_of_text = (297 - 35) * MM
    lines = [w for w in words if w.y0 < bottom_of_text]
    assert len({round(w.y0) for w in lines}) == len(lines) == 22
    pitches = {round(b.y0 - a.y0, 1) for a, b in zip(lines, lines[1:], strict=False)}
    assert pitches <= {28.9, 29.0}  # the fixed 28.95 pt line
    lengths = [len(w.text) for w in lines]
    assert max(lengths) == 28
    # a body line fills the measure: left and right margins 28 mm and 26 mm
    full = [w for w in lines if len(w.text) == 28]
    assert all(abs(w.x0 - 28 * MM) < 1.5 and abs(w.x1 - (210 - 26) * MM) < 3 for w in full)


def test_first_line_of_a_paragraph_is_indented_two_characters(rendered: Rendered) -> None:
    words = page_words(rendered.pdf, 2)
    starts = sorted({round(w.x0 - 28 * MM) for w in words if w.y0 < (297 - 35) * MM})
    assert starts == [0, 2 * 16]  # flush with the margin, or two 16 pt characters in


@pytest.mark.parametrize(("page", "side"), [(1, "right"), (2, "left")])
def test_page_number_odd_right_even_left(rendered: Rendered, page: int, side: str) -> None:
    words = page_words(rendered.pdf, page)
    footer = [w for w in words if w.y0 > (297 - 35) * MM]
    assert [w.text for w in footer] == ["—", str(page), "—"]
    top_gap_mm = (footer[0].y0 - (297 - 35) * MM) / MM
    assert 5 < top_gap_mm < 9  # GB/T 9704: about 7 mm under the text area
    if side == "right":
        assert abs((210 - 26) * MM - footer[-1].x1 - 14) < 2  # one character in from the right
    else:
        assert abs(footer[0].x0 - 28 * MM - 14) < 2  # one character in from the left
