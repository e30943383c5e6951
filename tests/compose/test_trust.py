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
    assert "<!-- fragment: s000.point.1 (000_6e77d68632e4004c.txt) -->\n\n## 一、" in md
    draft, _ = read_markdown(md)
    # a 推进会: not the opening of 000 (第二批主题教育即将启动…培训会) but one of its phase
    assert {b.source for b in draft.blocks} == {"", "s001b.opening.1", "s001b.transition.1", "s000.point.1",
                                                "s000.closing.1"}
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
    text = BASE + "date: 2023-08-28\ncampaign: 主题教育\npoints: [s003.point.3, s000.point.1]\n"
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
def test_examples_compose_with_no_finding_but_blanks(example: str, tmp_path: Path) -> None:
    from speechgen.compose import compose_file
    from speechgen.lint import lint_file

    c = compose_file(Path(__file__).parents[2] / "examples" / f"{example}.yaml", LIB, template_dirs(None))
    assert c.summary.findings == ()
    assert c.summary.blanks  # what is left for the writer is blanks, counted in the summary
    # and the draft as written, read back with its front matter and provenance, lints clean too
    md = tmp_path / "draft.md"
    md.write_text(to_markdown(c.draft), encoding="utf-8")
    assert lint_file(md, dirs=LIB) == []


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
    out = annotate(Fragment("y.point.1", "point", text="我们要认真学习对网络安全和信息化工作作出的重要指示精神。"))
    assert out.text == "我们要认真学习习近平总书记对网络安全和信息化工作作出的重要指示精神。"
    near = "我们要认真学习习近平总书记对网络安全和信息化工作作出的重要指示精神。学习对我们很重要。"
    assert annotate(Fragment("z.point.1", "point", text=near)).text == near
    out = annotate(Fragment("w.point.1", "point", text="我们要深刻理解思想的丰富内涵，从中找方法。"))
    assert out.text == "我们要深刻理解习近平新时代中国特色社会主义思想的丰富内涵，从中找方法。"
    general = "要深刻理解思想的力量，理解毛泽东思想的精神实质。"  # 思想 in general, or already named
    assert annotate(Fragment("v.point.1", "point", text=general)).text == general
    out = annotate(Fragment("u.point.1", "point", text="是我们党继思想、邓小平理论之后的理论成果。"))
    assert out.text == "是我们党继毛泽东思想、邓小平理论之后的理论成果。"
    named = "坚持马克思列宁主义、毛泽东思想、邓小平理论。"
    assert annotate(Fragment("t.point.1", "point", text=named)).text == named


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


# --------------------------------------------------------------------------- phase (issue #11 part 3)


def test_opening_and_closing_fit_the_meetings_phase() -> None:
    text = BASE + "meeting: 第二批主题教育推进会\ndate: 2023-08-28\ncampaign: 主题教育\npoints: [s000.point.1, s000.point.2]\n"
    c = run(text)
    opening = [u.id for u in c.summary.used if u.where == "开场"]
    assert opening == ["s001b.opening.1", "s001b.transition.1"]  # not 000's 即将启动…培训会, though its points are 000's
    assert "即将启动" not in to_markdown(c.draft)
    # the same points at a 推进会-type meeting said to be 筹备: the opening of their own speech fits
    c = run(text + "phase: 筹备\n")
    assert [u.id for u in c.summary.used if u.where == "开场"] == ["s000.opening.1"]


def test_no_opening_of_the_phase_leaves_none_and_says_so() -> None:
    c = run(BASE + "meeting: 主题教育总结大会\ndate: 2024-01-20\ncampaign: 主题教育\npoints: [s000.point.3]\n")
    assert not [u for u in c.summary.used if u.where == "开场"]
    assert ("no opening of the library fits a 总结 meeting — the draft has none; write one by hand "
            "(or name one under opening:)") in c.summary.warnings
    assert "筹备" not in "".join(b.text for b in c.draft.blocks[:3])


def test_phase_key_and_an_off_phase_fragment_named_by_id() -> None:
    c = run(BASE + "phase: 推进\ndate: 2023-08-28\nopening: s000.opening.1\npoints: [s000.point.1]\n")
    assert ("brief.yaml:5: 's000.opening.1' reads as 筹备 text; this is a 推进 meeting — check it fits, "
            "or pick another") in c.summary.warnings
    _, problems = parse_brief(BASE + "phase: 收尾\npoints: [a]\n", "brief.yaml")
    assert problems == ["brief.yaml:3: phase must be 筹备, 启动, 推进 or 总结, not '收尾' — or leave it out "
                        "(the meeting's name tells: 推进会 → 推进)"]


# --------------------------------------------------------------------------- a whole ending


def test_never_closes_right_after_a_point_cut_off_in_its_source() -> None:
    # 003's point 3 was cut off mid-sentence in its source (ingest trimmed it, truncated: true)
    text = BASE + "date: 2019-11-01\ncampaign: 不忘初心\npoints: [s003.point.1, s003.point.3]\n"
    c = run(text)
    assert "s003.point.3: dropped sub-point 4, cut off in its source, so the draft does not close on a broken end" \
        in c.summary.warnings
    # the brief's own choice of sub-points is kept, and the writer is told
    c = run(text.replace("s003.point.3]", "{id: s003.point.3, subpoints: [1, 4]}]"))
    assert ("s003.point.3 was cut off in its source and is the last point: the closing follows a broken end — "
            "finish the point by hand, or put another point last") in c.summary.warnings
    # as the first point, nothing to say
    c = run(text.replace("[s003.point.1, s003.point.3]", "[s003.point.3, s003.point.1]"))
    assert not [w for w in c.summary.warnings if "broken end" in w]


def test_cut_short() -> None:
    from speechgen.compose.pipeline import cut_short
    from speechgen.compose.selection import Pick
    from speechgen.model import Fragment, Subpoint

    subs = (Subpoint("一是", "要抓好。"), Subpoint("二是", "要抓实。"))
    whole = Fragment("a", "point", heading="h", text="要抓好。", subpoints=subs)
    assert not cut_short(Pick(whole, "point"))
    assert cut_short(Pick(Fragment("b", "point", heading="h", text="单位将开展整改落"), "point"))  # mid-sentence
    trimmed = Fragment("c", "point", heading="h", text="要抓好。", subpoints=subs, truncated=True)
    assert cut_short(Pick(trimmed, "point"))  # its last sub-point was cut back
    assert not cut_short(Pick(trimmed, "point", subpoints=(1,)))  # the first one was not
    assert not cut_short(Pick(Fragment("d", "point", heading="h", text='共{{ blank("数量") }}'), "point"))


# --------------------------------------------------------------------------- facts of a source speech


def test_the_brief_city_is_never_pasted_into_another_citys_history() -> None:
    from speechgen.compose import compose_file

    c = compose_file(Path(__file__).parents[2] / "examples" / "推进会.yaml", LIB, template_dirs(None))
    text = "\n".join(b.text for b in c.draft.blocks)
    assert "亲自担任临江市" not in text and "亲自担任【＿＿】机关效能建设领导小组组长" in text
    assert "临江市十二届人大" not in text and "《临江市机关效能建设工作条例》，这是国内首部" not in text
    assert "积极推动出台《临江市机关效能建设工作条例》" in text  # what we will do is ours: filled
    assert any(w.startswith("s001b.point.2: 3 facts of its source speech (another place's history、a dated event: «")
               and w.endswith("— their place, names, dates and figures are left blank — fill in this speech's own "
                              "or cut them") for w in c.summary.warnings)
    assert any(b.kind == "事实·地名" and b.fragment == "s001b.point.2" for b in c.summary.blanks)
    assert c.summary.findings == ()


def test_facts_keep_is_reported_by_lint_and_strict_refuses() -> None:
    text = BASE + "date: 2023-08-28\ncampaign: 主题教育\npoints: [{id: s001b.point.2, subpoints: [3]}]\nfacts: keep\n"
    c = run(text)
    found = [f for f in c.summary.findings if f.rule == "source-fact"]
    assert len(found) == 2 and "亲自担任临江市" in found[0].text and "临江市十二届人大" in found[1].text
    assert found[0].message == ("a fact of its source speech (another place's history, s001b.point.2) — it holds "
                                "there, not necessarily here")
    with pytest.raises(BriefError, match=r"^brief.yaml:6: s001b.point.2: 3 facts of its source speech .*\(--strict\) "
                                         r"— replace them with this speech's own, pick another point, or write facts: blank"):
        run(text, strict=True)
    with pytest.raises(BriefError, match=r"\(--strict\)"):
        run(text.replace("facts: keep", "facts: mark"), strict=True)
    assert run(text.replace("facts: keep", "facts: blank"), strict=True).summary.findings == ()
    _, problems = parse_brief(BASE + "points: [a]\nfacts: hide\n", "brief.yaml")
    assert problems == ["brief.yaml:4: facts must be mark, blank or keep, not 'hide'"]


def test_facts_blank_cuts_the_sentence_and_keeps_the_brief_blank_positions(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "x.yaml").write_text(
        "source: {file: x.txt, meeting: 推进会, year: 2023}\nfragments:\n  - id: x.point.1\n    kind: point\n"
        "    heading: 抓效能\n    text: '要抓好{{ blank(\"数量\") }}项工作。{{ blank(\"日期\") }}，他亲自担任{{ 市名 }}效能建设"
        "领导小组组长。还有{{ blank(\"数量\") }}项工作。'\n    slots: [市名]\n    blanks: [数量, 日期, 数量]\n"
        "    facts:\n      - {kind: 地方, text: '{{ blank(\"日期\") }}，他亲自担任{{ 市名 }}效能建设领导小组组长。'}\n",
        encoding="utf-8")
    brief, problems = parse_brief(BASE + "points: [x.point.1]\nopening: none\nclosing: none\nfacts: blank\n"
                                  "blanks: {x.point.1: {1: 三, 3: 五}}\n", "brief.yaml")
    c = compose(brief, [lib], template_dirs(None), problems=problems)
    body = next(b.text for b in c.draft.blocks if b.text.startswith("要抓好"))
    assert body == "要抓好三项工作。【＿＿】。还有五项工作。"


# --------------------------------------------------------------------------- length: adding


def test_length_adds_points_when_short() -> None:
    text = (BASE + "meeting: 第二批主题教育推进会\ndate: 2023-08-28\ncampaign: 主题教育\n"
            "points: [s001b.point.1]\nlength: 20分钟\n")
    short = run(text.replace("length: 20分钟\n", ""))
    c = run(text)
    assert c.summary.points > short.summary.points == 1
    assert 0.85 * 4400 <= c.summary.chars <= 1.05 * 4400, c.summary.chars
    added = next(w for w in c.summary.warnings if w.startswith("length: added "))
    assert added.endswith("to come near 4,400 字 — check they fit")
    used = [u.id for u in c.summary.used if u.where.startswith("第")]
    assert used[0] == "s001b.point.1"  # the brief's point stays first
    assert "s003.point.1" not in used and "s001b.point.2" not in used  # other campaign; another place's history
    assert c.summary.findings == ()  # points with a cut name come last, and were not needed
    # near enough already: nothing added
    assert not [w for w in run(text.replace("20分钟", "600字")).summary.warnings if w.startswith("length: added")]


def test_length_says_when_the_library_cannot_fill_it() -> None:
    c = run(BASE + "date: 2023-08-28\ncampaign: 主题教育\npoints: [s001b.point.1]\nlength: 100000字\n")
    assert any(w.startswith("length: the draft is about ") and w.endswith(
        "字 short of 100,000 字 — add a point (points:) or pick longer ones") for w in c.summary.warnings)


def test_pick_chars_counts_marks_not_markup() -> None:
    from speechgen.compose.selection import Pick, _fitting, pick_chars
    from speechgen.model import Fragment, Subpoint

    f = Fragment("a", "point", heading="抓落实", text='共{{ blank("数量") }}项。\n要抓好。',
                 subpoints=(Subpoint("一是", "学习。"), Subpoint("二是", "调研。")))
    assert pick_chars(Pick(f, "point")) == 3 + 11 + 5 + 5  # 共【＿＿】项。要抓好。 is 11
    assert pick_chars(Pick(f, "point", subpoints=(2,))) == 3 + 11 + 5
    assert _fitting(Pick(f, "point"), 21) == Pick(f, "point", 0, (1,))
    assert _fitting(Pick(f, "point"), 10) is None
