"""Compose and lint together (issue #11): front matter, provenance, lint in the summary and
as notes, campaign mixing, a date outside the campaign, ingest's annotations."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechgen.compose import template_dirs
from speechgen.compose.brief import parse_brief
from speechgen.compose.pipeline import compose, format_summary
from speechgen.draft import read_markdown, to_markdown
from speechgen.errors import BriefError
from speechgen.paths import shipped

LIB = [shipped("fragments")]
BASE = "template: 推进会\nvars: {市名: 临江市, 本级: 市, 上级: 省委}\n"


def run(text: str, **kw: bool):  # type: ignore[no-untyped-def]
    brief, problems = parse_brief(text, "brief.yaml")
    return compose(brief, LIB, template_dirs(None), problems=problems, **kw)


def test_front_matter_and_provenance_read_back() -> None:
    c = run(BASE + "date: 2023-08-28\ncampaign: 主题教育\npoints: [s000.point.1]\n")
    md = to_markdown(c.draft)
    assert "meeting: 推进会\ntemplate: 推进会\ncampaign: 主题教育\n市名: 临江市\n本级: 市\n" in md
    assert "<!-- fragment: s000.point.1 -->\n\n## 一、" in md
    draft, _ = read_markdown(md)
    assert {b.source for b in draft.blocks} == {"", "s000.opening.1", "s000.point.1", "s000.closing.1"}
    assert draft.meta["本级"] == "市"


def test_mixing_campaigns_warns_and_strict_refuses() -> None:
    text = BASE + "date: 2023-08-28\ncampaign: 主题教育\npoints: [s000.point.1, s003.point.1]\n"
    c = run(text)
    assert any(w.startswith("the draft mixes campaigns: 学习贯彻") for w in c.summary.warnings)
    with pytest.raises(BriefError, match=r"brief.yaml: the draft mixes campaigns: .* \(--strict\) — pick points"):
        run(text, strict=True)


def test_a_date_outside_the_campaign_is_refused_unless_told() -> None:
    text = BASE + "date: 2024-03-15\ncampaign: 主题教育\npoints: [s000.point.1]\n"
    with pytest.raises(BriefError) as exc:
        run(text)
    assert ("brief.yaml:3: date 2024-03-15 is outside 学习贯彻习近平新时代中国特色社会主义思想主题教育 "
            "(2023-04-03 to 2024-01-31) — check the date or the campaign, or compose with --any-date") in str(exc.value)
    assert run(text, any_date=True).draft.title


def test_lint_findings_in_the_summary_and_as_notes() -> None:
    text = BASE + "date: 2023-08-28\ncampaign: 主题教育\npoints: [s000.point.1, s003.point.3]\n"
    c = run(text)
    rules = {f.rule for f in c.summary.findings}
    assert {"stale-campaign", "relative-date"} <= rules
    assert "Lint: " in format_summary(c.summary)
    assert len(c.draft.notes) == len(c.summary.findings)
    note = c.draft.notes[0]
    assert note.author == "speechgen" and note.text in c.draft.blocks[note.block].text
    assert run(text, comments=False).draft.notes == ()


def test_lint_ignore_in_the_brief() -> None:
    text = (BASE + "date: 2023-08-28\ncampaign: 主题教育\npoints: [s000.point.1, s003.point.3]\n"
            "lint: {ignore: [stale-campaign, relative-date]}\n")
    rules = {f.rule for f in run(text).summary.findings}
    assert not rules & {"stale-campaign", "relative-date"}
    brief, problems = parse_brief(BASE + "points: [a]\nlint: {ignore: [levle]}\n", "brief.yaml")
    assert problems == ["brief.yaml:4: lint: unknown rule 'levle' — did you mean 'level'?"]
    _, problems = parse_brief(BASE + "points: [a]\nlint: [level]\nlength: 二十分钟\n", "brief.yaml")
    assert problems == [
        "brief.yaml:4: lint must be {ignore: [rule, …]}, e.g. lint: {ignore: [level]}",
        "brief.yaml:5: length must be minutes or characters, e.g. 20分钟 or 5000字, not '二十分钟'",
    ]
    _, problems = parse_brief(BASE + "points: [a]\nblanks: {a: [[1]]}\n", "brief.yaml")
    assert problems == ["brief.yaml:4: blanks of 'a': each value must be text, not a list or mapping — write [三, 五]"]


@pytest.mark.parametrize("example", ["推进会", "动员部署会", "领导小组会议"])
def test_examples_compose_with_no_finding(example: str) -> None:
    from speechgen.compose import compose_file

    c = compose_file(Path(__file__).parents[2] / "examples" / f"{example}.yaml", LIB, template_dirs(None))
    assert c.summary.findings == ()


def test_ingest_restores_certain_cut_names_and_level() -> None:
    from speechgen.ingest.annotate import annotate, source_level
    from speechgen.model import Fragment, Subpoint

    frag = Fragment("x.point.1", "point", text="要在推动学习贯彻思想走深走实上下功夫，保证全区主题教育开好局。",
                    subpoints=(Subpoint("一是", "区委专门研究。要把工作做实，第一批单位将开展整改落"),))
    out = annotate(frag, source_level("全区上下，我区"))
    assert "学习贯彻习近平新时代中国特色社会主义思想走深走实" in out.text
    assert "全{{ 本级 }}主题教育" in out.text and "本级" in out.slots
    assert out.subpoints[0].text == "{{ 本级 }}委专门研究。" and out.review
    assert out.restored == ("学习贯彻思想 → 学习贯彻习近平新时代中国特色社会主义思想 (a name cut by the web copy)",)
    assert source_level("全省、全市") == ""


def test_a_heading_naming_the_query_outranks_a_passing_mention() -> None:
    from speechgen.compose.selection import _headed
    from speechgen.model import Fragment, Subpoint

    assert _headed(Fragment("a", "point", heading="深入调查研究，推动问题解决"), "调查研究") == 2
    assert _headed(Fragment("b", "point", heading="抓落实", subpoints=(Subpoint("大兴调查研究之风"),)), "调查研究") == 1
    assert _headed(Fragment("c", "point", heading="抓落实", text="要搞好调查研究。"), "调查研究") == 0
    c = run(BASE + "points: [{query: 调查研究}]\n")
    point = next(u for u in c.summary.used if u.where == "第一点")
    from speechgen.library import open_store

    lib = open_store(LIB).library()
    assert _headed(lib.get(point.id), "调查研究") == 1  # a whole sub-point on it, not a passing mention


def test_length_trims_open_sub_points() -> None:
    text = BASE + "date: 2023-08-28\ncampaign: 主题教育\npoints: [s001b.point.2, s001b.point.3]\n"
    full = run(text)
    short = run(text + "length: 10分钟\n")
    assert short.summary.chars < full.summary.chars
    assert any(w.startswith("length: dropped sub-point 3 of s001b.point.3") for w in short.summary.warnings)
    fixed = run(BASE + "points: [{id: s001b.point.2, subpoints: [1, 2, 3]}]\nlength: 100字\n")
    assert "length: the draft is about" in " ".join(fixed.summary.warnings)  # the brief's own choice is kept
