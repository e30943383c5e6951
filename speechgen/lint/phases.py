"""The campaign and phase (筹备/启动/推进/总结) a text belongs to, from campaigns.yaml.

Ingest stores both on each fragment (``campaign:``, ``phase:``); compose reads them to keep
an opening or closing of another phase out of a meeting and to tell campaigns apart.
The cue words are data (``phases:`` in campaigns.yaml, extended by ``SPEECHGEN_CAMPAIGNS``).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from pathlib import Path

from speechgen.errors import SpeechgenError
from speechgen.lint.campaigns import SHIPPED, Campaign, campaigns, resolve

PHASES = ("筹备", "启动", "推进", "总结")
#: Phases a meeting of each phase may reuse: a 动员部署会 may say 即将启动, a 推进会 may not.
FITS = {"筹备": ("筹备", "启动"), "启动": ("筹备", "启动"), "推进": ("推进",), "总结": ("总结",)}
#: What a meeting's name says of its phase (第二批主题教育推进会 → 推进), first match wins.
_MEETING = (("总结", "总结"), ("筹备", "筹备"), ("推进", "推进"), ("督导", "推进"), ("中期", "推进"),
            ("动员", "启动"), ("部署", "启动"), ("启动", "启动"))


def _read_phases(path: Path) -> dict[str, dict[str, int]]:
    from speechgen.userfiles import display_path, parse_yaml, read_user_text

    shown = display_path(path)
    data = parse_yaml(read_user_text(path, "campaigns file"), shown)
    raw = data.get("phases") if isinstance(data, dict) else None
    if raw is None:
        return {}
    if not isinstance(raw, dict) or any(p not in PHASES or not isinstance(c, dict) for p, c in raw.items()):
        raise SpeechgenError(f"{shown}: 'phases:' maps {'/'.join(PHASES)} to cue words and weights "
                             "(即将启动: 3) — see docs/lint.md")
    out: dict[str, dict[str, int]] = {}
    for phase, cues in raw.items():
        for cue, weight in cues.items():
            if not isinstance(weight, int) or isinstance(weight, bool):
                raise SpeechgenError(f"{shown}: phases: {phase}: {cue}: the weight must be a whole number")
            out.setdefault(phase, {})[str(cue)] = weight
    return out


@functools.lru_cache(maxsize=4)
def load_cues(extra: str = "") -> tuple[tuple[str, str, int], ...]:
    """(cue, phase, weight), longest cue first: the shipped cues, then the user's file's."""
    found = _read_phases(SHIPPED)
    if extra:
        for phase, cues in _read_phases(Path(extra)).items():
            found.setdefault(phase, {}).update(cues)
    return tuple(sorted(((c, p, w) for p, cs in found.items() for c, w in cs.items()), key=lambda t: -len(t[0])))


def scores(text: str) -> dict[str, int]:
    """Weight of each phase's cues in *text* (a matched cue hides the shorter ones inside it)."""
    out: dict[str, int] = {}
    for cue, phase, weight in load_cues(os.environ.get("SPEECHGEN_CAMPAIGNS", "")):
        n = text.count(cue)
        if n:
            out[phase] = out.get(phase, 0) + n * weight
            text = text.replace(cue, "\0" * len(cue))
    return out


def phase_of(text: str, least: int = 1) -> str:
    """The phase whose cues weigh most in *text* (at least *least*); "" on a tie or none."""
    ranked = sorted(scores(text).items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < least or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return ""
    return ranked[0][0]


def meeting_phase(meeting: str) -> str:
    """The phase a meeting's name says (第二批主题教育推进会 → 推进; 培训会 → "")."""
    for word, phase in _MEETING:
        if word in meeting:
            return phase
    return ""


def fits(fragment_phase: str, meeting: str) -> bool:
    """May a text of *fragment_phase* stand in a meeting of phase *meeting*? (no phase: yes)"""
    return not fragment_phase or not meeting or fragment_phase in FITS.get(meeting, PHASES)


# --------------------------------------------------------------------------- campaign

_SPLIT = re.compile(r"[^。！？；]+[。！？；]?")


def wording_campaigns(text: str, only_own: bool = False) -> set[str]:
    """Campaigns whose wording (slogans, markers, own names) *text* holds, leaving out looks
    back (继“三严三实”之后, 巩固…成果); wording several campaigns share gives all of them
    (none with *only_own*)."""
    from speechgen.lint.base import Para
    from speechgen.lint.campaigns import _historical, _hits

    paras = [Para(i, 0, s, "paragraph") for i, s in enumerate(_SPLIT.findall(text)) if s.strip()]
    hits = _hits(paras)
    found: dict[str, set[str]] = {}
    for p, pos, words, c, what in hits:
        if what == "name" and _historical(p.text, pos, hits):
            continue
        found.setdefault(words, set()).add(c.name)
    names: set[str] = set()
    for owners in found.values():
        if len(owners) == 1 or not only_own:
            names |= owners
    return names


def campaign_of(text: str, speech: Campaign | None) -> str:
    """The campaign of a fragment: its own wording when that names one campaign (or one of
    several that is the speech's), else the speech's."""
    own = wording_campaigns(text)
    if speech is not None and speech.name in own:
        return speech.name
    if len(own) == 1:
        return own.pop()
    return speech.name if speech is not None else ""


def speech_campaign(tag: str, year: int | None, body: str) -> Campaign | None:
    """The campaign a whole speech belongs to: its tag (主题教育) told apart by its year, or —
    without a year — by the wording most of its text belongs to."""
    day = dt.date(year, 7, 1) if year else None
    if day is None:
        own = wording_campaigns(body, only_own=True)
        known = [c for c in campaigns() if c.name in own]
        if tag:
            known = [c for c in known if c.matches(tag)] or known
        if len(known) == 1:
            return known[0]
        if tag:
            return None  # 主题教育 of 2019 or of 2023: nothing tells
    if not tag and day is None:
        return None
    return resolve(tag, day) if tag or day else None
