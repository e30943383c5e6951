"""speechgen lint: output, --json, exit codes, .md provenance and .docx."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from speechgen.cli import app

runner = CliRunner()


def test_findings_exit_1_and_json(tmp_path: Path) -> None:
    draft = tmp_path / "d.txt"
    draft.write_text("在全县推进会上的讲话\n推动XX县发展。\n全区上下团结一心，共同奋斗。\n", encoding="utf-8")
    brief = tmp_path / "b.yaml"
    brief.write_text("template: 推进会\ndate: 2024-03-15\nvars: {本级: 县}\npoints: [s000.point.1]\n", encoding="utf-8")
    result = runner.invoke(app, ["lint", str(draft), "--brief", str(brief), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert set(data) == {"file", "findings"}
    assert [(f["rule"], f["line"], f["text"]) for f in data["findings"]] == [("raw-token", 2, "XX"), ("level", 3, "全区")]
    assert set(data["findings"][0]) == {"rule", "line", "text", "message", "suggestion"}
    plain = runner.invoke(app, ["lint", str(draft), "--brief", str(brief)])
    assert plain.exit_code == 1
    assert ":2: raw-token: «XX» — a redaction token 'XX' is left in the text" in plain.stdout
    assert plain.stdout.rstrip().endswith("2 findings")


def test_clean_exit_0(tmp_path: Path) -> None:
    draft = tmp_path / "d.txt"
    draft.write_text("同志们：\n今天我们召开会议，部署下一阶段工作。\n", encoding="utf-8")
    result = runner.invoke(app, ["lint", str(draft)])
    assert result.exit_code == 0
    assert result.stdout.strip().endswith("no findings")


def test_errors_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["lint", str(tmp_path / "none.txt")])
    assert result.exit_code == 2
    other = tmp_path / "d.pdf"
    other.write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["lint", str(other)])
    assert result.exit_code == 2
    assert "lint reads .md, .txt and .docx drafts, not '.pdf'" in result.stderr


def test_markdown_front_matter_and_provenance(tmp_path: Path) -> None:
    draft = tmp_path / "d.md"
    draft.write_text(
        "---\ndate: 2024-03-15\n本级: 市\n---\n\n# 标题\n\n<!-- fragment: s003.point.3 -->\n\n"
        "三个节点：就是11月底前解决一批，明年6月前完成一批。\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["lint", str(draft), "--json"])
    found = [(f["rule"], f["line"], f["text"]) for f in json.loads(result.stdout)["findings"]]
    assert ("relative-date", 10, "11月底前解决一批，明年") in found


def test_docx_paragraph_numbers(tmp_path: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_paragraph("同志们：")
    doc.add_paragraph("")
    doc.add_paragraph("要深入学习贯彻新时代中国特色社会主义思想。")
    path = tmp_path / "d.docx"
    doc.save(str(path))
    result = runner.invoke(app, ["lint", str(path), "--json"])
    found = [(f["rule"], f["line"]) for f in json.loads(result.stdout)["findings"]]
    assert found == [("deleted-name", 3)]


def test_markdown_provenance_finds_another_places_facts(tmp_path: Path) -> None:
    draft = tmp_path / "d.md"
    history = ("机关效能建设是在【＿＿】工作时大力倡导并亲自推动的一项创新性工作，【＿＿】，他亲自担任临江市机关效能建设"
               "领导小组组长，并在全市电视电话会议上对机关效能建设的概念、重大意义、总体思路等进行了阐释。")
    draft.write_text(f"---\ndate: 2023-08-28\n本级: 市\n---\n\n# 标题\n\n<!-- fragment: s001b.point.2 -->\n\n{history}\n\n"
                     "全市上下要以更加饱满的热情推进机关效能建设。\n", encoding="utf-8")
    result = runner.invoke(app, ["lint", str(draft), "--json"])
    assert [(f["rule"], f["line"]) for f in json.loads(result.stdout)["findings"]] == [("source-fact", 10)]
    draft.write_text(draft.read_text(encoding="utf-8").replace("担任临江市", "担任【＿＿】").replace("全市电视", "全【＿＿】电视"),
                     encoding="utf-8")
    assert runner.invoke(app, ["lint", str(draft)]).exit_code == 0
