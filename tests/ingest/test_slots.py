"""slots.py: redaction tokens → named slots, typed blanks, restored phrases; none survives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from speechgen.ingest.slots import Restorer, has_raw_token, metadata, replace_tokens

CORPUS = {
    "003.txt": "学习贯彻习近平新时代中国特色社会主义思想。习近平总书记指出。习近平总书记强调。贯彻习近平新时代中国特色社会主义思想",
    "004.txt": "以习近平同志为核心的党中央。",
}


@pytest.mark.parametrize(
    ("raw", "text", "slots", "blanks"),
    [
        ("X市2023年会议", "{{ 市名 }}2023年会议", ["市名"], []),
        ("推动我*工作，全XX第一批，*委要求", "推动我{{ 本级 }}工作，全{{ 本级 }}第一批，{{ 本级 }}委要求", ["本级"], []),
        ("同时，*已对工作作出安排。根据XX统一安排", "同时，{{ 上级 }}已对工作作出安排。根据{{ 上级 }}统一安排", ["上级"], []),
        ("召开*次会议，第*指导组", '召开{{ blank("数量") }}次会议，第{{ blank("数量") }}指导组', [], ["数量", "数量"]),
        ("，*同志任组长", '，{{ blank("人名") }}同志任组长', [], ["人名"]),
        ("*月*日，XXXX年X月，4月*日召开", '{{ blank("日期") }}，{{ blank("日期") }}，{{ blank("日期") }}召开', [], ["日期"] * 3),
        ("党的xx大精神，在XX工作时", '党的{{ blank("名称") }}大精神，在{{ blank("名称") }}工作时', [], ["名称", "名称"]),
        ("印发《*》", '印发《{{ blank("文件") }}》', [], ["文件"]),
    ],
)
def test_rules(raw: str, text: str, slots: list[str], blanks: list[str]) -> None:
    res = replace_tokens(raw)
    assert res.text == text
    assert res.slots == slots
    assert res.blanks == blanks


def test_restored_from_corpus_with_evidence() -> None:
    r = Restorer(CORPUS)
    res = replace_tokens("学习贯彻A新时代中国特色社会主义思想，***总书记，以***同志为核心", r)
    assert res.text == "学习贯彻习近平新时代中国特色社会主义思想，习近平总书记，以习近平同志为核心"
    assert res.restored == [
        "习近平新时代中国特色社会主义思想 ← 003.txt",
        "习近平总书记 ← 003.txt",
        "习近平同志为核心 ← 004.txt",
    ]
    assert res.blanks == [] and res.slots == []


def test_without_evidence_the_name_is_a_blank() -> None:
    res = replace_tokens("A总书记", Restorer({}))
    assert res.text == '{{ blank("人名") }}总书记'


def test_latin_words_are_not_tokens() -> None:
    assert replace_tokens("使用Excel和XML文件").text == "使用Excel和XML文件"
    assert not has_raw_token("使用Excel和XML文件，见 docx")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("×××同志在会上讲话", '{{ blank("人名") }}同志在会上讲话'),
        ("推动全××工作", "推动全{{ 本级 }}工作"),
        ("ＸＸ市2023年会议", "{{ 市名 }}2023年会议"),
        ("○○县要抓好", '{{ blank("名称") }}县要抓好'),
        ("我们☆县的干部，排在第☆名", '我们{{ blank("名称") }}县的干部，排在第{{ blank("数量") }}名'),
        ("完成投资□□亿元，2019年×月×日", '完成投资{{ blank("数量") }}亿元，{{ blank("日期") }}'),
    ],
)
def test_other_redaction_marks(raw: str, text: str) -> None:
    """×××, full-width ＸＸ, □□, ○○ and ☆ as other web copies and office drafts write them."""
    assert replace_tokens(raw).text == text
    assert has_raw_token(raw) and not has_raw_token(text)


@pytest.mark.parametrize("text", ["3×4的矩阵", "二○○三年以来", "★★★ 重要通知 ★★★", "第○一号", "1920×1080"])
def test_signs_zeros_and_decorations_are_not_tokens(text: str) -> None:
    assert replace_tokens(text).text == text


def test_metadata() -> None:
    assert metadata("2019年9月xx日") == "2019年9月"
    assert metadata("2019年9月26日") == "2019年9月26日"
    assert metadata("2019年×月×日") == metadata("2019年X月X日") == "2019年"
    assert metadata("xxx") == "{{ 讲话人 }}"
    assert metadata("X市工作会议上的讲话") == "{{ 市名 }}工作会议上的讲话"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("*＊XxA×Ｘ□○☆市委我全月日年个同志《》，。新时代总书记的和") + ["XX", "***", "xx", "××", "○○"]), max_size=40).map("".join))
def test_no_raw_token_survives(raw: str) -> None:
    out = replace_tokens(raw, Restorer(CORPUS)).text
    assert not has_raw_token(out), out


def test_has_raw_token_is_the_search_of_raw_token() -> None:
    """has_raw_token tries RAW_TOKEN only at the marks and the character before each: the
    same answer as searching the whole text, on random text of marks, letters and Chinese."""
    import random
    import re

    from speechgen.ingest.slots import RAW_TOKEN

    rnd = random.Random(4)
    alphabet = list("Xx*＊×Ｘｘ□○☆★Aa+＋光线一二〇年月日市委同志 \n{}1") + ["{{ 市名 }}", "新时代"]
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))
        bare = re.sub(r"\{\{.*?\}\}", "\n", text)
        assert has_raw_token(text) == bool(RAW_TOKEN.search(bare)), text
