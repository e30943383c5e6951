"""Facts of a source speech (speechgen/facts.py): found at ingest, marked by compose, reported
by lint's source-fact rule — each on inline texts, with hits and near-misses."""

from __future__ import annotations

import pytest

from speechgen.facts import find_facts, mark, pattern, sentence_facts
from speechgen.lint import LintContext, lint_draft
from speechgen.lint.files import text_draft
from speechgen.model import Fact, Fragment, Subpoint

HISTORY = ("{{ blank(\"日期\") }}，他亲自担任{{ 市名 }}机关效能建设领导小组组长，并在全{{ 本级 }}电视电话会议上作了阐释。")
LAW = "2019年3月，{{ 市名 }}十二届人大常委会第六次会议审议通过了《{{ 市名 }}机关效能建设工作条例》，这是国内首部地方性法规。"


@pytest.mark.parametrize(("sentence", "kind"), [
    (HISTORY, "地方"),
    (LAW, "地方"),
    ("时任{{ 市名 }}市委书记的他倡导了这项工作。", "地方"),
    ("{{ 本级 }}委于9月26日召开工作会议启动全{{ 本级 }}第一批主题教育。", "事件"),
    ("市委成立了领导小组，王建国同志任组长。", "人名"),
    ("{{ 本级 }}委成立了领导小组，{{ blank(\"人名\") }}同志任组长。", "人名"),
    ("省里采取远程视频方式同步培训1.8万人。", "数字"),
    ("深入到2个县和2所高校调研指导。", "数字"),
])
def test_facts_found(sentence: str, kind: str) -> None:
    assert sentence_facts(sentence)[0] == kind


@pytest.mark.parametrize("sentence", [
    "全市各级党组织要把主题教育作为重大政治任务，抓紧抓实。",       # a generic 全市 statement
    "{{ 本级 }}委要求大兴调查研究之风，推动问题解决。",            # our own unit, no date, name or figure
    "我们要积极推动出台《{{ 市名 }}机关效能建设工作条例》。",          # what we will do, not what was done
    "习近平总书记指出，“作风问题本质上是党性问题”。",                # the leader every speech cites
    "2023年4月，中央召开学习贯彻习近平新时代中国特色社会主义思想主题教育工作会议。",  # a central event
    "中央提出的8个专项整治要一体推进。",                             # a central figure
    "同志们，我们要以高度的政治责任感做好各项工作。",                 # 同志们 is no name
    "第二批主题教育从9月开始，到明年1月基本结束。",                   # dates of the campaign, no local actor
])
def test_generic_statements_are_not_facts(sentence: str) -> None:
    assert sentence_facts(sentence) == []


def test_find_facts_in_body_sub_points_and_tail_not_headings() -> None:
    frag = Fragment("x.point.1", "point", heading="王建国同志任组长时的经验",
                    text="要抓好学习。" + HISTORY, subpoints=(Subpoint("一是", LAW),), tail="全市上下要行动起来。")
    facts = find_facts(frag)
    assert [f.kind for f in facts] == ["地方", "地方"]
    assert facts[0].text == HISTORY and facts[1].text == LAW


def test_mark_blanks_the_place_and_literal_specifics() -> None:
    assert mark(Fact("地方", HISTORY)) == (
        '{{ blank("日期") }}，他亲自担任{{ fact("地名") }}机关效能建设领导小组组长，并在全{{ fact("地名") }}电视电话会议上作了阐释。')
    # a dated event of our own unit keeps 本级 (the writer's own 市委), its literal date goes
    assert mark(Fact("事件", "{{ 本级 }}委于9月26日召开工作会议。")) == '{{ 本级 }}委于{{ fact("日期") }}召开工作会议。'
    assert mark(Fact("人名", "市委成立了领导小组，王建国同志任组长。")) == '市委成立了领导小组，{{ fact("人名") }}同志任组长。'
    assert mark(Fact("数字", "同步培训1.8万人。")) == '同步培训{{ fact("数量") }}。'
    same = "{{ 本级 }}委成立了领导小组，{{ blank(\"人名\") }}同志任组长。"
    assert mark(Fact("人名", same)) == same  # the source's copy already blanked the name


def test_pattern_finds_the_rendered_fact() -> None:
    m = pattern(Fact("地方", HISTORY)).search("【＿＿】，他亲自担任临江市机关效能建设领导小组组长，并在全市电视电话会议上作了阐释。")
    assert m is not None and m.groups() == ("临江市", "市")


def _lint(text: str, facts: dict[str, tuple[Fact, ...]]) -> list[str]:
    from dataclasses import replace

    draft, lines = text_draft(text)
    draft = replace(draft, blocks=tuple(replace(b, source="f.point.1") for b in draft.blocks))
    found = lint_draft(draft, LintContext(date="2023-08-28", facts=facts, years={"f.point.1": 2023}), lines=lines)
    return [f.rule for f in found]


def test_source_fact_rule_hits_and_near_misses() -> None:
    facts = {"f.point.1": (Fact("地方", HISTORY), Fact("人名", "市委成立了领导小组，王建国同志任组长。"),
                           Fact("人名", "领导小组下设办公室，{{ blank(\"人名\") }}同志兼任主任。"))}
    pasted = "【＿＿】，他亲自担任临江市机关效能建设领导小组组长，并在全市电视电话会议上作了阐释。"
    assert _lint(pasted, facts) == ["source-fact"]  # the brief's 市名 in another city's history
    marked = "【＿＿】，他亲自担任【＿＿】机关效能建设领导小组组长，并在全【＿＿】电视电话会议上作了阐释。"
    assert _lint(marked, facts) == []  # compose left the place blank
    assert _lint("市委成立了领导小组，王建国同志任组长。", facts) == ["source-fact"]
    assert _lint("市委成立了领导小组，李明同志任组长。", facts) == []  # the writer's own fact now
    assert _lint("领导小组下设办公室，张三同志兼任主任。", facts) == []  # the writer filled the blank
    assert _lint(pasted, {}) == []  # no provenance, no finding
