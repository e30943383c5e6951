"""Brief + library + template → Draft: selection, numbering, filling, summary (inline libraries)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest

from speechgen.compose.brief import parse_brief
from speechgen.compose.pipeline import Composed, compose, format_summary, missing_slots_message
from speechgen.compose.render import (
    count_word,
    fix_stated_count,
    point_label,
    strip_number,
    subpoint_label,
)
from speechgen.compose.templates import template_dirs
from speechgen.draft import from_markdown, to_markdown
from speechgen.errors import BriefError, TemplateError

# Source A numbers its points 第一，, source B 一、 (and left the number on a heading);
# C is a 2019 动员部署会 speech; D is a near-duplicate of A's first point.
LIB_A = """\
source: {file: a.txt, title: A, meeting: 推进会, year: 2023, campaign: 主题教育}
fragments:
  - id: a.opening.1
    kind: opening
    text: "今天我们在{{ 市名 }}召开推进会。\\n刚才，{{ blank('数量') }}家单位作了发言，{{ blank('人名') }}同志讲了话。下面我讲{{ 点数 }}点意见。"
    slots: [市名, 点数]
    blanks: [数量, 人名]
  - id: a.point.1
    kind: point
    number: 1
    heading: 认真学习理论，增强政治自觉
    text: "理论学习是根本。\\n{{ 上级 }}对此有明确要求。"
    slots: [上级]
    tags: [理论学习, 主题教育]
    variants: [{source: d.txt, id: d.point.1, similarity: 0.95}]
  - id: a.point.2
    kind: point
    number: 2
    heading: 深入调查研究，推动问题解决
    text: "{{ 本级 }}委要求大兴调查研究之风。"
    slots: [本级]
    tags: [调查研究, 主题教育]
  - id: a.closing.1
    kind: closing
    text: 我就讲这么多。谢谢大家。
"""
LIB_B = """\
source: {file: b.txt, title: B, meeting: 推进会, year: 2023, campaign: 主题教育}
fragments:
  - id: b.point.1
    kind: point
    number: 1
    heading: 一、认真学习铸忠魂
    text: 要铸牢忠魂。
    subpoints:
      - {lead: 一是坚定理想信念。, text: 理想信念是灵魂。}
      - {lead: 二是加强党性修养。, text: "党性修养要在{{ 年份 }}年抓紧，{{ blank('日期') }}前完成。"}
      - {lead: 三是锤炼政治品格。, text: "政治品格，{{ blank('数量') }}项要求。"}
    tail: 总之，要铸牢忠魂。
    tags: [理想信念, 形式主义]
    slots: [年份]
    blanks: [日期, 数量]
  - id: b.point.2
    kind: point
    number: 2
    heading: 力戒形式主义
    text: 坚决力戒形式主义、官僚主义，为基层减负
    tags: [形式主义]
    review: true
"""
LIB_C = """\
source: {file: c.txt, title: C, meeting: 动员部署会, year: 2019, campaign: 不忘初心}
fragments:
  - id: c.opening.1
    kind: opening
    text: 今天召开动员部署会，我讲六点意见。
  - id: c.point.1
    kind: point
    number: 1
    heading: 第一，突出快字，夯实组织基础
    text: 筹备工作要快。
    tags: [形式主义, 筹备]
  - id: c.closing.1
    kind: closing
    text: 同志们，从现在开始筹备组就正式开展工作了，2019年底前完成。
"""
LIB_D = """\
source: {file: d.txt, title: D, meeting: 推进会, year: 2023}
fragments:
  - id: d.point.1
    kind: point
    number: 1
    heading: 认真学习，增强政治自觉本领
    text: 学习是根本，要学深悟透，做到学思用贯通、知信行统一，在以学铸魂、以学增智上见真章。
    tags: [学习]
"""

BRIEF = """\
template: 推进会
meeting: 第二批主题教育推进会
speaker: 张明
date: 2024-03-15
vars: {市名: 临江市, 本级: 市, 上级: 省委}
points:
  - a.point.2
  - {id: b.point.1, subpoints: [1, 3]}
  - {query: 理论学习}
"""


@pytest.fixture()
def lib(tmp_path: Path) -> list[Path]:
    d = tmp_path / "lib"
    d.mkdir()
    for name, text in (("a", LIB_A), ("b", LIB_B), ("c", LIB_C), ("d", LIB_D)):
        (d / f"{name}.yaml").write_text(text, encoding="utf-8")
    return [d]


def run(text: str, lib: list[Path], tdirs: list[Path] | None = None, **kw: object) -> Composed:
    brief, problems = parse_brief(text, "brief.yaml")
    return compose(brief, lib, tdirs, problems=problems, **kw)  # type: ignore[arg-type]


def md(c: Composed) -> str:
    return to_markdown(c.draft)


def headings(c: Composed) -> list[str]:
    return [b.text for b in c.draft.blocks if b.kind == "heading1"]


def errors(text: str, lib: list[Path], **kw: object) -> str:
    with pytest.raises(BriefError) as err:
        run(text, lib, **kw)
    return str(err.value)


# --------------------------------------------------------------------------- numbering


def test_labels_in_every_style() -> None:
    assert [point_label("第一，", n) for n in (1, 2, 10, 11)] == ["第一，", "第二，", "第十，", "第十一，"]
    assert [point_label("一、", n) for n in (1, 3)] == ["一、", "三、"]
    assert [subpoint_label("一是", n) for n in (1, 2)] == ["一是", "二是"]
    assert [subpoint_label("（一）", 2), subpoint_label("1．", 2)] == ["（二）", "2．"]
    assert [count_word(n) for n in (1, 2, 3, 6)] == ["一", "两", "三", "六"]
    for raw in ("第一，认真学习", "一、认真学习", "（一）认真学习", "1．认真学习", "2.认真学习", "三是认真学习"):
        assert strip_number(raw) == "认真学习"
    assert strip_number("中央一、二批《指导意见》") == "中央一、二批《指导意见》"


def test_mixed_sources_get_one_consistent_numbering(lib: list[Path]) -> None:
    c = run(BRIEF, lib)
    assert headings(c) == [
        "一、深入调查研究，推动问题解决",
        "二、认真学习铸忠魂",
        "三、认真学习理论，增强政治自觉",
    ]
    text = BRIEF.replace("template: 推进会", "template: 动员部署会") + "  - c.point.1\n"
    c = run(text, lib)
    assert headings(c) == [
        "第一，深入调查研究，推动问题解决",
        "第二，认真学习铸忠魂",
        "第三，认真学习理论，增强政治自觉",
        "第四，突出快字，夯实组织基础",
    ]


def test_a_subset_of_subpoints_is_renumbered_with_bold_leads(lib: list[Path]) -> None:
    c = run(BRIEF, lib)
    blocks = [b for b in c.draft.blocks if b.text.startswith(("一是", "二是", "三是"))]
    assert [b.text for b in blocks] == ["一是坚定理想信念。理想信念是灵魂。", "二是锤炼政治品格。政治品格，【＿＿】项要求。"]
    assert [(s.text, s.style) for s in blocks[0].spans] == [("一是坚定理想信念。", "bold"), ("理想信念是灵魂。", "plain")]
    assert "总之，要铸牢忠魂。" in [b.text for b in c.draft.blocks]


def test_the_stated_count_matches_the_points(lib: list[Path]) -> None:
    assert "下面我讲三点意见。" in md(run(BRIEF, lib))
    two = BRIEF.replace("  - {query: 理论学习}\n", "")
    assert "下面我讲两点意见。" in md(run(two, lib))


def test_a_written_out_count_is_corrected_with_a_warning(lib: list[Path]) -> None:
    text = BRIEF.replace("template: 推进会", "template: 推进会\nopening: c.opening.1")
    c = run(text, lib)
    assert "今天召开动员部署会，我讲三点意见。" in md(c)
    assert "c.opening.1: said 六点; changed to 三点 to match the 3 points" in c.summary.warnings
    warnings: list[str] = []
    assert fix_stated_count(["我讲几点意见"], 4, "x", warnings) == ["我讲几点意见"] and not warnings


# --------------------------------------------------------------------------- the draft


def test_the_whole_draft(lib: list[Path]) -> None:
    c = run(BRIEF, lib)
    assert c.draft.title == "在临江市第二批主题教育推进会上的讲话"
    assert c.draft.speaker == "张明"
    assert c.draft.date == dt.date(2024, 3, 15)
    assert c.draft.date_line == "（2024年3月15日）"
    kinds = [b.kind for b in c.draft.blocks]
    assert kinds[:4] == ["title", "salutation", "paragraph", "paragraph"]
    assert c.draft.blocks[1].text == "同志们："
    assert c.draft.blocks[2].text == "今天我们在临江市召开推进会。"
    assert c.draft.blocks[-1].text == "我就讲这么多。谢谢大家。"
    assert "省委对此有明确要求。" in md(c)
    assert "{{" not in md(c) and "}}" not in md(c)


def test_the_draft_reads_back_from_its_markdown(lib: list[Path]) -> None:
    c = run(BRIEF, lib)
    again = from_markdown(to_markdown(c.draft), "x.md")
    assert again == replace(c.draft, notes=())  # lint notes are Word comments, not Markdown


def test_the_same_brief_gives_the_same_draft(lib: list[Path]) -> None:
    first = run(BRIEF, lib)
    assert md(run(BRIEF, lib)) == md(first)
    assert run(BRIEF, lib).summary == first.summary


def test_a_date_fills_the_year_where_the_text_needs_it(lib: list[Path]) -> None:
    text = BRIEF.replace("subpoints: [1, 3]", "subpoints: [2]")
    assert "**一是加强党性修养。**党性修养要在2024年抓紧，【＿＿】前完成。" in md(run(text, lib))


# --------------------------------------------------------------------------- slots and blanks


def test_missing_slots_are_reported_together_word_for_word(lib: list[Path]) -> None:
    text = BRIEF.replace("vars: {市名: 临江市, 本级: 市, 上级: 省委}\n", "vars: {本级: 市}\n").replace(
        "date: 2024-03-15\n", ""
    )
    text = text.replace("subpoints: [1, 3]", "subpoints: [2]")
    assert errors(text, lib) == (
        "brief.yaml: 3 slots have no value:\n"
        "  市名 — needed by the title, a.opening.1, template 推进会 — add it under vars: (市名: …)\n"
        "  年份 — needed by b.point.1 — add date: YYYY-MM-DD (or 年份: … under vars:)\n"
        "  上级 — needed by a.point.1 — add it under vars: (上级: …)\n"
        "(or run with --allow-blanks to leave visible blanks)"
    )
    assert missing_slots_message("b.yaml", {"市名": ["x.1"]}) == (
        "b.yaml: 1 slot has no value:\n"
        "  市名 — needed by x.1 — add it under vars: (市名: …)\n"
        "(or run with --allow-blanks to leave visible blanks)"
    )


def test_allow_blanks_leaves_visible_marks_that_are_listed(lib: list[Path]) -> None:
    text = BRIEF.replace("vars: {市名: 临江市, 本级: 市, 上级: 省委}\n", "vars: {本级: 市}\n")
    c = run(text, lib, allow_blanks=True)
    assert c.draft.title == "在【市名】第二批主题教育推进会上的讲话"
    assert c.draft.blocks[0].spans[1].style == "mark"
    where = [(b.where, b.fragment, b.mark, b.kind) for b in c.summary.blanks]
    assert where == [
        ("标题", "the title", "【市名】", "slot"),
        ("开场", "a.opening.1", "【市名】", "slot"),
        ("开场", "a.opening.1", "【＿＿】", "数量"),
        ("开场", "a.opening.1", "【＿＿】", "人名"),
        ("第二点", "b.point.1", "【＿＿】", "数量"),
        ("第三点", "a.point.1", "【上级】", "slot"),
    ]
    assert c.summary.blanks[2].context == "推进会。 刚才，【＿＿】家单位作了发言，"


def test_typed_blanks_are_filled_by_position(lib: list[Path]) -> None:
    text = BRIEF + "blanks: {a.opening.1: [五], b.point.1: {2: 三}}\n"
    c = run(text, lib)
    assert "刚才，五家单位作了发言，【＿＿】同志讲了话。" in md(c)
    assert "政治品格，三项要求。" in md(c)  # blank 2 of b.point.1 is in sub-point 3
    assert [b.kind for b in c.summary.blanks] == ["人名"]


def test_blank_positions_and_ids_are_checked(lib: list[Path]) -> None:
    text = BRIEF + "blanks:\n  a.opening.1: [五, 六, 七, 八]\n  a.opneing.1: [五]\n  a.closing.1: [x]\n"
    assert errors(text, lib) == (
        "3 errors in brief.yaml:\n"
        "  brief.yaml:11: blanks: 'a.opening.1' has 2 blanks; there is no blank 3 or 4 — see speechgen fragments show a.opening.1\n"
        "  brief.yaml:12: blanks: unknown fragment id 'a.opneing.1' — did you mean 'a.opening.1'?\n"
        "  brief.yaml:13: blanks: 'a.closing.1' has no blanks; there is no blank 1 — see speechgen fragments show a.closing.1"
    )


# --------------------------------------------------------------------------- selection


def test_unknown_ids_queries_and_template_are_all_reported(lib: list[Path]) -> None:
    text = "template: 推进\nmeeting: 推进会\npoints:\n  - a.piont.2\n  - {query: 量子物理}\n  - a.point.1\n  - d.point.1\n"
    assert errors(text, lib) == (
        "4 errors in brief.yaml:\n"
        "  brief.yaml:1: unknown template '推进' — did you mean '推进会'? (templates: 动员部署会, 推进会, 领导小组会议)\n"
        "  brief.yaml:4: unknown fragment id 'a.piont.2' — did you mean 'a.point.2'?\n"
        "  brief.yaml:5: query '量子物理' matches no fragment — try other words or pick an id "
        "(speechgen fragments search 量子物理)\n"
        "  brief.yaml:7: 'd.point.1' is a variant of 'a.point.1' (line 6) — a speech uses only one of them; remove one"
    )


def test_subpoint_ranges_and_repeats(lib: list[Path]) -> None:
    text = "template: 推进会\nvars: {市名: x}\npoints:\n  - {id: b.point.1, subpoints: [4]}\n  - {id: a.point.2, subpoints: [1]}\n  - b.point.2\n  - b.point.2\n"
    assert errors(text, lib) == (
        "3 errors in brief.yaml:\n"
        "  brief.yaml:4: 'b.point.1' has 3 sub-points; 4 is out of range — use numbers 1 to 3\n"
        "  brief.yaml:5: 'a.point.2' has no sub-points — remove 'subpoints:'\n"
        "  brief.yaml:7: 'b.point.2' is already used (line 6) — list each point once"
    )


def test_only_points_go_under_points(lib: list[Path]) -> None:
    text = "template: 推进会\nvars: {市名: x}\npoints: [a.opening.1, a.closing.1]\n"
    assert errors(text, lib) == (
        "2 errors in brief.yaml:\n"
        "  brief.yaml:3: 'a.opening.1' is an opening, not a point — name it under opening:\n"
        "  brief.yaml:3: 'a.closing.1' is a closing, not a point — name it under closing:"
    )


def test_a_query_never_takes_a_variant_of_a_used_point(lib: list[Path]) -> None:
    text = "template: 推进会\nvars: {市名: x, 上级: y}\npoints:\n  - a.point.1\n  - {query: 政治自觉}\n"
    message = errors(text, lib)
    assert message.startswith("brief.yaml:5: query '政治自觉' matches only points already used (")
    assert "a.point.1" in message and "d.point.1" in message


def test_queries_only(lib: list[Path]) -> None:
    text = "template: 推进会\ndate: 2024-03-15\nvars: {市名: 临江市, 本级: 市, 上级: 省委}\npoints:\n  - {query: 形式主义, count: 2}\n  - {query: 调查研究}\n"
    c = run(text, lib)
    ids = [u.id for u in c.summary.used if u.where.endswith("点")]
    assert len(ids) == len(set(ids)) == 3
    assert ids[2] == "a.point.2"
    assert headings(c)[0].startswith("一、") and headings(c)[2].startswith("三、")


def test_campaign_and_year_are_preferred_among_good_hits(lib: list[Path]) -> None:
    base = "template: 推进会\nvars: {市名: x, 本级: 市, 上级: y}\npoints:\n  - {tags: [形式主义], count: 3}\n"
    c = run(base + "date: 2019-05-01\ncampaign: 不忘初心\n", lib, any_date=True)
    # c first, then b.point.1 and b.point.2 — but b.point.2 stops mid-sentence, so it does not
    # go last, right before the closing
    assert [u.id for u in c.summary.used][1:4] == ["c.point.1", "b.point.2", "b.point.1"]
    assert "b.point.2 was cut off in its source: put b.point.1 last, so the draft does not close on a broken end" \
        in c.summary.warnings
    c = run(base + "date: 2024-05-01\ncampaign: 主题教育\n", lib, any_date=True)
    assert [u.id for u in c.summary.used][1:4] == ["b.point.1", "b.point.2", "c.point.1"]
    assert "c.point.1 comes from a 不忘初心 speech; this one is about 主题教育" in c.summary.warnings
    assert (
        "c.point.1 comes from a 2019 speech (c.txt) in a 2024 speech — check dates, figures and names"
        in c.summary.warnings
    )


def test_tags_that_match_nothing_or_too_few(lib: list[Path]) -> None:
    base = "template: 推进会\nvars: {市名: x, 本级: 市}\npoints:\n"
    assert errors(base + "  - {tags: [量子]}\n", lib) == (
        "brief.yaml:4: no point has the tags 量子 — see the tags with 'speechgen fragments list --kind point'"
    )
    c = run(base + "  - {tags: [调查研究], count: 2}\n", lib)
    assert c.summary.warnings[0] == (
        "brief.yaml:4: tags 调查研究 gave 1 of the 2 points asked for — every other match is already used"
    )


def test_auto_opening_and_closing_fit_the_meeting_type(lib: list[Path]) -> None:
    text = "template: 动员部署会\nvars: {市名: x, 本级: 市}\npoints: [a.point.2]\n"
    c = run(text, lib)
    assert [u.id for u in c.summary.used] == ["c.opening.1", "a.point.2", "c.closing.1"]
    c = run(text + "date: 2024-01-02\n", lib)
    assert "c.closing.1 mentions 2019年 — check it fits a speech dated 2024" in c.summary.warnings
    c = run(text.replace("动员部署会", "推进会"), lib)
    assert [u.id for u in c.summary.used] == ["a.opening.1", "a.point.2", "a.closing.1"]
    c = run(text + "opening: none\nclosing: none\n", lib)
    assert [u.id for u in c.summary.used] == ["a.point.2"]


def test_review_and_cut_off_fragments_are_warned_about(lib: list[Path]) -> None:
    text = "template: 推进会\nvars: {市名: x}\npoints: [b.point.2]\n"
    warnings = run(text, lib).summary.warnings
    assert "b.point.2 is marked review (its boundaries were guessed) — read it through" in warnings
    assert "b.point.2 ends mid-sentence (…主义，为基层减负) — finish or cut its last sentence" in warnings


def test_summary_counts_characters_and_time(lib: list[Path]) -> None:
    c = run(BRIEF, lib, rate=10)
    assert c.summary.chars == sum(len("".join(b.text.split())) for b in c.draft.body)
    assert c.summary.rate == 10
    text = format_summary(c.summary)
    assert text.startswith(f"3 points, {c.summary.chars} 字, about {round(c.summary.chars / 10)} minutes at 10 字/分钟")
    assert "  开场　  a.opening.1  from a.txt (2023)" in text


# --------------------------------------------------------------------------- templates


def test_user_templates_win_and_are_sandboxed(
    lib: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    mine = Path("mine")
    mine.mkdir()
    (mine / "推进会.j2").write_text("# {{ title }}\n\n各位同志：\n\n{% include '_points.j2' %}\n", encoding="utf-8")
    (mine / "推进会.yaml").write_text("numbering: 第一，\nsalutation: x\n", encoding="utf-8")
    c = run(BRIEF, lib, template_dirs([mine]))
    assert c.draft.blocks[1].text == "各位同志："
    assert headings(c)[0] == "第一，深入调查研究，推动问题解决"
    (mine / "坏.j2").write_text("# {{ title.__class__.__mro__ }}\n", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        run(BRIEF.replace("template: 推进会", "template: 坏"), lib, template_dirs([mine]))
    assert str(err.value) == (
        "mine/坏.j2: access to attribute '__class__' of 'str' object is unsafe. — "
        "a template may only use the variables given to it"
    )
    (mine / "坏.yaml").write_text("numbering: 1)\n", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        run(BRIEF.replace("template: 推进会", "template: 坏"), lib, template_dirs([mine]))
    assert str(err.value) == "mine/坏.yaml: numbering '1)' is not one of 第一，, 一、"


def test_a_template_syntax_error_names_the_line(lib: list[Path], tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "x.j2").write_text("# {{ title }}\n\n{% for p in opening %}\n", encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        run(BRIEF.replace("template: 推进会", "template: x"), lib, template_dirs([mine]))
    assert "x.j2:3: template syntax error: " in str(err.value)
    assert str(err.value).endswith(" — fix the template")


def test_keywords_are_the_fragments_tags_the_draft_says(lib: list[Path]) -> None:
    # 主题教育 is carried by two of the fragments; 调查研究 and 理想信念 are said twice,
    # 理论学习 once; 形式主义 is a tag of b.point.1 the draft never says.
    c = run(BRIEF, lib)
    assert c.draft.keywords == ("主题教育", "调查研究", "理想信念", "理论学习")
    assert from_markdown(to_markdown(c.draft), "x.md").keywords is None  # found in the text on export
