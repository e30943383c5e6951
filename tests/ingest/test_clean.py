"""clean.py: decoding, junk, page marks, punctuation, hard wraps; idempotence (hypothesis)."""

from __future__ import annotations

import pytest
from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from speechgen.errors import IngestError
from speechgen.ingest.clean import clean_text, compile_junk, decode, read_docx, read_source

SEED_003 = SEEDS / "003_8c4e1ce7e0dd5b49.txt"


def seed(name: str) -> str:
    path = next(SEEDS.glob(f"{name}_*.txt"))
    return clean_text(read_source(path))


# --------------------------------------------------------------------------- decoding


def test_decode_utf8_bom_and_gb18030_give_the_same_text() -> None:
    text = SEED_003.read_text(encoding="utf-8")
    assert decode(text.encode("utf-8-sig"), "a.txt") == text
    assert decode(text.encode("gb18030"), "a.txt") == text
    assert decode(text.encode("gbk", errors="ignore"), "a.txt")[:40] == text[:40]


def test_decode_utf16_with_bom() -> None:
    assert decode("同志们：\n大家好。".encode("utf-16"), "a.txt").lstrip("\ufeff") == "同志们：\n大家好。"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "x.txt: empty file — nothing to ingest"),
        (b" \n\t\n", "x.txt: empty file — nothing to ingest"),
        (b"\x00\x01\x02binary\x00" * 50, "x.txt: binary file, not a speech — give a .txt or .docx"),
        (
            bytes(range(0x80, 0x100)) * 20,
            "x.txt: cannot decode the text (not UTF-8, GB18030 or another known encoding) — save it as UTF-8",
        ),
    ],
)
def test_decode_bad_bytes(data: bytes, message: str) -> None:
    with pytest.raises(IngestError) as info:
        decode(data, "x.txt")
    assert str(info.value) == message


def test_read_docx_corrupt_and_empty() -> None:
    with pytest.raises(IngestError) as info:
        read_docx(b"PK\x03\x04 not really a zip", "bad.docx")
    assert str(info.value) == "bad.docx: not a valid .docx (corrupt or not a Word file) — re-save it from Word"
    with pytest.raises(IngestError) as info:
        read_docx(b"", "e.docx")
    assert str(info.value) == "e.docx: empty file — nothing to ingest"


# --------------------------------------------------------------------------- junk


def test_seed_003_page_marks_and_watermark_are_gone_and_word_joined() -> None:
    text = seed("003")
    assert "清正廉洁作表率" in text
    assert "-2-" not in text and "-1-" not in text and "-5-" not in text
    assert "文章系" not in text and "侵权必究" not in text
    assert "抓实载体活动" in text  # -3- split 活-3-动
    assert "防止“四个倾向”" in text  # -4- split 四-4-个
    assert text.startswith("在全省第二批主题教育工作推进会议上的讲话（2019年9月xx日）xxx这次会议")


def test_paywall_markers_removed() -> None:
    for name in ("000", "001", "002"):
        assert "paid" not in seed(name)
    assert clean_text("##paidbegin##第二，要这样。\n##paidend##") == "第二，要这样。"


def test_page_mark_lines_and_marks_between_lines() -> None:
    raw = "我们要保持清正\n— 2 —\n廉洁的作风。\n第二段。\n-3-\n第三段。\n第 4 页\n第四段。"
    assert clean_text(raw) == "我们要保持清正廉洁的作风。\n第二段。\n第三段。\n第四段。"


def test_ranges_and_numbers_are_not_page_marks() -> None:
    assert clean_text("2023-2024年度工作，1-2-3步骤。") == "2023-2024年度工作，1-2-3步骤。"


def test_html_captions_credits_and_custom_junk() -> None:
    raw = "<p>同志们：</p>\n图为会议现场。\n来源：某某网\n今天&nbsp;开会。本文由某号整理"
    junk = compile_junk(["本文由某号整理"])
    assert clean_text(raw, junk) == "同志们：\n今天开会。"


def test_ascii_punctuation_between_chinese_becomes_full_width() -> None:
    raw = "第二批的特点:1.总体上是,要(党组)坚持;对吗?好!(1)整治问题.2.特色上是.培训1.8万人"
    assert clean_text(raw) == "第二批的特点：1.总体上是，要（党组）坚持；对吗？好！（1）整治问题。2.特色上是。培训1.8万人"


def test_english_punctuation_is_left_alone() -> None:
    assert clean_text("Version 1.2, see (note) here.") == "Version 1.2, see (note) here."


def test_hard_wrapped_lines_are_joined_but_headings_stay() -> None:
    para = "这是一段很长的讲话内容，被排版软件按照固定宽度切断成许多行，每一行都一样长短，没有任何标点符号作为结尾，需要重新连接起来才能阅读。"
    lines = [para[i : i + 20] for i in range(0, len(para), 20)]
    raw = "一、要准确把握总体要求\n" + "\n".join(lines) + "\n二、要注重加强分类指导\n" + "\n".join(lines)
    out = clean_text(raw).split("\n")
    assert out == ["一、要准确把握总体要求", para, "二、要注重加强分类指导", para]


def test_short_lines_are_not_joined_without_evidence_of_wrapping() -> None:
    # issue #10 class 12: a comma at a line end alone is no proof of a hard wrap
    assert clean_text("我们要坚持学思用贯通，\n知信行统一。") == "我们要坚持学思用贯通，\n知信行统一。"
    assert clean_text("要深化思想认识，\n一、提高站位\n正文。") == "要深化思想认识，\n一、提高站位\n正文。"


def test_wrapped_lines_ending_in_a_comma_join_but_never_onto_a_heading() -> None:
    para = "这次全地区教育工作会议，是在全国教育工作会议之后召开的，会议的任务是，传达贯彻全国教育工作会议精神，总结交流经验，研究如何把教育工作搞上去，全区教育战线形势很好。"
    lines = [para[i : i + 20] for i in range(0, len(para), 20)]
    raw = "\n".join(lines) + "\n一、关于教育战线的拨乱反正\n" + "\n".join(lines)
    assert clean_text(raw).split("\n") == [para, "一、关于教育战线的拨乱反正", para]
    assert clean_text(raw, join_wraps=False).split("\n") == [*lines, "一、关于教育战线的拨乱反正", *lines]


@pytest.mark.parametrize("name", ["000", "001", "002", "003", "004"])
def test_cleaning_seeds_is_idempotent(name: str) -> None:
    text = seed(name)
    assert clean_text(text) == text


# --------------------------------------------------------------------------- properties

_ALPHABET = st.sampled_from(
    list("同志们讲话一二三是第，。：；、（）()-—－ \n\t12345.,:;?!<>p/#*Xx文章系原创发布侵权必究廉洁清正")
    + ["##paidbegin##", "-2-", "— 3 —", "<p>", "&amp;", "图为", "来源："]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_clean_is_idempotent_and_never_raises(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_clean_never_raises_on_any_text(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once
    assert "\n\n" not in once


def test_paragraph_gaps_are_those_of_the_lookbehind_pattern() -> None:
    """_para_gaps checks per gap what the pattern's lookbehind (two characters that are not
    space before the gap) checked at every character: the same replacements."""
    import random
    import re

    from speechgen.ingest.clean import _para_gaps

    with_lookbehind = re.compile(
        r"(?<=[^\s][^\s])[ \t\u00a0]*(?:\u3000{2,}|[ \u00a0]{3,}|\u3000[ \u00a0]{2,})[ \t\u3000\u00a0]*(?=[^\s])"
    )
    rnd = random.Random(5)
    alphabet = "ab中文 \t\u3000\u00a0\n，x"
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 30))) for _ in range(30_000)]
    texts += [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    for text in texts:
        assert _para_gaps(text) == with_lookbehind.sub("\n", text), repr(text)


def test_garbled_skips_lines_without_three_spaces_and_finds_the_same() -> None:
    """noise._garbled returns at once for a line with fewer than three spaces (every match
    holds three): the same finds as the pattern over random lines of ASCII, spaces and Chinese."""
    import random

    from speechgen.ingest import noise

    def reference(text: str) -> list[str]:
        out = []
        for m in noise._GARBLE.finditer(text):
            tokens = m.group(0).split()
            if len(tokens) >= 4 and sum(1 for t in tokens if noise._SYMBOL.search(t)) * 2 >= len(tokens):
                out.append(m.group(0))
        return out

    rnd = random.Random(6)
    alphabet = list("; o H! @9 B![ a.b  \t中文，") + ["[; o H! @9 B!"]
    for _ in range(20_000):
        line = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 14)))
        assert noise._garbled(line) == reference(line), line
