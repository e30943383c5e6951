"""Word export: the .docx is read back (python-docx and the XML) and checked against the layout."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_COLOR_INDEX
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from conftest import ROOT
from speechgen.draft import MARK_RE, Block, Draft, Span, from_markdown, paragraph
from speechgen.errors import OutputError
from speechgen.export import export
from speechgen.export.docx import write_docx

FIXTURE = ROOT / "tests" / "fixtures" / "draft.md"
THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


def small_draft() -> Draft:
    """A draft with every block kind, a bold lead and blanks, built without Markdown."""
    blocks = (
        paragraph("在【市名】第二批主题教育推进会上的讲话", "title"),
        paragraph("同志们：", "salutation"),
        Block(
            "paragraph",
            (Span("今天，我们召开"), Span("【数量：＿＿】", "mark"), Span("次会议。")),
        ),
        paragraph("一、认真学习铸忠魂", "heading1"),
        paragraph("**一是坚定理想信念。**理想信念是中国共产党人的精神支柱和政治灵魂。"),
        paragraph("（一）真情为民办实事", "heading2"),
        paragraph("这次主题教育的一个重要任务就是加强调查研究，解决实际问题。"),
    )
    return Draft("在【市名】第二批主题教育推进会上的讲话", blocks, "张建国", dt.date(2023, 9, 26))


def write(tmp_path: Path, draft: Draft, name: str = "讲话稿.docx", **kw: object) -> Path:
    out = tmp_path / name
    write_docx(draft, out, **kw)  # type: ignore[arg-type]
    return out


def opened(path: Path):  # type: ignore[no-untyped-def]
    return docx.Document(str(path))


def rpr_of(style) -> object:  # type: ignore[no-untyped-def]
    return style.element.find(qn("w:rPr"))


def attr(el: object, tag: str, name: str) -> str | None:
    child = el.find(qn(tag))  # type: ignore[attr-defined]
    return None if child is None else child.get(qn(name))


# ------------------------------------------------------------------------------ page


def test_page_is_a4_portrait_with_manuscript_margins(tmp_path: Path) -> None:
    section = opened(write(tmp_path, small_draft())).sections[0]
    expected = {
        "page_width": 210,
        "page_height": 297,
        "top_margin": 37,
        "bottom_margin": 35,
        "left_margin": 28,
        "right_margin": 26,
    }
    for name, mm in expected.items():
        assert abs(getattr(section, name) - Mm(mm)) < Mm(0.1), name
    assert len(opened(write(tmp_path, small_draft())).sections) == 1


def test_line_grid_of_22_lines(tmp_path: Path) -> None:
    section = opened(write(tmp_path, small_draft())).sections[0]
    grid = section._sectPr.find(qn("w:docGrid"))
    assert grid.get(qn("w:type")) == "lines"
    assert grid.get(qn("w:linePitch")) == "579"
    text_height_pt = (297 - 37 - 35) / 25.4 * 72
    assert int(text_height_pt // (579 / 20)) == 22


# ------------------------------------------------------------------------------ styles

ROLE_LAYOUT = [
    # style, font, half-points, w:jc, firstLineChars, firstLine twips, exact line spacing
    ("讲话标题", "方正小标宋简体", "44", "center", "0", "0", True),
    ("讲话署名", "楷体_GB2312", "32", "center", "0", "0", True),
    ("讲话称呼", "仿宋_GB2312", "32", "both", "0", "0", True),
    ("讲话正文", "仿宋_GB2312", "32", "both", "200", "640", True),
    ("Heading 1", "黑体", "32", "both", "200", "640", True),
    ("Heading 2", "楷体_GB2312", "32", "both", "200", "640", True),
    ("讲话页码", "宋体", "28", "right", "0", "0", False),
]


@pytest.mark.parametrize(("name", "font", "size", "jc", "chars", "twips", "exact"), ROLE_LAYOUT)
def test_role_styles(
    tmp_path: Path, name: str, font: str, size: str, jc: str, chars: str, twips: str, exact: bool
) -> None:
    style = opened(write(tmp_path, small_draft())).styles[name]
    rpr = rpr_of(style)
    fonts = rpr.find(qn("w:rFonts"))
    for script in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        assert fonts.get(qn(script)) == font, script
    assert not [a for a in THEME_ATTRS if fonts.get(qn(a)) is not None]
    assert attr(rpr, "w:sz", "w:val") == size
    assert attr(rpr, "w:szCs", "w:val") == size
    assert attr(rpr, "w:lang", "w:eastAsia") == "zh-CN"
    ppr = style.element.find(qn("w:pPr"))
    assert attr(ppr, "w:jc", "w:val") == jc
    assert attr(ppr, "w:ind", "w:firstLineChars") == chars
    assert attr(ppr, "w:ind", "w:firstLine") == twips
    assert style.paragraph_format.space_before == 0
    assert style.paragraph_format.space_after == 0
    if exact:
        assert attr(ppr, "w:spacing", "w:line") == "579"
        assert attr(ppr, "w:spacing", "w:lineRule") == "exact"
        assert style.paragraph_format.line_spacing == Pt(28.95)


def test_body_text_is_scaled_to_28_characters_a_line(tmp_path: Path) -> None:
    doc = opened(write(tmp_path, small_draft()))
    line_pt = (210 - 28 - 26) / 25.4 * 72
    for name in ("讲话正文", "讲话称呼", "Heading 1", "Heading 2"):
        rpr = rpr_of(doc.styles[name])
        pitch_pt = 16 * int(attr(rpr, "w:w", "w:val") or 100) / 100
        assert int(line_pt // pitch_pt) == 28, name
        assert attr(rpr, "w:spacing", "w:val") == "0", name  # condensed spacing loses punctuation
    assert attr(rpr_of(doc.styles["讲话标题"]), "w:w", "w:val") == "100"


def test_headings_have_outline_levels_and_are_not_blue_or_bold(tmp_path: Path) -> None:
    doc = opened(write(tmp_path, small_draft()))
    for name, level in (("Heading 1", "0"), ("Heading 2", "1")):
        style = doc.styles[name]
        assert attr(style.element.find(qn("w:pPr")), "w:outlineLvl", "w:val") == level
        assert style.element.find(qn("w:rPr")).find(qn("w:color")) is None
        assert style.font.bold is False
        assert style.font.color.rgb is None
        assert style.base_style.name == "Normal"
        assert style.paragraph_format.keep_with_next is True
        # the linked character style Word uses for part-applied headings follows suit
        link = style.element.find(qn("w:link")).get(qn("w:val"))
        linked = doc.styles.element.get_by_id(link)
        assert linked.find(qn("w:rPr")).find(qn("w:color")) is None
        assert linked.find(qn("w:rPr")).find(qn("w:rFonts")).get(qn("w:eastAsia")) == (
            "黑体" if level == "0" else "楷体_GB2312"
        )


def test_document_defaults_name_the_body_font_without_theme(tmp_path: Path) -> None:
    doc = opened(write(tmp_path, small_draft()))
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    fonts = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert not [a for a in THEME_ATTRS if fonts.get(qn(a)) is not None]
    assert defaults.find(qn("w:pPrDefault")) is None  # no 10 pt after / 1.15 line leaking in
    normal = doc.styles["Normal"]
    assert normal.font.size == Pt(16)
    assert normal.paragraph_format.first_line_indent in (None, 0)


# ------------------------------------------------------------------------------ body


def test_paragraphs_in_order_with_their_styles(tmp_path: Path) -> None:
    doc = opened(write(tmp_path, small_draft()))
    got = [(p.style.name, p.text) for p in doc.paragraphs]
    assert got == [
        ("讲话标题", "在【市名】第二批主题教育推进会上的讲话"),
        ("讲话署名", "张建国"),
        ("讲话署名", "（2023年9月26日）"),
        ("讲话正文", ""),
        ("讲话称呼", "同志们："),
        ("讲话正文", "今天，我们召开【数量：＿＿】次会议。"),
        ("Heading 1", "一、认真学习铸忠魂"),
        ("讲话正文", "一是坚定理想信念。理想信念是中国共产党人的精神支柱和政治灵魂。"),
        ("Heading 2", "（一）真情为民办实事"),
        ("讲话正文", "这次主题教育的一个重要任务就是加强调查研究，解决实际问题。"),
    ]
    # the layout lives in the styles, so a reference document can restyle it
    for p in doc.paragraphs:
        assert [child.tag for child in p._p.pPr] == [qn("w:pStyle")]


def test_lead_is_bold_and_the_rest_plain(tmp_path: Path) -> None:
    doc = opened(write(tmp_path, small_draft()))
    runs = doc.paragraphs[7].runs
    assert [(r.text, r.bold) for r in runs] == [
        ("一是坚定理想信念。", True),
        ("理想信念是中国共产党人的精神支柱和政治灵魂。", None),
    ]


def test_every_blank_and_only_blanks_are_highlighted_yellow(tmp_path: Path) -> None:
    draft = from_markdown(FIXTURE.read_text(encoding="utf-8"), FIXTURE.name)
    doc = opened(write(tmp_path, draft))
    highlighted = [
        r.text for p in doc.paragraphs for r in p.runs if r.font.highlight_color is not None
    ]
    title, *body = draft.blocks
    expected = [m.group(0) for text in (title.text, draft.speaker) for m in MARK_RE.finditer(text)]
    expected += [m.group(0) for block in body for m in MARK_RE.finditer(block.text)]
    assert highlighted == expected
    assert len(highlighted) == 14  # 【讲话人】 and 13 【＿＿】 in the fixture
    assert all(
        r.font.highlight_color == WD_COLOR_INDEX.YELLOW
        for p in doc.paragraphs
        for r in p.runs
        if r.font.highlight_color is not None
    )


def test_title_from_draft_title_and_no_byline_without_speaker_or_date(tmp_path: Path) -> None:
    draft = Draft("在全市工作会议上的讲话", (paragraph("同志们：", "salutation"),))
    doc = opened(write(tmp_path, draft))
    assert [(p.style.name, p.text) for p in doc.paragraphs] == [
        ("讲话标题", "在全市工作会议上的讲话"),
        ("讲话正文", ""),
        ("讲话称呼", "同志们："),
    ]


def test_date_written_as_text_shows_in_the_byline(tmp_path: Path) -> None:
    draft = Draft("讲话", (), date_text="2019年9月")
    doc = opened(write(tmp_path, draft))
    assert [p.text for p in doc.paragraphs if p.style.name == "讲话署名"] == ["（2019年9月）"]


# ------------------------------------------------------------------------------ footers


def _footer_parts(doc) -> dict[str, object]:  # type: ignore[no-untyped-def]
    section = doc.sections[0]
    return {"odd": section.footer, "even": section.even_page_footer}


def test_page_numbers_odd_right_even_left_with_a_page_field(tmp_path: Path) -> None:
    path = write(tmp_path, small_draft())
    doc = opened(path)
    settings = doc.settings.element
    assert settings.find(qn("w:evenAndOddHeaders")) is not None
    assert doc.settings.odd_and_even_pages_header_footer is True
    assert doc.sections[0].different_first_page_header_footer is False
    for side, footer in (
        ("right", doc.sections[0].footer),
        ("left", doc.sections[0].even_page_footer),
    ):
        assert footer.is_linked_to_previous is False
        (para,) = footer.paragraphs
        assert para.style.name == "讲话页码"
        ppr = para._p.pPr
        assert attr(ppr, "w:jc", "w:val") == side
        assert attr(ppr, "w:ind", f"w:{side}Chars") == "100"
        assert para.text == "— 1 —"
        xml = para._p.xml
        kinds = [el.get(qn("w:fldCharType")) for el in para._p.iter(qn("w:fldChar"))]
        assert kinds == ["begin", "separate", "end"]
        instr = [el.text for el in para._p.iter(qn("w:instrText"))]
        assert instr == [" PAGE "]
        assert xml.index("— ") < xml.index('fldCharType="begin"') < xml.index(" —<")
    types = {
        ref.get(qn("w:type")) for ref in doc.sections[0]._sectPr.findall(qn("w:footerReference"))
    }
    assert types == {"default", "even"}


def test_page_number_font_is_songti_14pt(tmp_path: Path) -> None:
    style = opened(write(tmp_path, small_draft())).styles["讲话页码"]
    assert style.font.size == Pt(14)
    assert rpr_of(style).find(qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"


# ------------------------------------------------------------------------------ properties


def test_core_properties(tmp_path: Path) -> None:
    props = opened(write(tmp_path, small_draft())).core_properties
    assert props.title == "在【市名】第二批主题教育推进会上的讲话"
    assert props.author == "张建国"
    assert props.language == "zh-CN"
    assert props.comments == ""  # not python-docx's "generated by python-docx"
    now = dt.datetime.now(dt.timezone.utc)
    assert abs(now - props.created) < dt.timedelta(hours=1)  # UTC, not local time
    assert props.created.year >= 2024
    assert props.category == "讲话稿"
    assert props.subject == ""


def test_meeting_metadata_becomes_the_subject(tmp_path: Path) -> None:
    draft = from_markdown("---\nmeeting: 推进会\n---\n\n# 讲话\n\n同志们：\n")
    assert opened(write(tmp_path, draft)).core_properties.subject == "推进会"


def test_export_dispatches_docx_and_writes_the_fixture(tmp_path: Path) -> None:
    draft = from_markdown(FIXTURE.read_text(encoding="utf-8"), FIXTURE.name)
    out = tmp_path / "讲话稿.docx"
    export(draft, out)
    doc = opened(out)
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [b.text for b in draft.blocks if b.kind in ("heading1", "heading2")]
    assert len(headings) == 6


def test_python_docx_is_imported_only_when_writing() -> None:
    code = "import sys, speechgen.export.docx; print('docx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------------ errors


def test_missing_output_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), Path("草稿") / "讲话稿.docx")
    assert str(err.value) == (
        "草稿/讲话稿.docx: folder '草稿' does not exist — create it first (mkdir -p '草稿')"
    )


def test_output_that_is_a_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out.docx").mkdir()
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), Path("out.docx"))
    assert str(err.value) == "out.docx: is a folder — give a file name such as out.docx/讲话稿.docx"


def test_unwritable_output_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import speechgen.output

    monkeypatch.chdir(tmp_path)
    # root may write anywhere, so the permission check itself is made to say no
    monkeypatch.setattr(speechgen.output.os, "access", lambda *_: False)
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), Path("讲话稿.docx"))
    assert (
        str(err.value) == "讲话稿.docx: cannot write here (permission denied) — choose another path"
    )


def test_permission_denied_on_rename_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import speechgen.output

    monkeypatch.chdir(tmp_path)

    def denied(*_: object) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(speechgen.output.os, "replace", denied)
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), Path("讲话稿.docx"))
    assert (
        str(err.value) == "讲话稿.docx: cannot write here (permission denied) — choose another path"
    )
    assert list(tmp_path.iterdir()) == []


def test_failed_save_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "讲话稿.docx"
    out.write_bytes(b"old draft")

    real = Path.write_bytes

    def broken_write(self: Path, data: bytes) -> int:
        real(self, b"half")
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_bytes", broken_write)
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), out)
    assert str(err.value) == f"{out}: cannot write here (disk full) — choose another path"
    assert out.read_bytes() == b"old draft"
    assert [p.name for p in tmp_path.iterdir()] == ["讲话稿.docx"]


# ------------------------------------------------------------------------------ reference


def office_template(path: Path, footer: str | None = "办公室页脚", template: bool = False) -> Path:
    """A writer's own office document: Letter, 20 mm margins, its own 讲话正文 and Heading 1."""
    doc = docx.Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(215.9), Mm(279.4)
    for side in ("top", "bottom", "left", "right"):
        setattr(section, f"{side}_margin", Mm(20))
    body = doc.styles.add_style("讲话正文", 1)
    body.font.size = Pt(14)
    body.font.name = "宋体"
    body.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    doc.styles["Heading 1"].font.color.rgb = RGBColor(0xC0, 0, 0)
    doc.add_paragraph("模板里的旧文字", style="讲话正文")
    doc.add_paragraph("旧标题", style="Heading 1")
    if footer:
        section.footer.paragraphs[0].text = footer
    doc.core_properties.author = "模板作者"
    doc.save(str(path))
    if template:
        _retype_as_template(path)
    return path


def _retype_as_template(path: Path) -> None:
    _patch(path, "[Content_Types].xml", b"document.main+xml", b"template.main+xml")


def _patch(path: Path, member: str, old: bytes, new: bytes) -> None:
    src = zipfile.ZipFile(path)
    items = [(i, src.read(i.filename)) for i in src.infolist()]
    src.close()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in items:
            if info.filename == member:
                assert old in data
                data = data.replace(old, new)
            dst.writestr(info, data)


def test_reference_keeps_page_setup_styles_and_footer(tmp_path: Path) -> None:
    ref = office_template(tmp_path / "office.docx")
    doc = opened(write(tmp_path, small_draft(), reference_docx=ref))
    section = doc.sections[0]
    assert abs(section.page_width - Mm(215.9)) < Mm(0.1)
    assert abs(section.left_margin - Mm(20)) < Mm(0.1)
    body = doc.styles["讲话正文"]
    assert body.font.size == Pt(14)
    assert rpr_of(body).find(qn("w:rFonts")).get(qn("w:eastAsia")) == "宋体"
    assert doc.styles["Heading 1"].font.color.rgb == RGBColor(0xC0, 0, 0)
    # styles the template lacks get the built-in layout
    title = doc.styles["讲话标题"]
    assert title.font.size == Pt(22)
    assert rpr_of(title).find(qn("w:rFonts")).get(qn("w:eastAsia")) == "方正小标宋简体"
    # its old body is gone, its footer stays, and no page-number footers are added
    texts = [p.text for p in doc.paragraphs]
    assert "模板里的旧文字" not in texts and "旧标题" not in texts
    assert texts[0] == "在【市名】第二批主题教育推进会上的讲话"
    assert section.footer.paragraphs[0].text == "办公室页脚"
    assert doc.settings.odd_and_even_pages_header_footer is False
    assert doc.core_properties.author == "张建国"


def test_reference_without_footer_gets_page_numbers(tmp_path: Path) -> None:
    ref = office_template(tmp_path / "office.docx", footer=None)
    doc = opened(write(tmp_path, small_draft(), reference_docx=ref))
    assert doc.sections[0].footer.paragraphs[0].text == "— 1 —"
    assert doc.sections[0].even_page_footer.paragraphs[0].text == "— 1 —"
    assert abs(doc.sections[0].page_width - Mm(215.9)) < Mm(0.1)  # page setup still theirs


def test_reference_may_be_a_word_template(tmp_path: Path) -> None:
    ref = office_template(tmp_path / "office.dotx", template=True)
    with pytest.raises(ValueError):
        docx.Document(str(ref))  # python-docx alone refuses a .dotx
    doc = opened(write(tmp_path, small_draft(), reference_docx=ref))
    assert doc.styles["讲话正文"].font.size == Pt(14)
    assert doc.paragraphs[0].text == "在【市名】第二批主题教育推进会上的讲话"


def test_reference_saved_by_libreoffice_keeps_one_core_properties_part(tmp_path: Path) -> None:
    ref = office_template(tmp_path / "office.docx")
    # LibreOffice spells the core-properties relationship type "officedocument/…"
    _patch(
        ref,
        "_rels/.rels",
        b"openxmlformats.org/package/2006/relationships/metadata/core-properties",
        b"openxmlformats.org/officedocument/2006/relationships/metadata/core-properties",
    )
    out = write(tmp_path, small_draft(), reference_docx=ref)
    names = zipfile.ZipFile(out).namelist()
    assert names.count("docProps/core.xml") == 1
    assert opened(out).core_properties.author == "张建国"


@pytest.mark.parametrize(
    "content",
    [b"this is not a zip file", b"PK\x03\x04 broken zip", b""],
    ids=["text", "broken-zip", "empty"],
)
def test_corrupt_reference_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("office.docx").write_bytes(content)
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), Path("out.docx"), reference_docx=Path("office.docx"))
    assert str(err.value) == (
        "office.docx: not a valid .docx (corrupt or not a Word file) — "
        "give a Word document saved as .docx"
    )
    assert not Path("out.docx").exists()


def test_zip_that_is_not_a_word_document_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with zipfile.ZipFile("office.docx", "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(OutputError, match=r"^office.docx: not a valid .docx \(corrupt"):
        write_docx(small_draft(), Path("out.docx"), reference_docx=Path("office.docx"))


def test_missing_reference_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), Path("out.docx"), reference_docx=Path("模板/office.docx"))
    assert str(err.value) == (
        "模板/office.docx: reference document not found — check the path given to --reference-docx"
    )


def test_reference_that_is_a_folder_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("模板").mkdir()
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), Path("out.docx"), reference_docx=Path("模板"))
    assert str(err.value) == "模板: is a folder — give a Word document (.docx) as --reference-docx"


# ------------------------------------------------------------------------------ command line


def test_cli_export_to_word_with_a_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from speechgen.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "draft.md").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    office_template(tmp_path / "office.docx")
    args = ["export", "draft.md", "-o", "讲话稿.docx", "--reference-docx", "office.docx"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    doc = opened(tmp_path / "讲话稿.docx")
    assert doc.styles["讲话正文"].font.size == Pt(14)
    assert doc.paragraphs[0].text == "在第二批主题教育推进会上的讲话"


def test_cli_bad_reference_exits_2_with_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from speechgen.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "draft.md").write_text(FIXTURE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "office.docx").write_text("not word", encoding="utf-8")
    args = ["export", "draft.md", "-o", "讲话稿.docx", "--reference-docx", "office.docx"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: office.docx: not a valid .docx (corrupt or not a Word file) — "
        "give a Word document saved as .docx\n"
    )
    assert not (tmp_path / "讲话稿.docx").exists()


def test_reference_style_of_the_wrong_type_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ref = docx.Document()
    ref.styles.add_style("讲话正文", 2)  # WD_STYLE_TYPE.CHARACTER
    ref.save("office.docx")
    with pytest.raises(OutputError) as err:
        write_docx(small_draft(), Path("out.docx"), reference_docx=Path("office.docx"))
    assert str(err.value) == (
        "office.docx: style '讲话正文' is not a paragraph style "
        "— make it a paragraph style in Word or rename it"
    )
    assert not Path("out.docx").exists()


def test_reference_without_section_properties_gets_the_manuscript_page(tmp_path: Path) -> None:
    ref = office_template(tmp_path / "office.docx", footer=None)
    src = zipfile.ZipFile(ref).read("word/document.xml").decode()
    start, end = src.index("<w:sectPr"), src.index("</w:sectPr>") + len("</w:sectPr>")
    _patch(ref, "word/document.xml", src[start:end].encode(), b"")
    doc = opened(write(tmp_path, small_draft(), reference_docx=ref))
    section = doc.sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(0.1)
    assert abs(section.top_margin - Mm(37)) < Mm(0.1)
    assert section.footer.paragraphs[0].text == "— 1 —"
    assert doc.styles["讲话正文"].font.size == Pt(14)  # the styles are still the template's


# ------------------------------------------------------------------------------ issue 12 details


def test_font_table_lists_the_fonts_used_with_their_fallbacks(tmp_path: Path) -> None:
    from lxml import etree

    out = write(tmp_path, small_draft())
    xml = etree.fromstring(zipfile.ZipFile(out).read("word/fontTable.xml"))
    fonts = {
        f.get(qn("w:name")): (f.find(qn("w:altName")).get(qn("w:val")), f.find(qn("w:charset")).get(qn("w:val")))
        for f in xml.findall(qn("w:font"))
    }
    assert fonts == {
        "仿宋_GB2312": ("仿宋", "86"),
        "楷体_GB2312": ("楷体", "86"),
        "方正小标宋简体": ("宋体", "86"),
        "黑体": ("SimHei", "86"),
        "宋体": ("SimSun", "86"),
    }


def test_long_title_breaks_between_words_into_balanced_lines(tmp_path: Path) -> None:
    from speechgen.export.titles import title_lines

    title = "在【市名】学习贯彻习近平新时代中国特色社会主义思想主题教育动员部署会上的讲话"
    lines = title_lines(title)
    assert "".join(lines) == title
    assert lines == ["在【市名】学习贯彻习近平", "新时代中国特色社会主义思想", "主题教育动员部署会上的讲话"]
    assert title_lines("在临江市第二批主题教育工作领导小组第一次会议上的讲话") == [
        "在临江市第二批主题教育工作", "领导小组第一次会议上的讲话",
    ]  # fmt: skip
    # a blank is never split, a line never starts with 的 or ends with 在
    for t in ("在【＿＿】【＿＿】【＿＿】【＿＿】【＿＿】会议上的讲话", "在" + "全市" * 9 + "会上的讲话"):
        got = title_lines(t)
        assert "".join(got) == t and all(len(x) <= 20 for x in got)
        assert all(x.count("【") == x.count("】") and not x.startswith("的") for x in got)
    draft = Draft(title, (paragraph(title, "title"),))
    para = opened(write(tmp_path, draft)).paragraphs[0]
    assert para.text == "\n".join(lines)  # w:br between the lines, one paragraph
    assert [r.font.highlight_color for r in para.runs][0] is None
    assert any(r.text == "【市名】" and r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in para.runs)


def test_core_properties_carry_meeting_keywords_and_speaker(tmp_path: Path) -> None:
    draft = from_markdown(FIXTURE.read_text(encoding="utf-8"), FIXTURE.name)
    draft = Draft(draft.title, draft.blocks, "李华", draft.date, meta={"meeting": "推进会"})
    props = opened(write(tmp_path, draft)).core_properties
    assert props.subject == "推进会"
    assert props.author == props.last_modified_by == "李华"
    words = props.keywords.split("; ")
    assert words[0] == "推进会" and len(words) == 6
    text = "".join(b.text for b in draft.blocks)
    assert all(w in text for w in words[1:])


def test_notes_become_comments_anchored_on_their_words(tmp_path: Path) -> None:
    from speechgen.draft import Note

    notes = (
        Note(2, "我们召开", "会议名称要写全", "name"),
        Note(5, "不在这里", "找不到的话挂在整段上"),
        Note(99, "", "没有这一块：挂在标题上", author="审稿人"),
    )
    base = small_draft()
    draft = Draft(base.title, base.blocks, base.speaker, base.date, notes=notes)
    doc = opened(write(tmp_path, draft))
    comments = list(doc.comments)
    assert [(c.author, c.text) for c in comments] == [
        ("speechgen", "会议名称要写全（name）"),
        ("speechgen", "找不到的话挂在整段上"),
        ("审稿人", "没有这一块：挂在标题上"),
    ]
    xml = doc.paragraphs[5]._p.xml  # block 2, after the byline and the empty line
    start, end = xml.index("commentRangeStart"), xml.index("commentRangeEnd")
    assert "我们召开" in xml[start:end] and "今天，" not in xml[start:end] and "【" not in xml[start:end]
    assert doc.paragraphs[5].text == "今天，我们召开【数量：＿＿】次会议。"  # the text is unchanged
    whole = doc.paragraphs[8]._p.xml  # block 5, the level-2 heading: the whole paragraph
    assert whole.index("commentRangeStart") < whole.index("（一）") < whole.index("commentRangeEnd")
    assert "commentRangeStart" in doc.paragraphs[0]._p.xml
    assert [p.text for p in doc.paragraphs] == [p.text for p in opened(write(tmp_path, base, "x.docx")).paragraphs]


def test_pdf_output_through_libreoffice(tmp_path: Path) -> None:
    import shutil

    if shutil.which("soffice") is None and not os.environ.get("CI"):
        pytest.skip("LibreOffice (soffice) is not installed — apt-get install libreoffice-writer")
    out = tmp_path / "讲话稿.pdf"
    export(small_draft(), out)
    assert out.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "".join(text.split()).startswith("在【市名】第二批主题教育推进会上的讲话张建国（2023年9月26日）同志们：")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.M)


def test_pdf_without_libreoffice_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.export.pdf

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(speechgen.export.pdf.shutil, "which", lambda _name: None)
    with pytest.raises(OutputError) as err:
        export(small_draft(), Path("讲话稿.pdf"))
    assert str(err.value) == (
        "讲话稿.pdf: writing PDF needs LibreOffice, which is not installed — install the package "
        "libreoffice-writer (apt-get install libreoffice-writer), or write .docx and print it from Word"
    )
    assert list(tmp_path.iterdir()) == []


def test_pdf_when_libreoffice_fails_or_hangs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.export.pdf

    monkeypatch.chdir(tmp_path)
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\necho 'Error: source file could not be loaded' >&2\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setattr(speechgen.export.pdf.shutil, "which", lambda name: str(fake) if name == "soffice" else None)
    with pytest.raises(OutputError) as err:
        export(small_draft(), Path("讲话稿.pdf"))
    assert str(err.value) == (
        "讲话稿.pdf: LibreOffice made no PDF (Error: source file could not be loaded) "
        "— write .docx and convert it in LibreOffice or Word"
    )
    fake.write_text("#!/bin/sh\nexec sleep 30\n", encoding="utf-8")
    monkeypatch.setattr(speechgen.export.pdf, "TIMEOUT_S", 1)
    with pytest.raises(OutputError) as err:
        export(small_draft(), Path("讲话稿.pdf"))
    assert str(err.value) == "讲话稿.pdf: LibreOffice took over 1 s to render the PDF — try again, or write .docx"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["soffice"]
