"""Rules ``stale-campaign`` and ``relative-date``, and the campaign knowledge they read.

The knowledge is data: ``campaigns.yaml`` beside this module (each campaign's name,
other names, dates, slogans, markers and batches), extended by the user's file named
in ``SPEECHGEN_CAMPAIGNS`` (same shape; an entry with a shipped name replaces it).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechgen.errors import SpeechgenError
from speechgen.lint import Finding, LintContext
from speechgen.lint.base import CN_DIGITS, Para, cn_number, hit, sentence_at

SHIPPED = Path(__file__).with_name("campaigns.yaml")


@dataclass(frozen=True)
class Campaign:
    """One campaign (主题教育, 党史学习教育, …) as campaigns.yaml describes it."""

    name: str
    start: dt.date
    end: dt.date
    aliases: tuple[str, ...] = ()
    slogans: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    batches: dict[int, tuple[dt.date, dt.date]] = field(default_factory=dict)

    @property
    def span(self) -> str:
        """2019–2020 / 2021."""
        a, b = self.start.year, self.end.year
        return f"{a}" if a == b else f"{a}–{b}"

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def matches(self, wanted: str) -> bool:
        """Does a brief's ``campaign:`` name this campaign?"""
        w = _plain(wanted)
        return bool(w) and any(w == _plain(n) or (len(w) >= 4 and w in _plain(n)) for n in self.names())

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@functools.lru_cache(maxsize=1024)
def _plain(name: str) -> str:
    return re.sub(r"[“”\"'‘’、\s]", "", name)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SpeechgenError(f"{where}: '{value}' is not a date — write it as YYYY-MM-DD") from None


def _campaign(raw: Any, shown: str) -> Campaign:
    if not isinstance(raw, dict) or "name" not in raw or "from" not in raw or "to" not in raw:
        raise SpeechgenError(f"{shown}: each campaign needs name, from and to — see docs/lint.md")
    where = f"{shown}: {raw['name']}"
    batches = {
        int(k): (_date(v["from"], where), _date(v["to"], where))
        for k, v in (raw.get("batches") or {}).items()
    }
    return Campaign(
        str(raw["name"]), _date(raw["from"], where), _date(raw["to"], where),
        tuple(str(a) for a in raw.get("aliases") or ()), tuple(str(s) for s in raw.get("slogans") or ()),
        tuple(str(m) for m in raw.get("markers") or ()), batches,
    )


def _read(path: Path) -> list[Campaign]:
    from speechgen.userfiles import display_path, parse_yaml, read_user_text

    shown = display_path(path)
    data = parse_yaml(read_user_text(path, "campaigns file"), shown)
    if not isinstance(data, dict) or not isinstance(data.get("campaigns"), list):
        raise SpeechgenError(f"{shown}: a campaigns file holds 'campaigns:' and a list — see docs/lint.md")
    return [_campaign(raw, shown) for raw in data["campaigns"]]


@functools.lru_cache(maxsize=4)
def load_campaigns(extra: str = "") -> tuple[Campaign, ...]:
    """The shipped campaigns, then the user's (``SPEECHGEN_CAMPAIGNS`` or *extra*) replacing by name."""
    found = {c.name: c for c in _read(SHIPPED)}
    user = extra or os.environ.get("SPEECHGEN_CAMPAIGNS", "")
    if user:
        found.update({c.name: c for c in _read(Path(user))})
    return tuple(sorted(found.values(), key=lambda c: c.start))


def campaigns() -> tuple[Campaign, ...]:
    return load_campaigns(os.environ.get("SPEECHGEN_CAMPAIGNS", ""))


def parse_day(text: str) -> dt.date | None:
    """2024-03-15, 2024年3月15日 or 2024/3/15; the 1st of the month for 2019年9月."""
    m = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?:\s*[-/.月]\s*(\d{1,2}))?", text or "")
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3] or 1))
    except ValueError:
        return None


def resolve(name: str, day: dt.date | None) -> Campaign | None:
    """The campaign a brief means by *name* (主题教育 in 2019 and in 2023 are two)."""
    found = [c for c in campaigns() if c.matches(name)] if name else []
    if not found and day is not None:
        found = [c for c in campaigns() if c.contains(day)]
    if not found:
        return None
    if day is None:
        return found[-1]
    return min(found, key=lambda c: 0 if c.contains(day) else min(abs((c.start - day).days), abs((c.end - day).days)))


# --------------------------------------------------------------------------- stale-campaign

_HISTORY = re.compile(r"常态化|制度化|以来|先后|巩固|拓展|深化[^。]{0,12}成果|延续|延伸|成果|经验|一以贯之|接续|此前|曾经|当年|历次|回顾")


def _wording(c: Campaign) -> list[tuple[str, str]]:
    """(words, what they are) that date a text to *c*: slogans, markers, its distinctive names."""
    others = [n for o in campaigns() if o is not c for n in o.names()]
    names = [n for n in c.names() if len(n) >= 4 and not any(n in o and n != o for o in others)]
    return [(s, "总要求/口号") for s in c.slogans] + [(m, "document or person") for m in c.markers] + [
        (n, "name") for n in names
    ]


_TABLE: list[tuple[tuple[Campaign, ...], list[tuple[str, str, Campaign]]]] = []


def _wording_table() -> list[tuple[str, str, Campaign]]:
    """(words, what they are, campaign) of every campaign, in campaign order: built once per campaigns list."""
    cs = campaigns()
    if not _TABLE or _TABLE[0][0] is not cs:
        _TABLE[:] = [(cs, [(words, what, c) for c in cs for words, what in _wording(c)])]
    return _TABLE[0][1]


def _hits(paras: list[Para]) -> list[tuple[Para, int, str, Campaign, str]]:
    out = []
    whole = "\n".join(p.text for p in paras)
    present = [row for row in _wording_table() if row[0] in whole]  # most wording is in no paragraph
    for p in paras:
        for words, what, c in present:
            start = 0
            while (pos := p.text.find(words, start)) >= 0:
                out.append((p, pos, words, c, what))
                start = pos + len(words)
    return sorted(out, key=lambda h: (h[0].index, h[1]))


def stale_campaign(paras: list[Para], context: LintContext) -> list[Finding]:
    """Wording of a campaign other than the draft's, and a batch 即将启动 after it started.

    The draft's campaign is the brief's ``campaign:`` (主题教育 in 2019 and in 2023 are
    two: the date tells), else the one running on the brief's date, else — with no date
    either — the one most of the draft's wording belongs to. Wording several campaigns
    share (第二批主题教育: 2019 and 2023) is stale only when none of them is the draft's.
    """
    day = parse_day(context.date)
    hits = _hits(paras)
    target = resolve(context.campaign, day)
    if target is None and day is None:
        target = _dominant(hits)
        if target is None:
            return []
    owners: dict[str, list[Campaign]] = {}
    for _, _, words, c, _ in hits:
        owners.setdefault(words, []).append(c)
    out: list[Finding] = []
    for p, pos, words, _c, what in hits:
        if target in owners[words] or (what == "name" and _historical(p.text, pos, hits)):
            continue
        if target is None:
            about = f"a speech dated {day.isoformat() if day else '?'}, when no such campaign ran"
            fix = "cut it, or name the campaign this speech is about (campaign: in the brief)"
        else:
            about = f"this speech is about {target.name} ({target.span})"
            fix = f"cut it or use the wording of {target.name}" + (f" ({target.slogans[0]})" if target.slogans else "")
        of = " or ".join(f"{o.name} ({o.span})" for o in owners[words])
        out.append(hit(p, "stale-campaign", words, f"'{words}' is wording of {of}; {about}", fix))
    return out + _batch_started(paras, target, day)


def _dominant(hits: list[tuple[Para, int, str, Campaign, str]]) -> Campaign | None:
    counts: dict[str, int] = {}
    by_name = {}
    for _, _, _, c, _ in hits:
        counts[c.name] = counts.get(c.name, 0) + 1
        by_name[c.name] = c
    if not counts:
        return None
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None  # no majority: nothing says which one the speech is about
    return by_name[ranked[0][0]]


def _historical(text: str, pos: int, hits: list[tuple[Para, int, str, Campaign, str]]) -> bool:
    """A look back (我们先后开展了…, 巩固…成果), not the campaign this speech runs."""
    sentence = sentence_at(text, pos)
    named = {c.name for p, _, words, c, _ in hits if p.text == text and words in sentence}
    return len(named) > 1 or bool(_HISTORY.search(sentence))


_STARTING = re.compile(rf"第([{CN_DIGITS}])批(?:主题教育)?[^。，；]{{0,6}}?(?:即将|将要|马上|就要)(?:启动|开始|展开|开展)")


def _batch_started(paras: list[Para], target: Campaign | None, day: dt.date | None) -> list[Finding]:
    if target is None or day is None or not target.batches:
        return []
    out = []
    for p in paras:
        for m in _STARTING.finditer(p.text):
            batch = target.batches.get(cn_number(m.group(1)))
            if batch and day > batch[0]:
                out.append(hit(p, "stale-campaign", m.group(0),
                               f"'{m.group(0)}': that batch started on {batch[0].isoformat()}, before this speech's date",
                               "say where the batch stands now (正在深入推进, 已进入…阶段)"))
    return out


# --------------------------------------------------------------------------- relative-date

_RELATIVE = re.compile(
    rf"今年|去年|明年|前年|本年度|上半年|下半年|(?<![\d年{CN_DIGITS}])(?:1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])月(?:上旬|中旬|下旬|底|初|末|份)?"
)


def relative_date(paras: list[Para], context: LintContext) -> list[Finding]:
    """今年/明年/8月中旬 in a block whose source speech is of another year than the draft."""
    day = parse_day(context.date)
    if day is None or not context.years:
        return []
    out = []
    for p in paras:
        year = context.years.get(p.source)
        if not year or year == day.year:
            continue
        for m in _RELATIVE.finditer(p.text):
            if p.text[m.end() : m.end() + 1] in ("个",):
                continue
            out.append(hit(p, "relative-date", m.group(0),
                           f"'{m.group(0)}' comes from a {year} speech ({p.source}); this one is dated {day.year}",
                           f"write the date as it is for {day.year}, or cut it"))
    return out
