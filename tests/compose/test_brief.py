"""brief.yaml → Brief: shapes, line numbers and the exact text of every problem."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from speechgen.compose.brief import brief_from_file, load_brief, parse_brief, parse_date
from speechgen.errors import BriefError, SpeechgenError

GOOD = """\
template: 推进会
title: 在临江市第二批主题教育推进会上的讲话
meeting: 第二批主题教育推进会
speaker: 张明
date: 2024-03-15
vars: {市名: 临江市, 本级: 市, 上级: 省委, 届次: 3}
opening: auto
points:
  - s000.point.1
  - {id: s001b.point.1, subpoints: [1, 3]}
  - {query: 调查研究}
  - {tags: [形式主义], count: 2}
  - {id: s000.point.2, heading: 改写后的标题}
closing: [s002.requirements.1, s002.closing.1]
blanks: {s000.opening.1: [三, null, 五], s004.point.2: {2: 十}}
speaking_rate: 200
"""


def problems_of(text: str, shown: str = "brief.yaml") -> list[str]:
    return parse_brief(text, shown)[1]


def test_a_full_brief_reads_into_a_frozen_brief() -> None:
    brief, problems = parse_brief(GOOD)
    assert problems == []
    assert brief.template == "推进会"
    assert brief.meeting == "第二批主题教育推进会"
    assert brief.date == dt.date(2024, 3, 15)
    assert brief.vars == {"市名": "临江市", "本级": "市", "上级": "省委", "届次": "3"}
    assert brief.opening.mode == "auto"
    assert brief.closing.mode == "ids"
    assert brief.closing.ids == ("s002.requirements.1", "s002.closing.1")
    forms = [(p.form, p.line) for p in brief.points]
    assert forms == [("id", 9), ("id", 10), ("query", 11), ("tags", 12), ("id", 13)]
    assert brief.points[1].subpoints == (1, 3)
    assert brief.points[3].tags == ("形式主义",) and brief.points[3].count == 2
    assert brief.points[4].heading == "改写后的标题"
    assert brief.blanks == {"s000.opening.1": {1: "三", 3: "五"}, "s004.point.2": {2: "十"}}
    assert brief.speaking_rate == 200
    assert brief.where("date") == "brief.yaml:5"
    with pytest.raises(AttributeError):
        brief.template = "x"  # type: ignore[misc]


def test_unknown_key_names_file_line_and_the_closest_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    lines = GOOD.splitlines()
    lines[7] = "pionts:"
    text = "\n".join(lines[:7] + ["points: [s000.point.1]"] + lines[7:]) + "\n"
    (tmp_path / "examples" / "x.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(BriefError) as err:
        brief_from_file(Path("examples/x.yaml"))
    assert str(err.value) == "examples/x.yaml:9: unknown key 'pionts' — did you mean 'points'?"


def test_unknown_key_without_a_close_match_lists_the_keys() -> None:
    assert problems_of("template: 推进会\npoints: [a]\nzzz: 1\n") == [
        "brief.yaml:3: unknown key 'zzz' — known keys: template, title, meeting, speaker, date, "
        "campaign, phase, vars, salutation, opening, points, closing, blanks, speaking_rate, length, facts, "
        "lint"
    ]


@pytest.mark.parametrize("value", ["2024-13-45", "2024-02-30", "15.03.2024", "明天", "20240315"])
def test_a_date_that_is_not_a_date(value: str) -> None:
    text = f"template: 推进会\nmeeting: 推进会\nspeaker: 张明\npoints: [a]\ndate: {value}\n"
    assert problems_of(text) == [
        f"brief.yaml:5: date '{value}' is not a date — write it as YYYY-MM-DD, e.g. 2024-03-15"
    ]


@pytest.mark.parametrize("value", ["2024-03-15", "2024-3-5", "2024/3/15", "2024年3月15日", "'2024-03-15'"])
def test_dates_in_common_spellings(value: str) -> None:
    brief, problems = parse_brief(f"template: t\npoints: [a]\ndate: {value}\n")
    assert problems == []
    assert brief.date in (dt.date(2024, 3, 15), dt.date(2024, 3, 5))


def test_parse_date_has_no_leading_zero_trouble() -> None:
    assert parse_date("2024-03-05") == dt.date(2024, 3, 5)
    assert parse_date("2024-3") is None


def test_python_tags_are_refused_and_nothing_is_built() -> None:
    text = "template: 推进会\npoints:\n  - !!python/object/apply:os.system [echo hi]\n"
    assert problems_of(text) == [
        "brief.yaml:3: the YAML tag !!python/object/apply:os.system is not allowed — only plain YAML "
        "(text, numbers, lists, mappings) is read, nothing that builds Python objects"
    ]


def test_a_refused_value_is_reported_once() -> None:
    assert problems_of("template: !!python/name:os.system\npoints: [a]\n") == [
        "brief.yaml:1: the YAML tag !!python/name:os.system is not allowed — only plain YAML "
        "(text, numbers, lists, mappings) is read, nothing that builds Python objects"
    ]


def test_yaml_syntax_error_names_line_and_column() -> None:
    with pytest.raises(SpeechgenError) as err:
        parse_brief("template: 推进会\npoints: [a, b\nclosing: auto\n")
    assert str(err.value).startswith("brief.yaml:3:")
    assert "YAML syntax error" in str(err.value)


def test_every_problem_at_once_sorted_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("brief.yaml").write_text(
        "template: 推进会\ndate: 2024-13-45\nmeting: x\npoints:\n  - 42.5\n  - {query: a, tags: [b]}\n",
        encoding="utf-8",
    )
    with pytest.raises(BriefError) as err:
        brief_from_file(Path("brief.yaml"))
    assert str(err.value) == (
        "4 errors in brief.yaml:\n"
        "  brief.yaml:2: date '2024-13-45' is not a date — write it as YYYY-MM-DD, e.g. 2024-03-15\n"
        "  brief.yaml:3: unknown key 'meting' — did you mean 'meeting'?\n"
        "  brief.yaml:5: points item 1 must be a fragment id, {id: …}, {query: …} or {tags: […]}\n"
        "  brief.yaml:6: points item 2 needs exactly one of id, query or tags (found query and tags)"
    )


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("{id: a, subpoints: [0, 2]}", "points item 1: subpoints must be a list of sub-point numbers such as [1, 3]"),
        ("{id: a, subpoints: [2, 2]}", "points item 1: subpoints lists a sub-point twice — keep each number once"),
        ("{query: a, count: 0}", "count must be a whole number of points (1, 2, …), not '0'"),
        ("{tags: {a: 1}}", "points item 1: tags must be a tag or a list of tags, e.g. [形式主义]"),
        ("{id: a, cuont: 2}", "unknown key 'cuont' in points item 1 — with id: use id, subpoints, heading"),
        ("{query: a, cuont: 2}", "unknown key 'cuont' in points item 1 — did you mean 'count'?"),
        ("{query: [a]}", "points item 1: query must be text"),
    ],
)
def test_point_item_problems(item: str, problem: str) -> None:
    assert problems_of(f"template: t\npoints:\n  - {item}\n") == [f"brief.yaml:3: {problem}"]


def test_missing_required_keys_and_wrong_shapes() -> None:
    assert problems_of("title: x\n") == [
        "brief.yaml: no 'template:' — add it (see docs/brief.md or run speechgen brief init)",
        "brief.yaml: no 'points:' — add a list of fragment ids, {query: …} or {tags: […]} items",
    ]
    assert problems_of("template: t\npoints: []\n") == [
        "brief.yaml:2: 'points' must be a non-empty list (one item per point of the speech)"
    ]
    assert problems_of("- a\n- b\n") == [
        "brief.yaml: a brief must be a mapping of keys (template:, points:, …) — "
        "see docs/brief.md or run speechgen brief init"
    ]
    assert problems_of("template: [a]\npoints: [a]\n") == [
        "brief.yaml:1: 'template' must be text, not a list — write it as 'template: …' on one line"
    ]


def test_vars_blanks_rate_and_choices() -> None:
    text = (
        "template: t\npoints: [a]\nvars:\n  市名:\n  本级: [市]\nblanks: {a: {x: 1}}\n"
        "speaking_rate: fast\nopening: {a: 1}\nclosing: none\n"
    )
    assert problems_of(text) == [
        "brief.yaml:4: vars: '市名' is empty — give it a text value (市名: …)",
        "brief.yaml:5: vars: '本级' is a list — give it a text value (本级: …)",
        "brief.yaml:6: blanks of 'a' must be a list in order ([三, 五]) or positions ({2: 五})",
        "brief.yaml:7: speaking_rate must be characters per minute, e.g. 220, not 'fast'",
        "brief.yaml:8: 'opening' must be auto, none, a fragment id or a list of ids",
    ]
    brief, _ = parse_brief("template: t\npoints: [a]\nclosing: none\nopening: s000.opening.1\n")
    assert brief.closing.mode == "none"
    assert (brief.opening.mode, brief.opening.ids, brief.opening.line) == ("ids", ("s000.opening.1",), 4)


def test_meeting_defaults_to_the_template_name() -> None:
    brief, _ = parse_brief("template: 领导小组会议\npoints: [a]\n")
    assert brief.meeting == "领导小组会议"


def test_file_problems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BriefError) as err:
        load_brief(Path("nope.yaml"))
    assert str(err.value) == "nope.yaml: no such file — check the path (speechgen brief init writes one)"
    Path("gbk.yaml").write_bytes("template: 推进会\n".encode("gbk"))
    with pytest.raises(BriefError) as err:
        load_brief(Path("gbk.yaml"))
    assert str(err.value) == "gbk.yaml: not UTF-8 text — save the brief as UTF-8"
    Path("bom.yaml").write_bytes("template: 推进会\npoints: [a]\n".encode("utf-8-sig"))
    assert load_brief(Path("bom.yaml"))[0].template == "推进会"
