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
        assert styles[kind].style_id == document.styles[role.style].style_id, kind
    blank = docx.Document()  # python-docx's own names, "Heading 1" → heading 1 included
    roles = {"h": lay.Role("Heading 1", "黑体", 16, "left"), "n": lay.Role("Normal", "宋体", 16, "left")}
    found = _role_styles(blank, roles)
    assert [found[k]._element for k in roles] == [blank.styles[r.style]._element for r in roles.values()]
    with pytest.raises(KeyError):
        _role_styles(blank, {"x": lay.Role("no such style", "宋体", 16, "left")})


def _parts(path: object) -> dict[str, bytes]:
    from conftest import docx_parts

    return docx_parts(path)  # type: ignore[arg-type]


def _drafts() -> list[object]:
    from conftest import ROOT

    from speechgen.draft import Draft, Note, from_markdown

    fixture = ROOT / "tests" / "fixtures" / "draft.md"
    base = from_markdown(fixture.read_text(encoding="utf-8"), fixture.name)
    notes = (Note(2, base.blocks[2].text[:4], "会议名称要写全", "name"), Note(99, "", "挂在标题上", author="审稿人"))
    return [base, Draft(base.title, base.blocks, base.speaker, base.date, notes=notes)]


def test_the_base_with_its_styles_unread_writes_the_same_document(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The styles part left unparsed (saved as read), role styles and the font table from the
    facts kept with the base: every part is the one python-docx's full reading gives."""
    from pathlib import Path

    from speechgen.export import docx as wd

    out = Path(str(tmp_path))
    for n, draft in enumerate(_drafts()):
        wd._BASE.clear()
        wd.write_docx(draft, out / f"lazy{n}.docx")  # type: ignore[arg-type]
        assert wd._BASE[0][1] is not None  # the facts were kept: the lazy way was taken
        document, styles = wd._styled_base()
        assert type(wd._styles_part(document)).__name__ == "_LazyStyles"
        with monkeypatch.context() as m:
            m.setattr(wd, "_open_lazy", lambda data: None)  # python-docx's own reading of the base
            wd.write_docx(draft, out / f"read{n}.docx")  # type: ignore[arg-type]
        assert _parts(out / f"lazy{n}.docx") == _parts(out / f"read{n}.docx")


def test_font_table_from_the_facts_is_the_font_table_read_from_the_styles() -> None:
    from speechgen.export import docx as wd
    from speechgen.export import docx_layout as lay

    document, _styles = wd._styled_base()
    facts = wd._BASE[0][1]
    assert facts is not None
    styles = wd._styles_part(document).element  # read: now both ways can run on it
    assert lay.style_fonts(styles) == facts["styles"]
    for used in ([], ["讲话标题"], ["Heading1", "讲话署名"], ["no-such-style"]):
        for sid in used:
            p = document.add_paragraph()
            p._p.style = sid
        roots = [lay._fonts_in(root) for root in lay._font_roots(document)]
        assert [n for names in roots for n in names] == [n for names in lay._fonts_with(document, facts["styles"])
                                                           for n in names]


def test_a_python_docx_built_otherwise_reads_the_base_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from speechgen.export import docx as wd

    wd._styled_base()
    data = wd._BASE[0][0]
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "docx.package", None)  # what _open_lazy imports of python-docx's insides, gone
        assert wd._open_lazy(data) is None
        wd._BASE.clear()
        document, styles = wd._styled_base()
        assert styles["title"].style_id == "讲话标题"
        assert type(wd._styles_part(document)).__name__ == "StylesPart"
    with monkeypatch.context() as m:
        m.setattr(wd, "_lazy_class", lambda: type("Broken", (), {}))  # a part python-docx cannot use
        assert wd._open_lazy(data) is None
