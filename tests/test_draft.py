"""The draft model and its Markdown dialect (docs/draft-format.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from speechgen.draft import Block, Draft, Span, from_markdown, paragraph, to_markdown
from speechgen.errors import SpeechgenError
from speechgen.export.text import to_text

MD = """\
---
speaker: 张明
date: 2024-03-05
---

# 在临江市推进会上的讲话

同志们：

今天召开推进会，
主要任务是部署工作。

## 一、认真学习

**一是坚定理想信念。**共召开【＿＿】次会议。

### （一）要突出把握贯通的要求

我就讲这么多。谢谢大家。
"""


def test_reads_every_element() -> None:
    d = from_markdown(MD, "d.md")
    assert d.title == "在临江市推进会上的讲话"
    assert d.speaker == "张明"
    assert d.date == dt.date(2024, 3, 5)
    assert d.date_line == "（2024年3月5日）"
    assert [b.kind for b in d.blocks] == [
        "title", "salutation", "paragraph", "heading1", "paragraph", "heading2", "paragraph",
    ]
    assert d.blocks[2].text == "今天召开推进会，主要任务是部署工作。"
    lead = d.blocks[4]
    assert lead.spans == (
        Span("一是坚定理想信念。", "bold"), Span("共召开"), Span("【＿＿】", "mark"), Span("次会议。"),
    )
    assert d.marks() == [(4, "【＿＿】")]


def test_markdown_round_trip() -> None:
    d = from_markdown(MD, "d.md")
    assert from_markdown(to_markdown(d), "again.md") == d


def test_a_date_as_text_stays_text() -> None:
    d = from_markdown("---\ndate: 2019年9月\n---\n# 标题\n\n正文。\n")
    assert d.date is None
    assert d.date_line == "（2019年9月）"


def test_a_long_paragraph_ending_in_a_colon_is_not_a_salutation() -> None:
    d = from_markdown("# 标题\n\n" + "对于做好主题教育筹备工作" * 4 + "，我强调几点意见：\n")
    assert d.blocks[1].kind == "paragraph"


def test_plain_text_export() -> None:
    d = from_markdown(MD, "d.md")
    text = to_text(d)
    assert text.startswith("在临江市推进会上的讲话\n张明\n（2024年3月5日）\n\n同志们：\n")
    assert "\u3000\u3000一、认真学习\n" in text
    assert "**" not in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("正文。\n", "d.md: no title — the draft needs a line '# 标题'"),
        ("# 一\n\n# 二\n", "d.md:3: a second '# ' title — a draft has one title; use '## ' for a heading"),
        ("---\nspeaker: 张明\n# 标题\n", "d.md:1: front matter opened with '---' is never closed — add a '---' line"),
        ("---\ndate: 2024-02-30\n---\n# 标题\n", "d.md: date '2024-02-30' is not a real date — write it as YYYY-MM-DD"),
        ("---\n- a\n- b\n---\n# 标题\n", "d.md:2: front matter must be 'key: value' lines"),
    ],
)
def test_mistakes(text: str, message: str) -> None:
    with pytest.raises(SpeechgenError) as info:
        from_markdown(text, "d.md")
    assert str(info.value) == message


_plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="*【】#\n\r\\"),
    min_size=1,
    max_size=30,
).map(str.strip).filter(lambda t: bool(t) and not t.endswith("："))


@given(st.lists(st.tuples(st.sampled_from(["heading1", "heading2", "paragraph"]), _plain, st.booleans()), max_size=8))
def test_round_trip_of_generated_drafts(items: list[tuple[str, str, bool]]) -> None:
    blocks = [paragraph("标题", "title")]
    for kind, text, bold in items:
        if kind == "paragraph" and bold:
            blocks.append(Block("paragraph", (Span("一是" + text, "bold"), Span("正文"))))
        else:
            blocks.append(Block(kind, (Span(text if kind == "paragraph" else "一、" + text),)))  # type: ignore[arg-type]
    d = Draft("标题", tuple(blocks), speaker="张明", date=dt.date(2024, 1, 9))
    again = from_markdown(to_markdown(d), "g.md")
    assert again == d
