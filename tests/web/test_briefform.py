"""The compose form written as brief YAML reads back, through the CLI's parse_brief, as the same brief."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from speechgen.compose.brief import parse_brief
from speechgen.web.briefform import SHOWN, BriefForm, PointItem, place_errors, scalar

TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: s.strip() == s and s.strip())


@settings(max_examples=200, deadline=None)
@given(city=TEXT, speaker=TEXT, query=TEXT)
def test_any_text_survives_the_round_trip(city: str, speaker: str, query: str) -> None:
    form = BriefForm(speaker=speaker, vars={"市名": city}, points=[PointItem(query=query)])
    text, _ = form.to_yaml()
    brief, problems = parse_brief(text, SHOWN)
    assert problems == []
    assert brief.vars == {"市名": city} and brief.speaker == speaker
    assert brief.points[0].query == query


def test_lines_of_fields_are_the_lines_of_the_brief() -> None:
    form = BriefForm(date="2024-03-15", vars={"市名": "临江市", "上级": ""},
                     points=[PointItem(id="s000.point.1"), PointItem(id="s001b.point.1", subpoints=(1, 3))])
    text, where = form.to_yaml()
    lines = text.splitlines()
    assert lines[where["date"] - 1] == "date: 2024-03-15"
    assert lines[where["var:市名"] - 1] == "  市名: 临江市"
    assert "var:上级" not in where  # an empty field is not given: compose then names the slot
    assert lines[where["point:1"] - 1] == "  - {id: s001b.point.1, subpoints: [1, 3]}"


def test_messages_go_to_their_fields() -> None:
    where = {"date": 5, "point:0": 9}
    placed = place_errors(
        "3 errors in 简报.yaml:\n"
        "  简报.yaml:5: date '2024-13-45' is not a date — write it as YYYY-MM-DD, e.g. 2024-03-15\n"
        "  简报.yaml:9: unknown fragment id 's000.piont.2' — did you mean 's000.point.2'?\n"
        "  简报.yaml: something without a line", where)
    assert list(placed.fields) == ["date", "point:0"]
    assert placed.general == ["简报.yaml: something without a line"]
    slots = place_errors("简报.yaml: 2 slots have no value:\n"
                         "  市名 — needed by the title — add it under vars: (市名: …)\n"
                         "  年份 — needed by s001b.point.2 — add date: YYYY-MM-DD (or 年份: … under vars:)", {})
    assert set(slots.fields) == {"var:市名", "date"} and slots.slots["市名"] == "the title"


def test_scalars_that_yaml_would_change_are_quoted() -> None:
    for value in ("yes", "null", "010", "1.5", "a: b", "#x", "[1]", "- x"):
        assert scalar(value).startswith('"'), value
    assert scalar("临江市") == "临江市" and scalar("2024-03-15") == "2024-03-15"
