"""Each lint rule on inline texts: hits, and near-misses that real speeches contain."""

from __future__ import annotations

import pytest

from speechgen.lint import Finding, LintContext, lint_draft
from speechgen.lint.files import text_draft


def lint(text: str, **context: object) -> list[Finding]:
    draft, lines = text_draft(text)
    return lint_draft(draft, LintContext(**context), lines=lines)  # type: ignore[arg-type]


def rules(text: str, **context: object) -> list[tuple[str, int, str]]:
    return [(f.rule, f.line, f.text) for f in lint(text, **context)]


# --------------------------------------------------------------------------- deleted-name


@pytest.mark.parametrize(
    "line, words",
    [
        ("党的十八大以来，我们党创立了思想，指引党和国家事业取得历史性成就。", "创立了思想"),
        ("要在推动学习贯彻思想走深走实上下功夫。", "学习贯彻思想"),
        ("我们要坚决维护核心地位，坚决维护党中央权威。", "维护核心地位"),
        ("这是以同志为核心的党中央作出的重大决策。", "同志为核心的党中央"),
        ("深入学习贯彻新时代中国特色社会主义思想。", "新时代中国特色社会主义思想"),
        ("在考察江苏时强调，要把主题教育同推动工作结合起来。", "在考察江苏时强调"),
        ("欲知大道，必先为史。指出，历史是最好的教科书。", "指出"),
        ("我们要深入学习贯彻在全国党史学习教育动员大会上的重要讲话精神。", "学习贯彻在全国党史学习教育动员大会上的重要讲话"),
        ("要认真学习贯彻对网络安全和信息化工作作出的重要指示精神。", "学习贯彻对网络安全和信息化工作作出的重要指示"),
        ("我们要认真学习对网络安全和信息化工作作出的重要指示精神。", "学习对网络安全和信息化工作作出的重要指示"),
        ("5月31日，在主题教育工作会议上发表了重要讲话，深刻阐明了重大意义。", "5月31日，在主题教育工作会议上发表了重要讲话"),
        ("会议期间，总书记和吴邦国同志、同志、曾庆红同志出席。", "同志"),
        ("这次督查，由人大 主任、政协 主席带队。", "大 主任"),
        ("我们要深刻理解思想的丰富内涵，从中找方法、找路径。", "理解思想的丰富内涵"),
        ("准确把握思想的世界观和方法论，坚持好、运用好贯穿其中的立场观点方法。", "把握思想的世界观和方法论"),
        ("要在领悟思想的核心要义上下功夫。", "领悟思想的核心要义"),
        ("“三个代表”重要思想是我们党继思想、邓小平理论之后的又一理论成果。", "思想、邓小平理论"),
    ],
)
def test_deleted_name_hits(line: str, words: str) -> None:
    found = [f for f in lint(line) if f.rule == "deleted-name"]
    assert [f.text for f in found][:1] == [words] or words in found[0].text


@pytest.mark.parametrize(
    "line",
    [
        "习近平总书记指出：“作风问题本质上是党性问题。”",
        "总书记强调，要坚持问题导向。他指出：“调查研究是谋事之基、成事之道。”",
        "深入学习贯彻习近平新时代中国特色社会主义思想，坚决维护习近平总书记党中央的核心、全党的核心地位。",
        "以习近平同志为核心的党中央高度重视主题教育。",
        "要解放思想、统一思想，加强思想政治工作，筑牢思想根基。",
        "会议强调，要把学习贯彻党的二十大精神作为首要政治任务。",
        "《意见》明确要求：“各级党组织要切实负起责任。”",
        "对基层的要求与县处级以上的要求有所不同。",
        "认真学习贯彻习近平总书记在全国党史学习教育动员大会上的重要讲话精神。",
        "各位领导、同志们，大家好！",
        "以“三严三实”为座右铭，努力构建风清气正的良好政治生态。",
        "习近平总书记对防汛工作作出重要指示，我们要认真贯彻重要指示精神。",
        "我们要认真学习习近平总书记对网络安全和信息化工作作出的重要指示精神。",
        "要加强理论学习，学习重要讲话精神要联系实际。",  # 学习 alone takes no bare 重要讲话
        "学习对我们每个人都很重要。",
        "深刻理解习近平新时代中国特色社会主义思想的丰富内涵和实践要求。",
        "要深刻理解毛泽东思想的精神实质。",
        "要充分认识解放思想的重要性，深刻理解思想的力量。",  # 思想的力量: 思想 in general
        "把握思想政治工作的规律，掌握思想的方法。",
        "坚持马克思列宁主义、毛泽东思想、邓小平理论、“三个代表”重要思想。",
    ],
)
def test_deleted_name_near_misses(line: str) -> None:
    assert [f for f in lint(line) if f.rule == "deleted-name"] == []


# --------------------------------------------------------------------------- stale-campaign


def test_stale_campaign_other_campaign_wording() -> None:
    text = "牢牢把握守初心、担使命，找差距、抓落实的总要求，推动主题教育取得实效。"
    found = rules(text, date="2024-05-20", campaign="党纪学习教育")
    assert found == [("stale-campaign", 1, "守初心、担使命，找差距、抓落实")]


def test_stale_campaign_after_the_campaign_ended_without_a_campaign() -> None:
    text = "牢牢把握守初心、担使命，找差距、抓落实的总要求，统筹推进疫情防控。"
    assert [r for r, *_ in rules(text, date="2020-03-05")] == ["stale-campaign"]


def test_stale_campaign_shared_wording_is_fine_for_either_owner() -> None:
    text = "第二批主题教育开展以来，全区各级党组织认真贯彻落实。"
    assert rules(text, date="2023-11-10", campaign="主题教育") == []
    assert rules(text, date="2019-11-10", campaign="不忘初心、牢记使命") == []
    assert [r for r, *_ in rules(text, date="2024-05-20", campaign="党纪学习教育")] == ["stale-campaign"]


def test_stale_campaign_a_batch_that_already_started() -> None:
    text = "在第一批主题教育进入收尾、第二批主题教育即将启动之际，我们召开这次会议。"
    assert rules(text, date="2023-08-20", campaign="主题教育") == []
    found = rules(text, date="2024-03-15", campaign="主题教育")
    assert found == [("stale-campaign", 1, "第二批主题教育即将启动")]


@pytest.mark.parametrize(
    "text, date, campaign",
    [
        ("继党的群众路线教育实践活动、“三严三实”专题教育之后，党中央决定开展“两学一做”学习教育。", "2016-04-25", "两学一做"),
        ("我们要不忘初心、牢记使命，奋力谱写新篇章。", "2018-01-20", ""),
        ("要巩固拓展党史学习教育成果，推动主题教育走深走实。", "2023-06-01", "主题教育"),
        ("推进“两学一做”学习教育常态化制度化。", "2018-03-01", ""),
    ],
)
def test_stale_campaign_near_misses(text: str, date: str, campaign: str) -> None:
    assert rules(text, date=date, campaign=campaign) == []


# --------------------------------------------------------------------------- level


@pytest.mark.parametrize(
    "text, words",
    [
        ("要把对我市开展党史学习教育的要求落到实处。", "我市"),
        ("全区紧紧围绕开展主题教育，扎实推进各项工作。", "全区"),
        ("过去的一年，全市上下牢牢把握工作主线。", "全市"),
        ("在此，我代表市委、市人大、市政府、市政协，向大家致以新春祝福。", "代表市委"),
        ("经市委常委会研究决定，召开这次警示教育大会。", "经市委常委会研究决定"),
        ("今年以来全系统安全生产形势总体平稳。", "全系统"),
    ],
)
def test_level_hits_in_a_county_speech(text: str, words: str) -> None:
    found = [f for f in lint(text, vars={"本级": "县"}) if f.rule == "level"]
    assert found and words in found[0].text


@pytest.mark.parametrize(
    "text",
    [
        "主要经济指标增幅高于全国、全省、全市平均水平。",
        "根据省委、市委的统一部署，全县上下迅速行动。",
        "我县认真贯彻落实市委决策部署，县委常委会专题研究。",
        "各乡镇要带领本乡本土的干部群众共同发展。",
        "我省是农业大省，我县是产粮大县。",
        "高新区政府和经开区管委会要主动作为。",
        "做好安全工作，保障人民群众生命财产安全。",
    ],
)
def test_level_near_misses_in_a_county_speech(text: str) -> None:
    assert [f for f in lint(text, vars={"本级": "县"}) if f.rule == "level"] == []


def test_level_region_above_a_city() -> None:
    text = "广西壮族自治区党委部署以来，全区上下迅速行动，全市各级党组织认真落实。"
    assert rules(text, vars={"本级": "市"}) == []


def test_level_is_silent_without_a_level() -> None:
    assert rules("全区紧紧围绕开展主题教育，扎实推进各项工作。") == []
    assert rules("全区紧紧围绕开展主题教育。", vars={"本级": "校"}) == []


def test_level_reads_the_title_when_the_brief_is_silent() -> None:
    text = "在全县主题教育推进会上的讲话\n全区紧紧围绕开展主题教育，扎实推进各项工作。"
    assert rules(text) == [("level", 2, "全区")]


# --------------------------------------------------------------------------- truncated


def test_truncated_hit_and_near_misses() -> None:
    text = "\n".join([
        "在全县第二批主题教育推进会上的讲话",
        "（2019年9月26日）",
        "同志们：",
        "一、认真学习铸忠魂",
        "根据中央要求，今年11月，第一批单位将开展整改落",
        "我们要从以下几个方面着力：",
        "这是一个长期的过程……",
        "我就讲这么多。谢谢大家。",
    ])
    assert rules(text) == [("truncated", 5, "第一批单位将开展整改落")]


def test_truncated_ends_on_a_comma() -> None:
    assert [r for r, *_ in rules("正文。\n近一段时间，从中央到地方，")] == ["truncated"]


# --------------------------------------------------------------------------- numbering


def test_numbering_gap_and_mixed_styles() -> None:
    gap = "一、学会坚持\n正文。\n二、学会遵规\n正文。\n四、学会守法\n正文。"
    assert rules(gap) == [("numbering", 5, "四、")]
    mixed = "第一，从加快发展的要求看，必须做好防汛工作。\n二、从今年极端天气情况看，必须做好防汛工作。"
    assert rules(mixed) == [("numbering", 2, "二、")]


def test_numbering_stated_count() -> None:
    text = "下面，我讲三点意见。\n一、提高思想认识\n正文。\n二、抓好落实\n正文。"
    assert rules(text) == [("numbering", 1, "讲三点意见")]


def test_numbering_nested_list_inside_a_sub_point() -> None:
    text = "一是要防止学习教育“偏而浅”。抓学习，一是通读。二是跟进学。"
    assert [r for r, *_ in rules(text)] == ["numbering"]


@pytest.mark.parametrize(
    "text",
    [
        "下面，我讲三点意见。\n一、甲\n正文。\n二、乙\n正文。\n三、丙\n正文。",
        "一、提高认识\n第一，要统一思想。\n第二，要加强领导。\n二、抓好落实\n第一，要明确责任。",
        "一、提高认识\n（一）甲。\n（二）乙。\n二、抓好落实\n（一）丙。",
        "抓学习，一是通读。\n二是跟进学，及时学习最新讲话。\n三是交流研讨。",
        "这次学习教育有三个鲜明特点：一是……二是……三是……",
        "三、强化保障\n正文。\n四、严明纪律\n正文。",  # an excerpt may start at any point
        "下面，讲几点意见。\n一、甲\n正文。",
    ],
)
def test_numbering_near_misses(text: str) -> None:
    assert rules(text) == []


# --------------------------------------------------------------------------- raw-token


@pytest.mark.parametrize(
    "text, token",
    [
        ("{{ 市名 }}人民政府市长", "{{ 市名 }}"),
        ("参加人数为{{ blank(\"人数\") }}人。", "{{ blank(\"人数\") }}"),
        ("{% if 本级 == '市' %}我市{% endif %}安全生产形势平稳。", "{% if 本级 == '市' %}"),
        ("推动XX县发展迈上新台阶。", "XX"),
        ("要深入学习XJP总书记重要讲话。", "XJP"),
        ("在全党开展**学习教育。", "**"),
        ("要做到清正-2-廉洁。", "-2-"),
        ("会议由ＸＸ同志主持。", "ＸＸ"),
        ("我们☆县的干部要有担当。", "☆"),
        ("○○县要抓好落实。", "○○"),
        ("×××同志作了发言。", "×××"),
    ],
)
def test_raw_token_hits(text: str, token: str) -> None:
    found = [f for f in lint(text) if f.rule == "raw-token"]
    assert found and token in found[0].text


@pytest.mark.parametrize("text", ["GDP增长6.5%，5G基站建成1200个。", "CT和X光设备全部到位。", "完成【＿＿】个项目。",
                                  "二○○三年以来，全县坚持抓好工作。", "★★★ 重要通知 ★★★", "屏幕分辨率为1920×1080。"])
def test_raw_token_near_misses(text: str) -> None:
    assert rules(text) == []


# --------------------------------------------------------------------------- repeat


def test_repeat_reports_the_second_sentence() -> None:
    text = "党史的基本功能是以史鉴今、资政育人。我们要学好党史。\n党史的基本功能是以史鉴今、资政育人。"
    assert rules(text) == [("repeat", 2, "党史的基本功能是以史鉴今、资政育人。")]


def test_repeat_near_misses() -> None:
    text = ("深入学习贯彻习近平总书记关于巡视工作的重要论述，推动工作。"
            "我们要深入学习贯彻习近平总书记关于巡视工作的重要论述和党中央部署。\n要抓好落实。要抓好落实。")
    assert rules(text) == []


# --------------------------------------------------------------------------- relative-date


def test_relative_date_needs_provenance_of_another_year() -> None:
    from dataclasses import replace

    draft, lines = text_draft("今年以来，在县委的坚强领导下，各项工作稳步推进。\n今年第一季度，经济运行平稳。")
    blocks = tuple(replace(b, source=f"s{n}") for n, b in enumerate(draft.blocks, 1))
    draft = replace(draft, blocks=blocks)
    ctx = LintContext(date="2022-03-10", years={"s1": 2017, "s2": 2022})
    assert [(f.rule, f.line, f.text) for f in lint_draft(draft, ctx, lines=lines)] == [("relative-date", 1, "今年")]
    assert lint_draft(draft, LintContext(date="2022-03-10"), lines=lines) == []


# --------------------------------------------------------------------------- silencing


def test_ignore_comment_and_brief_setting() -> None:
    from speechgen.draft import read_markdown

    md = "# 标题\n\n<!-- lint: ignore level -->\n\n全区紧紧围绕开展主题教育。\n\n全区上下团结一心。\n"
    draft, lines = read_markdown(md)
    found = lint_draft(draft, LintContext(vars={"本级": "县"}), lines=lines)
    assert [(f.rule, f.line) for f in found] == [("level", 7)]
    assert lint_draft(draft, LintContext(vars={"本级": "县"}, ignore=("level",)), lines=lines) == []


def test_campaigns_file_of_the_user(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from speechgen.errors import SpeechgenError
    from speechgen.lint.campaigns import load_campaigns

    mine = tmp_path / "c.yaml"
    mine.write_text("campaigns:\n  - {name: 作风建设年, from: 2025-01-01, to: 2025-12-31, slogans: [转作风、提效能]}\n",
                    encoding="utf-8")
    assert "作风建设年" in [c.name for c in load_campaigns(str(mine))]
    monkeypatch.setenv("SPEECHGEN_CAMPAIGNS", str(mine))
    found = rules("要坚持转作风、提效能，推动工作落实。", date="2024-05-20", campaign="党纪学习教育")
    assert [r for r, *_ in found] == ["stale-campaign"]
    bad = tmp_path / "bad.yaml"
    for body, message in [
        ("- x\n", f"{bad.name}: a campaigns file holds 'campaigns:' and a list — see docs/lint.md"),
        ("campaigns: [{name: x}]\n", f"{bad.name}: each campaign needs name, from and to — see docs/lint.md"),
        ("campaigns: [{name: x, from: soon, to: 2025-01-01}]\n", f"{bad.name}: x: 'soon' is not a date — write it as YYYY-MM-DD"),
    ]:
        bad.write_text(body, encoding="utf-8")
        load_campaigns.cache_clear()
        with pytest.raises(SpeechgenError) as exc:
            load_campaigns(str(bad))
        assert str(exc.value).endswith(message)
