"""Provenance in Word: each part's fragment id and source file in docProps/custom.xml, read
back by speechgen lint (relative-date and source-fact on a .docx)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from typer.testing import CliRunner

from speechgen.cli import app
from speechgen.draft import (
    Block,
    Draft,
    attach_provenance,
    from_markdown,
    paragraph,
    provenance_runs,
    to_markdown,
)
from speechgen.export.custom_props import write_provenance
from speechgen.export.docx import write_docx
from speechgen.lint.docx_props import read_properties, read_provenance

runner = CliRunner()


def _draft() -> Draft:
    blocks = (
        Block("title", paragraph("在临江市推进会上的讲话").spans),
        Block("salutation", paragraph("同志们：").spans),
        Block("paragraph", paragraph("今天召开推进会。").spans, "a.opening.1"),
        Block("heading1", paragraph("一、抓学习").spans, "a.point.1"),
        Block("paragraph", paragraph("很多整改完成时间定到12月底。").spans, "a.point.1"),
        Block("paragraph", paragraph("谢谢大家。").spans),
    )
    return Draft("在临江市推进会上的讲话", blocks, origins={"a.point.1": "a.txt"})


def test_runs_of_one_fragment() -> None:
    assert provenance_runs(_draft()) == [("a.opening.1", "", 1, "今天召开推进会。"), ("a.point.1", "a.txt", 2, "一、抓学习")]


def test_custom_properties_hold_each_part(tmp_path: Path) -> None:
    path = tmp_path / "d.docx"
    write_docx(_draft(), path)
    with zipfile.ZipFile(path) as z:
        xml = z.read("docProps/custom.xml").decode()
        assert 'ContentType="application/vnd.openxmlformats-officedocument.custom-properties+xml"' in \
            z.read("[Content_Types].xml").decode()
        assert "relationships/custom-properties" in z.read("_rels/.rels").decode()
    assert 'fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="speechgen 1"' in xml
    props = read_properties(docx.Document(str(path)))
    assert props == {"speechgen 1": "a.opening.1; ; 1; 今天召开推进会。", "speechgen 2": "a.point.1; a.txt; 2; 一、抓学习"}


def test_no_provenance_no_part_and_a_reference_keeps_its_own(tmp_path: Path) -> None:
    plain = Draft("标题", (Block("paragraph", paragraph("正文。").spans),))
    path = tmp_path / "plain.docx"
    write_docx(plain, path)
    assert "docProps/custom.xml" not in zipfile.ZipFile(path).namelist()
    # a document that has custom properties of its own (an office template, a draft written before)
    ref = tmp_path / "ref.docx"
    write_docx(_draft(), ref)
    document = docx.Document(str(ref))
    write_provenance(document, plain)  # this draft has none: the old speechgen ones go
    assert read_properties(document) == {}
    write_provenance(document, _draft())
    assert [r[0] for r in read_provenance(document)] == ["a.opening.1", "a.point.1"]


def test_attach_provenance_survives_paragraphs_added_before() -> None:
    blocks = [Block("paragraph", paragraph(t).spans) for t in ("同志们：", "新加的一段。", "今天召开推进会。", "一、抓学习", "正文。", "谢谢大家。")]
    out = attach_provenance(blocks, [("a.opening.1", "", 1, "今天召开推进会。"), ("a.point.1", "a.txt", 2, "一、抓学习")])
    assert [b.source for b in out] == ["", "", "a.opening.1", "a.point.1", "a.point.1", ""]
    # a run whose first words were rewritten is left without provenance
    out = attach_provenance(blocks, [("a.opening.1", "", 1, "昨天召开")])
    assert {b.source for b in out} == {""}


def test_markdown_keeps_the_source_file() -> None:
    md = to_markdown(_draft())
    assert "<!-- fragment: a.point.1 (a.txt) -->" in md and "<!-- fragment: a.opening.1 -->" in md
    back = from_markdown(md)
    assert back.origins == {"a.point.1": "a.txt"} and back.blocks[3].source == "a.point.1"


def test_lint_reads_a_docx_drafts_provenance(tmp_path: Path) -> None:
    brief = tmp_path / "b.yaml"
    brief.write_text("template: 推进会\nmeeting: 第二批主题教育推进会\ndate: 2023-08-28\ncampaign: 主题教育\n"
                     "vars: {市名: 临江市, 本级: 市, 上级: 省委}\nfacts: keep\n"
                     "points: [s000.point.1, {id: s001b.point.2, subpoints: [3]}]\nlint: {ignore: [stale-campaign]}\n",
                     encoding="utf-8")
    out = tmp_path / "d.docx"
    assert runner.invoke(app, ["compose", str(brief), "-o", str(out), "--no-comments"]).exit_code == 0
    result = runner.invoke(app, ["lint", str(out), "--json"])
    import json

    rules = [f["rule"] for f in json.loads(result.stdout)["findings"]]
    assert rules.count("source-fact") == 2
    # a writer adds a paragraph at the top in Word: the provenance still holds
    document = docx.Document(str(out))
    document.paragraphs[3].insert_paragraph_before("我先讲一句开场的话。")
    document.save(str(out))
    assert [f["rule"] for f in json.loads(runner.invoke(app, ["lint", str(out), "--json"]).stdout)["findings"]] == rules


def test_relative_date_on_a_docx_draft(tmp_path: Path) -> None:
    # s003.point.1 is from a 2019 speech: its 5月/9月 are not this 2023 speech's
    brief = tmp_path / "b.yaml"
    brief.write_text("template: 推进会\ndate: 2023-08-28\ncampaign: 主题教育\nvars: {市名: 临江市, 本级: 市, 上级: 省委}\n"
                     "points: [s000.point.1, s003.point.1]\n", encoding="utf-8")
    md, out = tmp_path / "d.md", tmp_path / "d.docx"
    assert runner.invoke(app, ["compose", str(brief), "-o", str(md)]).exit_code == 0
    assert runner.invoke(app, ["export", str(md), "-o", str(out)]).exit_code == 0  # the .md's provenance carried over
    import json

    from speechgen.lint.docx_props import read_meta

    meta = read_meta(docx.Document(str(out)))  # the .md's front matter, for lint to check against
    assert meta["date"] == "2023-08-28" and meta["本级"] == "市" and meta["campaign"] == "主题教育"
    found = json.loads(runner.invoke(app, ["lint", str(out), "--json"]).stdout)["findings"]
    assert any(f["rule"] == "relative-date" for f in found)
    # the same .docx without its custom properties: no provenance, no relative-date
    plain = tmp_path / "plain.docx"
    with zipfile.ZipFile(out) as src, zipfile.ZipFile(plain, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "_rels/.rels":
                data = data.replace(b"relationships/custom-properties", b"relationships/custom-properties-x")
            dst.writestr(item, data)
    found = json.loads(runner.invoke(app, ["lint", str(plain), "--json"]).stdout)["findings"]
    assert not any(f["rule"] == "relative-date" for f in found)
