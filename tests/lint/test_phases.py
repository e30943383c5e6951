"""Campaign and phase of a text (speechgen/lint/phases.py) and of each ingested fragment."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechgen.ingest.annotate import situate
from speechgen.lint.campaigns import resolve
from speechgen.lint.phases import (
    campaign_of,
    fits,
    load_cues,
    meeting_phase,
    phase_of,
    speech_campaign,
)
from speechgen.model import Fragment

NEW = "学习贯彻习近平新时代中国特色社会主义思想主题教育"
OLD = "不忘初心、牢记使命主题教育"


@pytest.mark.parametrize(("text", "phase"), [
    ("在第二批主题教育即将启动之际，我们专门举办这样一个培训会。", "筹备"),
    ("今天召开动员部署会，标志着第二批主题教育正式启动。", "启动"),
    ("主题教育开展以来，各级党组织实现了良好开局，进入关键阶段。", "推进"),
    ("这次主题教育圆满完成各项任务，取得了明显成效。", "总结"),
])
def test_phase_cues(text: str, phase: str) -> None:
    assert phase_of(text) == phase


@pytest.mark.parametrize("text", [
    "我就讲这么多，谢谢大家！",              # no cue at all
    "要把党中央的部署落到实处。",             # 部署 alone is every phase's word
    "要总结经验，把工作做实。",              # 总结 alone is not a 总结会
])
def test_phase_near_misses(text: str) -> None:
    assert phase_of(text) == ""


def test_a_longer_cue_hides_the_shorter_inside_it() -> None:
    assert phase_of("实现了良好开局") == "推进"  # not also 开局 (启动)


def test_a_tie_gives_no_phase_and_points_need_strong_cues() -> None:
    assert phase_of("开局起步，督导") == "启动"  # 2 : 1
    assert phase_of("开局，督导") == ""  # 1 : 1
    assert phase_of("要未雨绸缪。", least=2) == ""


@pytest.mark.parametrize(("meeting", "phase"), [
    ("第二批主题教育推进会", "推进"), ("第二批主题教育筹备工作动员部署会", "筹备"), ("主题教育动员大会", "启动"),
    ("主题教育总结会议", "总结"), ("第二批主题教育工作领导小组第一次会议", ""), ("培训会", ""),
])
def test_meeting_phase(meeting: str, phase: str) -> None:
    assert meeting_phase(meeting) == phase


def test_what_fits_which_meeting() -> None:
    assert fits("筹备", "启动") and fits("启动", "筹备") and fits("", "推进") and fits("筹备", "")
    assert not fits("筹备", "推进") and not fits("启动", "推进") and not fits("筹备", "总结")
    assert not fits("推进", "总结")


def test_campaign_of_a_fragment() -> None:
    speech = resolve("主题教育", __import__("datetime").date(2023, 9, 1))
    assert campaign_of("牢牢把握守初心、担使命，找差距、抓落实的总要求", speech) == OLD  # its own wording wins
    assert campaign_of("第二批主题教育要抓实抓细。", speech) == NEW  # shared wording: the speech's
    assert campaign_of("要抓实抓细。", speech) == NEW  # nothing of its own: the speech's
    # a look back is not the fragment's campaign
    assert campaign_of("继“三严三实”专题教育之后，巩固拓展成果。", speech) == NEW


def test_campaign_of_a_speech_without_a_year() -> None:
    c = speech_campaign("主题教育", None, "紧扣“学思想、强党性、重实践、建新功”总要求，第二批主题教育")
    assert c is not None and c.name == NEW
    assert speech_campaign("主题教育", None, "第二批主题教育要抓实抓细") is None  # 2019 or 2023: nothing tells
    old = speech_campaign("主题教育", 2019, "")
    assert old is not None and old.name == OLD


def test_situate_openings_and_points() -> None:
    speech = resolve("主题教育", __import__("datetime").date(2023, 9, 1))
    opening = situate(Fragment("a.opening.1", "opening", text="今天，我们召开这次会议。"), speech, "推进")
    assert (opening.campaign, opening.phase) == (NEW, "推进")  # no cue: the meeting it was said at
    closing = situate(Fragment("a.closing.1", "closing", text="谢谢大家。"), speech, "推进")
    assert closing.phase == ""  # says nothing of where the work stands
    point = situate(Fragment("a.point.1", "point", heading="抓落实", text="要未雨绸缪。"), speech, "筹备")
    assert point.phase == ""  # one weak cue is not enough for a point


def test_shipped_library_phases() -> None:
    from speechgen.library import open_store
    from speechgen.paths import shipped

    lib = open_store([shipped("fragments")]).library()
    assert lib.get("s000.opening.1").phase == "筹备"  # 第二批主题教育即将启动之际…培训会
    assert lib.get("s001b.opening.1").phase == "推进"  # 主题教育开展以来
    assert lib.get("s003.opening.1").phase == "推进"
    assert lib.get("s003.point.1").campaign == OLD and lib.get("s001b.point.1").campaign == NEW


def test_user_cues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "c.yaml"
    extra.write_text("campaigns: []\nphases:\n  总结:\n    收官总结: 3\n", encoding="utf-8")
    monkeypatch.setenv("SPEECHGEN_CAMPAIGNS", str(extra))
    assert ("收官总结", "总结", 3) in load_cues(str(extra))
    assert phase_of("今天召开收官总结会议") == "总结"
    extra.write_text("campaigns: []\nphases:\n  收尾: {收官: 3}\n", encoding="utf-8")
    load_cues.cache_clear()
    from speechgen.errors import SpeechgenError

    with pytest.raises(SpeechgenError, match="phases:' maps 筹备/启动/推进/总结 to cue words"):
        load_cues(str(extra))
