"""Issue #10, one test (or more) per failure class, on small inline speeches.

The fixtures in tests/fixtures/speeches/ cover the same classes on whole speeches
(test_speech_corpus.py); these pin each mechanism down on its own.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speechgen.cli import app
from speechgen.ingest.clean import clean_text, read_docx
from speechgen.ingest.segment import Speech, split_speeches
from speechgen.ingest.slots import has_raw_token, replace_tokens

BODY = "这项工作要抓紧抓实，各级各部门要高度重视，认真落实各项措施，确保取得实效。"


def speech(raw: str) -> Speech:
    found = split_speeches(clean_text(raw))[1]
    assert len(found) == 1
    return found[0]


def heads(s: Speech) -> list[str]:
    return [p.heading for p in s.points]


# --------------------------------------------------------------------------- 1. a missed heading


def test_ordinal_glued_to_junk_is_recovered_with_a_warning() -> None:
    raw = (
        "在会议上的讲话\n同志们：\n开头。\n第一，提高认识\n" + BODY + "\n第二，突出重点\n" + BODY
        + "\n会场一角。某某网讯第三，强化保障\n" + BODY + "\n第四，转变作风\n" + BODY
    )
    s = speech(raw)
    assert heads(s) == ["提高认识", "突出重点", "强化保障", "转变作风"]
    assert [p.number for p in s.points] == [1, 2, 3, 4]
    assert any(w.startswith("point 3: its number was found inside a paragraph") for w in s.warnings)


def test_a_gap_that_cannot_be_found_keeps_the_later_points() -> None:
    raw = "讲话\n同志们：\n开头。\n一、甲事\n" + BODY + "\n二、乙事\n" + BODY + "\n丙事没有编号\n" + BODY + "\n四、丁事\n" + BODY
    s = speech(raw)
    assert heads(s) == ["甲事", "乙事", "丁事"]
    assert "point 3 not found: the numbering jumps from 2 to 4" in s.warnings


# --------------------------------------------------------------------------- 2. numbering styles


@pytest.mark.parametrize(
    ("marks", "style"),
    [
        (("第一个问题，", "第二个问题，", "第三个问题，"), "第一，"),
        (("一 ", "二 ", "三 "), "一、"),
        (("# 一 ", "# 二 ", "# 三 "), "一、"),
        (("首先，", "其次，", "最后，"), "首先，"),
        (("第一点，", "第二点，", "最后一点，"), "第一，"),
    ],
)
def test_numbering_styles(marks: tuple[str, str, str], style: str) -> None:
    raw = "讲话\n同志们：\n首先，我代表市委表示祝贺。\n" + "".join(
        f"{m}{h}\n{BODY}\n" for m, h in zip(marks, ["提高认识", "突出重点", "强化保障"], strict=True)
    )
    s = speech(raw)
    assert heads(s) == ["提高认识", "突出重点", "强化保障"]
    assert s.style == style


def test_a_list_inside_a_point_is_not_promoted() -> None:
    raw = (
        "讲话\n同志们：\n开头。\n一 回顾工作\n" + BODY + "\n二 重点任务\n第一，抓质量。" + BODY + "\n第二，抓队伍。"
        + BODY + "\n第三，抓安全。" + BODY + "\n三 加强领导\n" + BODY
    )
    s = speech(raw)
    assert heads(s) == ["回顾工作", "重点任务", "加强领导"]
    assert len(s.points[1].subpoints) == 3


def test_a_preview_list_is_not_the_points() -> None:
    raw = (
        "讲话\n同志们：\n我讲三个问题：\n（一）任务；\n（二）群众；\n（三）作风。\n"
        "（一）关于任务。" + BODY + "\n（二）关于群众。" + BODY + "\n（三）关于作风。" + BODY
    )
    assert heads(speech(raw)) == ["关于任务", "关于群众", "关于作风"]


# --------------------------------------------------------------------------- 3. single-line text


def test_ideographic_space_runs_are_paragraph_breaks() -> None:
    raw = (
        "在会议上的讲话　　同志们：今天开会。下面，我讲两点意见。　　一、坚持产业为先，夯实基础。" + BODY
        + "　　二、坚持生态为本；" + BODY + "　　同志们，让我们一起努力！"
    )
    s = speech(raw)
    assert s.title == "在会议上的讲话"
    assert s.salutation == "同志们："
    assert heads(s) == ["坚持产业为先，夯实基础", "坚持生态为本"]
    assert s.closing == "同志们，让我们一起努力！"


# --------------------------------------------------------------------------- 4. salutations


@pytest.mark.parametrize(
    ("first", "salutation"),
    [
        ("在会议上的讲话\n同志们：今天开会。", "同志们："),
        ("在会议上的讲话（2021年3月5日）同志们：今天开会。", "同志们："),
        ("在会议上的讲话\n　　　　市委书记　李××\n　　二〇一九年十二月二十日\n同志们：今天开会。", "同志们："),
        ("在会议上的讲话\n各位代表，各位老师：\n今天开会。", "各位代表，各位老师："),
        ("在典礼上的讲话\n老师们，同学们，同志们，朋友们：\n今天开会。", "老师们，同学们，同志们，朋友们："),
        ("在庆典上的致辞\n各位领导、各位来宾：\n今天开会。", "各位领导、各位来宾："),
    ],
)
def test_salutation_forms(first: str, salutation: str) -> None:
    s = speech(first + "\n一、甲事\n" + BODY + "\n二、乙事\n" + BODY)
    assert s.salutation == salutation
    assert s.title in ("在会议上的讲话", "在典礼上的讲话", "在庆典上的致辞")


def test_no_salutation_where_there_is_none() -> None:
    s = speech("在全会上的讲话（摘要）\n2022.10.23\n科技创新是第一动力。\n一、甲事\n" + BODY + "\n二、乙事\n" + BODY)
    assert s.salutation == "" and s.part("salutation") is None
    assert s.closing == ""
    assert s.date == "2022.10.23"


# --------------------------------------------------------------------------- 5. closings


def test_closing_after_a_vocative_line_of_its_own() -> None:
    s = speech("讲话\n同志们：\n开头。\n第一，甲事\n" + BODY + "\n第二，乙事\n" + BODY + "\n同志们、朋友们！\n新的征程已经开启。")
    assert s.closing == "同志们、朋友们！\n新的征程已经开启。"
    assert s.points[-1].text == BODY


def test_closing_without_comrades_and_a_last_point_introduced_by_zuihou() -> None:
    s = speech(
        "讲话\n同志们：\n开头。\n第一，甲事。\n" + BODY + "\n第二，乙事。\n" + BODY + "\n最后，关于作风建设。\n" + BODY
        + "\n希望全区广大干部牢记使命，奋力谱写新篇章！"
    )
    assert heads(s) == ["甲事", "乙事", "关于作风建设"]
    assert s.closing.startswith("希望全区")


def test_a_closing_wish_after_zuihou_is_no_point() -> None:
    s = speech(
        "致辞\n各位来宾：\n开头。\n第一，希望学校坚守初心。\n第二，希望学校深化改革。\n第三，希望学校建强队伍。\n"
        "最后，祝学校明天更加美好！\n谢谢大家！"
    )
    assert len(s.points) == 3
    assert s.closing.startswith("最后，祝学校")


def test_a_closing_holding_a_list_is_still_the_closing() -> None:
    s = speech(
        "讲话\n同志们：\n开头。\n一、甲事\n" + BODY + "\n二、乙事\n" + BODY
        + "\n同志们，任务艰巨。会后，一是要抓紧传达；二是要细化措施；三是要加强督查。"
    )
    assert s.closing.startswith("同志们，任务艰巨")
    assert s.part("requirements") is None


# --------------------------------------------------------------------------- 6. front matter


def test_front_matter_lines() -> None:
    s = speech(
        "奋力谱写新篇章\n——在市委全体会议上的讲话\n讲话人：县长　罗××\n（一九七八年四月二十二日）\n同志们：\n开头。\n"
        "一、甲事\n" + BODY + "\n二、乙事\n" + BODY
    )
    assert (s.title, s.subtitle, s.speaker, s.date) == ("奋力谱写新篇章", "——在市委全体会议上的讲话", "县长罗××", "一九七八年四月二十二日")


def test_a_title_over_two_lines() -> None:
    s = speech("在全省安全生产电视电话会议\n上的讲话\n同志们：\n开头。\n一、甲事\n" + BODY + "\n二、乙事\n" + BODY)
    assert s.title == "在全省安全生产电视电话会议上的讲话"


def test_a_forwarding_notice_is_not_the_speech() -> None:
    header, found = split_speeches(clean_text(
        "关于印发校长讲话的通知\n全校教工：\n现将校长在教代会上的讲话印发给你们，请认真学习。\n校长办公室\n2021年3月2日\n"
        "在教代会上的讲话\n（2021年2月26日）\n各位代表：\n开头。\n一、甲事\n" + BODY + "\n二、乙事\n" + BODY
    ))
    assert len(found) == 1 and found[0].title == "在教代会上的讲话"
    assert header is not None and header.raw.startswith("关于印发")


# --------------------------------------------------------------------------- 7. noise


def test_noise_is_removed_and_listed_with_its_reason() -> None:
    removed: list[tuple[str, str]] = []
    raw = (
        "新华社北京9月30日电　在大会上的讲话\n同志们：\n开头。〔1〕\n图为会议现场。\n新华社记者 张三 摄第一，甲事\n"
        + BODY + "\n（来源：××日报）\n（责任编辑：张××）\n注　释\n〔1〕这里指一九五五年的运动。"
    )
    text = clean_text(raw, removed=removed)
    assert text == "在大会上的讲话\n同志们：\n开头。\n第一，甲事\n" + BODY
    reasons = dict(removed)
    assert reasons["新华社北京9月30日电"] == "news dateline"
    assert reasons["新华社记者 张三 摄"] == "photo credit"
    assert reasons["图为会议现场。"] == "photo caption"
    assert reasons["〔1〕"] == "note marker"
    assert reasons["（来源：××日报）"] == "source credit"
    assert reasons["注　释"] == "notes section (and all after it)"


def test_forum_and_wechat_junk() -> None:
    raw = (
        "原创 笔杆子 公文写作研究 2022-06-15 08:00 发表于河南\n点击上方蓝字关注我们\n在会议上的讲话 [; o H! @9 B! f& ?# \\\n"
        "本帖最后由 laomishu 于 2018-5-3 10:21 编辑\n同志们：\n开头。\n5 S& V `* V' e! a( t( S6 X/ i第二，乙事\n" + BODY
        + "\nEND\n往期推荐\n在另一个会议上的讲话（精选5篇）"
    )
    assert clean_text(raw) == "在会议上的讲话\n同志们：\n开头。\n第二，乙事\n" + BODY


def test_user_junk_patterns_are_removed_and_reported(tmp_path: Path) -> None:
    src = tmp_path / "讲话.txt"
    src.write_text("在会议上的讲话\n同志们：\n开头。本站独家稿件\n一、甲事\n" + BODY + "\n二、乙事\n" + BODY, encoding="utf-8")
    junk = tmp_path / "junk.txt"
    junk.write_text("# site stamp\n本站独家稿件\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(src), "--out", str(tmp_path / "out"), "--junk", str(junk), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["files"][0]
    assert {"text": "本站独家稿件", "reason": "--junk"} in report["removed"]
    assert report["found"] == [{"title": "在会议上的讲话", "salutation": "同志们：", "closing": None, "points": 2}]
    assert "本站独家稿件" not in (tmp_path / "out" / "讲话.yaml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- 8. sub-points


def test_sub_point_runs_and_the_last_keeps_its_content() -> None:
    s = speech(
        "讲话\n同志们：\n开头。\n第一个问题，关于任务\n下半年要抓好三项工作。\n一要抓扩面，确保参保率稳定。\n二要抓改革。推进支付方式改革。\n"
        "三要抓监管，严厉打击欺诈骗保。\n还要加强队伍建设。\n第二个问题，关于落实\n" + BODY
    )
    subs = s.points[0].subpoints
    assert [sp.lead for sp in subs] == ["抓扩面，确保参保率稳定。", "抓改革。", "抓监管，严厉打击欺诈骗保。"]
    assert subs[-1].text == "还要加强队伍建设。"
    assert s.points[0].tail == ""


def test_paragraph_initial_runs_are_the_structure_when_nothing_is_numbered() -> None:
    items = ["班子建设", "产业发展", "招商引资", "项目建设"]
    raw = "讲话\n同志们：\n重点抓好四个方面的工作。\n" + "".join(
        f"{n}抓{t}，提升水平。{BODY}\n" for n, t in zip("一二三四", items, strict=True)
    )
    s = speech(raw)
    assert [p.heading for p in s.points] == [f"抓{t}，提升水平" for t in items]
    assert s.announced_points == 4


# --------------------------------------------------------------------------- 9. false blanks


def test_x_in_names_and_policies_is_no_redaction() -> None:
    text = "推行“1+X”证书制度，配备X光机和X射线设备，X市要落实。"
    res = replace_tokens(text)
    assert res.text == "推行“1+X”证书制度，配备X光机和X射线设备，{{ 市名 }}要落实。"
    assert not has_raw_token(res.text.replace("{{ 市名 }}", ""))


def test_a_footnote_star_is_no_redaction() -> None:
    removed: list[tuple[str, str]] = []
    text = clean_text("在会议上的讲话*\n同志们：\n正文。\n* 本文系作者在会议上的讲话，有删节。", removed=removed)
    assert text == "在会议上的讲话\n同志们：\n正文。"
    assert ("*", "footnote mark") in removed


# --------------------------------------------------------------------------- 10. credit last


def test_no_truncated_warning_when_the_file_ends_with_a_credit() -> None:
    s = speech("讲话\n同志们：\n开头。\n一、甲事\n" + BODY + "\n二、乙事\n" + BODY + "\n《××日报》（2022年10月24日　01版）")
    assert not any("truncated" in w for w in s.warnings)


# --------------------------------------------------------------------------- 11. announced count


@pytest.mark.parametrize(
    ("sentence", "count"),
    [("下面，我讲4点意见。", 4), ("今天，我主要讲三个问题。", 3), ("我讲6个问题。", 6), ("下面，我讲几点意见。", None),
     ("我想讲三个方面。", 3), ("一共有两个问题。", 2)],
)
def test_announced_count_forms(sentence: str, count: int | None) -> None:
    s = speech(f"讲话\n同志们：\n今天开会。{sentence}\n一、甲事\n{BODY}\n二、乙事\n{BODY}")
    assert s.announced_points == count


# --------------------------------------------------------------------------- 12. wrap-joining


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_docx_paragraphs_are_never_joined() -> None:
    short = ["在会议上的讲话", "同志们：", "一、提高认识，", "要高度重视安全生产工作", "二、突出重点，", "要全面排查整治隐患"]
    body = "这是一段被切断的文字，长度刚好相同没有句号结尾"  # many lines of one width, mid-sentence
    paras = short + [body] * 6
    text = read_docx(_docx(paras), "a.docx")
    assert clean_text(text, join_wraps=False).split("\n") == [p for p in paras]
