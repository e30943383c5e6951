"""What each fragment is, learnt at ingest (issue #11 part 2): names cut by web copies
restored where the full phrase is certain, a truncated tail trimmed.

Called from :func:`speechgen.ingest.build.build_speech` on each built fragment.

* **Cut names.** Web copies drop 习近平 and leave 学习贯彻思想, 创立了思想, 维护核心地位.
  Where a verb that only ever takes the full name as object stands right before the
  bare head (思想, 核心地位), the full phrase is certain and is written back; the
  evidence goes to ``restored`` like the restored redactions of :mod:`.slots`. Other cuts
  (指出“…” with no subject) are left for ``speechgen lint`` to report: the subject is not
  certain (总书记, 会议, the speaker).
* **Truncated tail.** A fragment whose last paragraph stops mid-sentence (a PDF or web copy
  cut off) is trimmed back to its last whole sentence, and marked ``review`` and
  ``truncated`` (compose never closes the draft right after it).

* **Level.** The source's own level is read from the whole speech (:func:`source_level`:
  the one unit named as 全X or 我X, 全区 in a district's speech); where it is certain, every
  全X, 我X and X委 of that unit becomes ``{{ 本级 }}``, so the brief's 本级 fills it.

* **Campaign and phase** (:func:`situate`): the campaign of campaigns.yaml the fragment's
  wording belongs to (its own slogans and markers, else the speech's, told apart by year),
  and its phase 筹备/启动/推进/总结 from the cue words of campaigns.yaml (an opening or
  closing without cues takes the phase its speech's title names).
* **Facts** of the source speech (another place's history, dated events, named people,
  figures) are recorded under ``facts:`` (:mod:`speechgen.facts`), for compose to blank and
  lint to report.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from speechgen.lint.names import THOUGHT, THOUGHT_PARTS
from speechgen.model import Fragment, Subpoint

if TYPE_CHECKING:
    from speechgen.lint.campaigns import Campaign

#: verb + bare head → the head with the name restored (only verbs that never take a bare 思想)
_CUTS = (
    (re.compile(r"(创立了|学习贯彻|贯彻落实|学深悟透|学懂弄通做实)思想(?=[，。、；！？”走为的武和])"), r"\1" + THOUGHT),
    (re.compile(r"(坚决维护|坚定维护)核心地位"), r"\1习近平总书记党中央的核心、全党的核心地位"),
    # 深刻理解思想的丰富内涵: these parts (lint's deleted-name rule reads the same list) belong
    # to the full thought only, never to 思想 in general
    (re.compile(rf"(理解|把握|领悟|领会|掌握|认识|体悟|感悟|阐释|学习)思想的({'|'.join(THOUGHT_PARTS)})"),
     r"\1" + THOUGHT + r"的\2"),
    # 继思想、邓小平理论之后: the list of the party's theories with 毛泽东 cut
    (re.compile(r"(?<!毛泽东)(?<![*＊Xx×】])思想、邓小平理论"), "毛泽东思想、邓小平理论"),
    # 学习对网络安全和信息化工作作出的重要指示精神: a study verb right before 对…作出的重要指示
    # has lost its subject; web copies cut only the leader's name
    (re.compile(r"(学习|贯彻|落实|领会)(对[^，。；“”{}]{2,24}作出的重要(?:指示|批示))"), r"\1习近平总书记\2"),
)
_END = "。！？!?”’…；;：:）)】」"
_LAST_SENTENCE = re.compile(r"^(.*[。！？!?])[^。！？!?]*$", re.S)


_UNITS = "省市县区"
_SELF = re.compile(rf"(?<![安健完齐保周成自忘社城园])(全|我)([{_UNITS}])(?![场域间份级民长别划内外县市区乡镇])")


def source_level(body: str) -> str:
    """The unit a speech calls its own (全区, 我区 → 区), or "" when it names more than one."""
    units = {m.group(2) for m in _SELF.finditer(body)}
    return units.pop() if len(units) == 1 else ""


def _own(level: str) -> list[tuple[re.Pattern[str], str]]:
    if not level:
        return []
    return [
        (re.compile(rf"(?<![安健完齐保周成自忘社城园])(全|我){level}(?![场域间份级民长别划内外县市区乡镇])"), r"\1{{ 本级 }}"),
        (re.compile(rf"(?<![社城园镇地省市县区]){level}(委|政府)(?!员)"), r"{{ 本级 }}\1"),
    ]


def annotate(frag: Fragment, level: str = "") -> Fragment:
    """*frag* with certain cut names restored, self-references of the source's *level* made
    ``{{ 本级 }}`` (in bodies and sub-points; not in headings or closings) and a truncated
    tail trimmed."""
    evidence: list[str] = []
    own = _own(level)

    def fix(text: str, own_level: bool = True) -> str:
        for rx, slot in own if own_level else ():
            text = rx.sub(slot, text)
        for rx, full in _CUTS:
            for m in rx.finditer(text):
                note = f"{m.group(0)} → {m.expand(full)} (a name cut by the web copy)"
                if note not in evidence:
                    evidence.append(note)
            text = rx.sub(full, text)
        return text

    frag = replace(
        frag,
        # Headings and closings keep the source's own words: they are what a writer reads
        # first, and lint's level rule flags another level in a draft.
        heading=fix(frag.heading, own_level=False),
        text=fix(frag.text, own_level=frag.kind != "closing"),
        subpoints=tuple(Subpoint(fix(s.lead), fix(s.text)) for s in frag.subpoints),
        tail=fix(frag.tail),
    )
    if evidence:
        frag = replace(frag, restored=tuple(dict.fromkeys([*frag.restored, *evidence])))
    if "{{ 本级 }}" in frag.full_text and "本级" not in frag.slots:
        frag = replace(frag, slots=(*frag.slots, "本级"))
    return _trim(frag)


def _trim(frag: Fragment) -> Fragment:
    """Cut a last paragraph that stops mid-sentence back to its last whole sentence."""
    if frag.kind != "point":
        return frag
    if frag.tail:
        field_name, last = "tail", frag.tail
    elif frag.subpoints:
        field_name, last = "subpoints", frag.subpoints[-1].text
    else:
        field_name, last = "text", frag.text
    stripped = last.rstrip()
    if not stripped or stripped[-1] in _END or "{" in stripped[-3:]:
        return frag
    m = _LAST_SENTENCE.match(stripped)
    if not m:
        return frag
    kept = m.group(1)
    if field_name == "subpoints":
        subs = (*frag.subpoints[:-1], Subpoint(frag.subpoints[-1].lead, kept))
        return replace(frag, subpoints=subs, review=True, truncated=True)
    if field_name == "tail":
        return replace(frag, tail=kept, review=True, truncated=True)
    return replace(frag, text=kept, review=True, truncated=True)


#: Kinds whose phase is that of the meeting they were said at when their words do not tell.
_MEETING_BOUND = ("opening", "transition", "closing", "requirements")
#: A point takes a phase only on strong cues (即将启动, 开展以来…): most points fit any phase.
POINT_CUES = 2


def situate(frag: Fragment, speech: Campaign | None, title_phase: str = "") -> Fragment:
    """*frag* with its ``campaign`` and ``phase`` (see the module docstring)."""
    from speechgen.lint.phases import campaign_of, phase_of

    text = frag.full_text
    phase = phase_of(text, POINT_CUES if frag.kind == "point" else 1)
    if not phase and frag.kind in _MEETING_BOUND and _speaks_of_now(text):
        phase = title_phase
    # 同志们： and 谢谢大家 belong to no campaign: only a text that speaks of one inherits its speech's
    neutral = frag.kind in ("salutation", "transition") or (frag.kind == "closing" and "教育" not in text)
    from speechgen.facts import find_facts

    return replace(frag, campaign=campaign_of(text, None if neutral else speech), phase=phase,
                   facts=find_facts(frag))


def _speaks_of_now(text: str) -> bool:
    """A text that says where the work stands (这次会议, 今天, 从现在开始), not 谢谢大家 alone."""
    return bool(re.search(r"今天|这次|本次|现在|当前|目前|刚才", text))
