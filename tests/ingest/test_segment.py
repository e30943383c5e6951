"""segment.py / structure.py: the seed ground truth, general shapes, and no text lost (hypothesis)."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from conftest import SEEDS
from hypothesis import given, settings
from hypothesis import strategies as st

from speechgen.ingest.clean import clean_text, read_source
from speechgen.ingest.segment import Speech, split_speeches
from speechgen.ingest.structure import to_int


def speeches(name: str) -> list[Speech]:
    path = next(SEEDS.glob(f"{name}_*.txt"))
    return split_speeches(clean_text(read_source(path)))[1]


def of(text: str) -> Speech:
    found = split_speeches(clean_text(text))[1]
    assert len(found) == 1
    return found[0]


def headings(s: Speech) -> list[str]:
    return [p.heading for p in s.points]


def kinds(s: Speech) -> list[str]:
    return [p.kind for p in s.parts]


# --------------------------------------------------------------------------- ground truth


def test_000_one_speech_four_points_closing() -> None:
    (s,) = speeches("000")
    assert s.title == "X市2023年第二批主题教育启动部署推进会上的培训讲话"
    assert kinds(s) == ["title", "salutation", "opening", "point", "point", "point", "point", "closing"]
    assert s.style == "第一，"
    assert headings(s)[0] == "认真学习领会大会精神和*委要求，切实增强推动第二批主题教育的政治自觉"
    assert headings(s)[3] == "认真贯彻落实第二批主题教育工作各项要求，确保工作出彩出新"
    assert s.part("closing").text == "我就讲这么多。谢谢大家。"  # type: ignore[union-attr]
    assert [p.number for p in s.points] == [1, 2, 3, 4]


def test_001_header_is_not_a_speech_and_two_speeches_follow() -> None:
    path = next(SEEDS.glob("001_*.txt"))
    header, found = split_speeches(clean_text(read_source(path)))
    assert header is not None and header.raw == "在第二批主题教育推进会讲话材料\n（2篇）"
    assert [s.title for s in found] == ["第二批主题教育推进会讲话材料", "在第二批主题教育推进会上的讲话"]
    first, second = found
    assert len(first.points) == 4 and first.style == "第一，"
    assert headings(second) == ["认真学习铸忠魂", "知重负重勇担当", "聚焦实际抓落实"]
    assert second.style == "一、"
    for p in second.points:
        assert len(p.subpoints) == 3
    assert [sp.lead for sp in second.points[0].subpoints] == ["坚定理想信念。", "筑牢绝对忠诚。", "强化政治自觉。"]
    assert second.part("closing").text == "我就讲这么多，谢谢大家！"  # type: ignore[union-attr]
    assert second.part("transition").text == "下面，我强调几点意见。"  # type: ignore[union-attr]


def test_002_headings_end_at_first_stop_requirements_and_closing() -> None:
    (s,) = speeches("002")
    assert s.part("salutation") is None
    assert headings(s) == [
        "突出“快”，在思想上要高度重视，夯实主题教育组织基础",
        "突出“早”，在学习上要深入一层，筑牢主题教育思想根基",
        "突出“实”，落实上要迅速有力，强化指导服务保障水平",
    ]
    assert s.points[0].text.startswith("这次主题教育时间紧、任务重、要求高")
    req = s.part("requirements")
    assert req is not None and req.text.endswith("我也提几点要求：")
    assert [sp.lead for sp in req.subpoints] == [
        "贯通理论学习的有序衔接，推进学深悟透。",
        "贯通调查研究的有序衔接，推进深挖细查。",
        "贯通检视整改的有序衔接，推进难题破解。",
    ]
    assert s.part("closing").text.startswith("同志们，从现在开始")  # type: ignore[union-attr]
    assert kinds(s)[-2:] == ["requirements", "closing"]


def test_003_flat_text_title_date_speaker_three_of_six_points() -> None:
    (s,) = speeches("003")
    assert s.title == "在全省第二批主题教育工作推进会议上的讲话"
    assert s.date == "2019年9月xx日" and s.speaker == "xxx"
    assert headings(s) == ["要准确把握总体要求", "要注重加强分类指导", "要力戒形式主义、官僚主义"]
    assert all(p.review for p in s.points)  # boundaries guessed: the headings run into the body
    assert s.points[0].text.startswith("关于第二批主题教育任务要求")
    assert s.announced_points == 6
    assert "announced 6 points, found 3 (truncated?)" in s.warnings
    assert "the text ends mid-sentence (truncated?)" in s.warnings
    assert [sp.lead for sp in s.points[1].subpoints] == [
        "要突出针对性。", "要抓好薄弱点。", "要注重示范性。", "要抓好教育培训。",
    ]
    assert [sp.lead for sp in s.points[0].subpoints] == ["总体上是：", "特色上是："]
    assert s.part("closing") is None


def test_003_false_heading_stays_in_the_text() -> None:
    (s,) = speeches("003")
    assert "中央一、二批《指导意见》" in s.points[0].subpoints[0].text
    assert not any(h.startswith("二批") for h in headings(s))


def test_004_salutation_transition_and_subpoints() -> None:
    (s,) = speeches("004")
    assert s.part("salutation").text == "尊敬的*指导组领导、同志们："  # type: ignore[union-attr]
    assert s.part("transition").text == "下面，我讲几点意见。"  # type: ignore[union-attr]
    assert headings(s) == ["切实增强开展主题教育的政治责任感", "切实推动主题教育有力有序有效开展", "坚持从严确保主题教育高质量"]
    assert [sp.lead for sp in s.points[1].subpoints] == ["把握目标要求。", "加强指导督促。", "坚持统筹兼顾。"]
    assert s.announced_points is None


# --------------------------------------------------------------------------- general shapes


@pytest.mark.parametrize(
    ("marks", "style"),
    [(("第一点，", "第二点，"), "第一，"), (("（一）", "（二）"), "（一）"), (("1．", "2．"), "1．"), (("一、", "二、"), "一、")],
)
def test_numbering_styles(marks: tuple[str, str], style: str) -> None:
    text = f"关于某事的讲话\n同志们：\n今天开会。\n{marks[0]}提高认识\n内容一。\n{marks[1]}狠抓落实\n内容二。\n谢谢大家！"
    s = of(text)
    assert s.style == style
    assert headings(s) == ["提高认识", "狠抓落实"]
    assert s.part("closing").text == "谢谢大家！"  # type: ignore[union-attr]


def test_date_and_speaker_lines_are_front_matter_not_a_second_speech() -> None:
    s = of("在全县安全生产工作会议上的讲话\n（2024年3月15日）\n张三\n各位领导、同志们：\n今天开会。\n一、提高认识\n内容。\n二、狠抓落实\n内容。")
    assert (s.title, s.date, s.speaker) == ("在全县安全生产工作会议上的讲话", "2024年3月15日", "张三")
    assert s.part("salutation").text == "各位领导、同志们："  # type: ignore[union-attr]
    assert headings(s) == ["提高认识", "狠抓落实"]


def test_no_numbered_headings_gives_no_points() -> None:
    s = of("在座谈会上的讲话\n同志们：\n今天开会。\n第二段话。\n第三段话。\n同志们，让我们一起努力！")
    assert s.points == []
    assert kinds(s) == ["title", "salutation", "opening", "paragraph", "paragraph", "closing"]


def test_mid_text_comrades_is_not_a_closing() -> None:
    s = of("讲话\n同志们：\n开头。\n第一，提高认识\n同志们，这很重要。\n后面还有内容。\n第二，狠抓落实\n最后一段内容。")
    assert s.part("closing") is None
    assert s.points[0].text == "同志们，这很重要。\n后面还有内容。"


def test_announced_count_mismatch_warns() -> None:
    s = of("讲话\n同志们：\n下面，我讲三点意见。\n一、第一件事\n内容。\n二、第二件事\n内容。")
    assert s.announced_points == 3
    assert s.warnings[0] == "announced 3 points, found 2 (truncated?)"


def test_to_int() -> None:
    assert [to_int(x) for x in ("一", "十", "十二", "二十三", "7", "两")] == [1, 10, 12, 23, 7, 0]


# --------------------------------------------------------------------------- no text lost

_MARKER_CHARS = set("第一二三四五六七八九十点是、，,。！？．.：:；（）() 0123456789个方面\n")  # ordinals and the stop ending a heading


def _content_chars(s: Speech) -> Counter[str]:
    out: Counter[str] = Counter()
    for p in s.parts:
        out.update(p.heading + p.text + p.tail)
        for sp in p.subpoints:
            out.update(sp.lead + sp.text)
    return out


def _check_no_loss(clean: str) -> None:
    header, found = split_speeches(clean)
    raws = ([header.raw] if header else []) + [p.raw for s in found for p in s.parts]
    # every character of the clean text lands in exactly one part
    assert re.sub(r"\s", "", "".join(raws)) == re.sub(r"\s", "", clean)
    for s in found:
        for p in s.parts:
            missing = Counter(p.raw) - _content_chars(Speech(parts=(p,)))
            assert set(missing) <= _MARKER_CHARS, (p.kind, missing)
            extra = _content_chars(Speech(parts=(p,))) - Counter(p.raw)
            assert not extra, (p.kind, extra)


@pytest.mark.parametrize("name", ["000", "001", "002", "003", "004"])
def test_seeds_lose_no_text(name: str) -> None:
    path = next(SEEDS.glob(f"{name}_*.txt"))
    _check_no_loss(clean_text(read_source(path)))


_PIECES = st.sampled_from(
    ["同志们：", "第一，", "第二，", "一、", "二、", "（一）", "1.", "2．", "一是", "二是", "。", "，", "\n",
     "提高认识", "狠抓落实", "我讲六点意见。", "谢谢大家！", "同志们，", "在会议上的讲话", "（2篇）",
     "我也提几点要求：", "关于", "坚持", "下面，我讲几点意见。", "要准确把握总体要求"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=60).map("".join))
def test_segmentation_never_raises_and_loses_no_text(raw: str) -> None:
    _check_no_loss(clean_text(raw))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_segmentation_of_any_text(raw: str) -> None:
    _check_no_loss(clean_text(raw))


@settings(max_examples=30, deadline=None)
@given(st.lists(_PIECES, min_size=80, max_size=200).map(lambda xs: "".join(xs).replace("\n", "")))
def test_flat_text_loses_no_text(raw: str) -> None:
    _check_no_loss(clean_text(raw))


def test_sub_point_markers_are_those_of_the_lookbehind_patterns() -> None:
    """_markers checks the place of each match instead of a lookbehind tried at every character."""
    import random
    import re

    from speechgen.ingest.structure import _AFTER, _DEFAULT_AFTER, _SUB_STYLES, _markers, to_int

    def reference(paras: list[str], style: str) -> list[tuple[tuple[int, int, int], int]]:
        after = _AFTER.get(style, _DEFAULT_AFTER)
        rx = re.compile(rf"(?:^|(?<=[{after}]))" + _SUB_STYLES[style])
        return [((pi, m.start(), m.end()), to_int(m.group(1))) for pi, para in enumerate(paras) for m in rx.finditer(para)]

    rnd = random.Random(9)
    alphabet = "一二三十是要抓第（）()12．.、，,。；：…！？ 文x"
    paras = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 25))) for _ in range(20_000)]
    paras += [ln for p in sorted(SEEDS.glob("*.txt")) for ln in p.read_text(encoding="utf-8").splitlines()]
    for style in _SUB_STYLES:
        assert _markers(paras, style) == reference(paras, style), style


@pytest.mark.parametrize("line", ["（2019年×月×日）", "（2019年Ｘ月Ｘ日）", "（二○二三年九月二十六日）", "（2019年X月X日）"])
def test_date_lines_with_other_marks_and_zeros(line: str) -> None:
    """A date line redacted with ×/Ｘ, or written with ○ for 〇, is the date, not the speaker."""
    text = f"在全县经济工作会议上的讲话\n{line}\n同志们：\n今天，我们召开全县经济工作会议。\n"
    _, (s,) = split_speeches(clean_text(text))
    assert s.date == line.strip("（）") and s.speaker == ""
