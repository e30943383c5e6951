"""Outside checks: Microsoft's Open XML SDK validator and two other readers on our .docx.

conftest.py runs the same checks on every .docx any test writes; here they are proven
able to fail, and run on a draft with every feature (notes as comments, a long title, a
reference document). The validator needs Node: a local run without it skips, CI never does.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from docx_checks import Validator, describe, reader_paragraphs, validator_problem

from speechgen.draft import Block, Draft, Note, Span, paragraph
from speechgen.export.docx import write_docx

TITLE = "在全市学习贯彻习近平新时代中国特色社会主义思想主题教育动员部署会上的讲话"


def feature_draft() -> Draft:
    blocks = (
        paragraph(TITLE, "title"),
        paragraph("同志们：", "salutation"),
        Block("paragraph", (Span("今天，我们召开"), Span("【数量：＿＿】", "mark"), Span("次会议。"))),
        paragraph("一、认真学习铸忠魂", "heading1"),
        paragraph("**一是坚定理想信念。**理想信念是中国共产党人的精神支柱。"),
        paragraph("（一）真情为民办实事", "heading2"),
    )
    notes = (
        Note(2, "召开【数量：＿＿】次", "会议次数还没有填", "blank"),
        Note(4, "理想信念是", "与上一句重复", "repeat"),
        Note(5, "真情为民", "标题层级：（一）应在一、之下", "numbering", "审稿人"),
    )
    return Draft(TITLE, blocks, "张建国", dt.date(2023, 9, 26), meta={"meeting": "动员部署会"}, notes=notes)


@pytest.fixture(scope="module")
def check() -> Validator:
    problem, skip = validator_problem()
    if problem:
        if skip:
            pytest.skip(problem)
        pytest.fail(problem)
    validator = Validator()
    yield validator
    validator.close()


def test_our_docx_has_no_schema_errors(check: Validator, tmp_path: Path) -> None:
    out = tmp_path / "讲话稿.docx"
    write_docx(feature_draft(), out)
    errors = check.check(out)
    assert errors == [], describe(errors)


def test_the_validator_reports_a_broken_document(check: Validator, tmp_path: Path) -> None:
    good = tmp_path / "good.docx"
    write_docx(feature_draft(), good)
    bad = tmp_path / "bad.docx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "word/document.xml":  # a run property out of schema order
                data = data.replace(b"<w:pPr>", b"<w:pPr><w:jc w:val=\"left\"/>", 1)
            dst.writestr(item, data)
    errors = check.check(bad)
    assert errors and "word/document.xml" in describe(errors)


def test_three_readers_read_the_paragraphs_of_the_draft(tmp_path: Path) -> None:
    out = tmp_path / "讲话稿.docx"
    write_docx(feature_draft(), out)
    expected = [
        TITLE, "张建国", "（2023年9月26日）", "", "同志们：", "今天，我们召开【数量：＿＿】次会议。",
        "一、认真学习铸忠魂", "一是坚定理想信念。理想信念是中国共产党人的精神支柱。", "（一）真情为民办实事",
    ]  # fmt: skip
    assert reader_paragraphs(out) == {"python-docx": expected, "docx2python": expected, "mammoth": expected}


def test_comments_of_the_notes_are_read_by_docx2python(tmp_path: Path) -> None:
    from docx2python import docx2python

    out = tmp_path / "讲话稿.docx"
    write_docx(feature_draft(), out)
    with docx2python(io.BytesIO(out.read_bytes())) as read:
        comments = [(anchor, author, text) for anchor, author, _date, text in read.comments]
    assert comments == [
        ("召开【数量：＿＿】次", "speechgen", "会议次数还没有填（blank）"),
        ("理想信念是", "speechgen", "与上一句重复（repeat）"),
        ("真情为民", "审稿人", "标题层级：（一）应在一、之下（numbering）"),
    ]
