"""Runs written by ``speechgen.export.docx.add_run`` are the XML python-docx's ``add_run`` writes."""

from __future__ import annotations

import random

import docx
import pytest
from docx.enum.text import WD_COLOR_INDEX
from lxml import etree

from speechgen.export.docx import add_run

PIECES = ["讲话", "调查研究", " ", "  ", "\u3000", "\t", "\n", "\r", "\r\n", "a", "【＿＿】", "x y", "\xa0", "\u2028", ""]


def _python_docx(paragraph: object, text: str, style: str) -> None:
    run = paragraph.add_run(text)  # type: ignore[attr-defined]
    if style == "bold":
        run.bold = True
    elif style == "mark":
        run.font.highlight_color = WD_COLOR_INDEX.YELLOW


@pytest.mark.parametrize("seed", range(5))
def test_runs_are_python_docx_runs(seed: int) -> None:
    rng = random.Random(seed)
    document = docx.Document()
    for _ in range(60):
        spans = [("".join(rng.choice(PIECES) for _ in range(rng.randint(0, 6))), rng.choice(["", "bold", "mark"]))
                 for _ in range(rng.randint(0, 5))]
        ours, theirs = document.add_paragraph(), document.add_paragraph()
        for p in (ours, theirs):
            p._p.style = "Normal"
        for text, style in spans:
            add_run(ours._p, text, style)
            _python_docx(theirs, text, style)
        assert etree.tostring(ours._p) == etree.tostring(theirs._p), spans
        assert [(r.text, r.bold, r.font.highlight_color) for r in ours.runs] == [
            (r.text, r.bold, r.font.highlight_color) for r in theirs.runs]


def test_text_xml_cannot_hold_fails_as_in_python_docx() -> None:
    document = docx.Document()
    with pytest.raises(ValueError):
        _python_docx(document.add_paragraph(), "a\x0bb", "")
    with pytest.raises(ValueError):
        add_run(document.add_paragraph()._p, "a\x0bb")


def test_role_styles_are_python_docx_lookups_by_name() -> None:
    from speechgen.export import docx_layout as lay
    from speechgen.export.docx import _role_styles, _styled_base

    document, styles = _styled_base()
    for kind, role in lay.ROLES.items():
        theirs = document.styles[role.style]
        assert styles[kind]._element is theirs._element and type(styles[kind]) is type(theirs), kind
    blank = docx.Document()  # python-docx's own names, "Heading 1" → heading 1 included
    roles = {"h": lay.Role("Heading 1", "黑体", 16, "left"), "n": lay.Role("Normal", "宋体", 16, "left")}
    found = _role_styles(blank, roles)
    assert [found[k]._element for k in roles] == [blank.styles[r.style]._element for r in roles.values()]
    with pytest.raises(KeyError):
        _role_styles(blank, {"x": lay.Role("no such style", "宋体", 16, "left")})
