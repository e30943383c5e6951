"""Segmented speeches → Fragment objects: ids, slots, tags (near-duplicates: :mod:`speechgen.ingest.variants`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from speechgen.ingest import tags as tagging
from speechgen.ingest.annotate import annotate, situate, source_level
from speechgen.ingest.segment import Part, Speech
from speechgen.ingest.slots import Restorer, Result, metadata, replace_tokens
from speechgen.model import Fragment, Source, Subpoint

#: Parts that become fragments (title, date and speaker go to the ``source:`` block).
FRAGMENT_KINDS = ("salutation", "opening", "transition", "point", "requirements", "paragraph", "closing")
# 我讲六点意见, 讲4点意见, 讲三个问题: the count the composer fills in again ({{ 点数 }})
_ANNOUNCED = re.compile(r"((?:我|再|下面)?(?:重点|再|主要|简要)?(?:讲|谈|强调|提|说)(?:以下)?)([一二三四五六七八九十]+|\d{1,2})(点|个方面|个问题)")


@dataclass(frozen=True)
class Built:
    """One speech as it will be written: its source block and fragments."""

    prefix: str  # s000, s001a
    source: Source
    fragments: tuple[Fragment, ...]


_CORPUS_STEM = re.compile(r"(\d+)_[0-9a-f]{8,}")
_NOT_ID = re.compile(r"[^\w-]+")


def speech_prefix(stem: str, index: int, count: int) -> str:
    """The id prefix of a speech, unique per source file name.

    ``s000`` for a corpus file named ``000_6e77d68632e4004c.txt``; otherwise the file
    name itself made safe for an id (``1_a`` → ``1_a``, ``在全省会议上的讲话`` stays as it
    is), with a short digest of the name when anything had to be changed or cut, so two
    names never share a prefix. A file holding several speeches gives ``s001a``/``s001b``,
    or ``name.1``/``name.2``.
    """
    m = _CORPUS_STEM.fullmatch(stem)
    if m:
        return "s" + m.group(1) + (chr(ord("a") + index) if count > 1 else "")
    slug = _NOT_ID.sub("-", stem).strip("-")[:24]
    base = slug
    if not slug or slug != stem:
        import hashlib

        base = (slug + "-" if slug else "s") + hashlib.sha1(stem.encode("utf-8")).hexdigest()[:6]
    # A slug never holds a dot, so 'name.2' cannot be another file's prefix.
    return base + (f".{index + 1}" if count > 1 else "")


def build_speech(speech: Speech, file: str, prefix: str, restorer: Restorer | None) -> Built:
    """Turn one segmented speech into fragments with slots, blanks and tags."""
    body = "\n".join(p.raw for p in speech.parts)
    title = metadata(speech.title)
    meeting = tagging.meeting_type(speech.title + speech.subtitle, body)
    camp = tagging.campaign(speech.title, body)
    base_tags = [t for t in (meeting, camp, tagging.batch(speech.title, body)) if t]
    source = Source(
        file=file,
        title=title,
        meeting=meeting,
        year=tagging.year(speech.title, speech.date),
        date=metadata(speech.date) if speech.date else "",
        speaker=metadata(speech.speaker) if speech.speaker else "",
        campaign=camp,
        announced_points=speech.announced_points,
        warnings=speech.warnings,
        subtitle=metadata(speech.subtitle) if speech.subtitle else "",
    )
    counts: dict[str, int] = {}
    level = source_level(body)
    from speechgen.lint.phases import meeting_phase, speech_campaign

    campaign = speech_campaign(camp, source.year, body)
    title_phase = meeting_phase(speech.title + speech.subtitle)
    frags = []
    for part in speech.parts:
        if part.kind not in FRAGMENT_KINDS:
            continue
        counts[part.kind] = counts.get(part.kind, 0) + 1
        n = part.number if part.kind == "point" and part.number else counts[part.kind]
        frag = _fragment(part, f"{prefix}.{part.kind}.{n}", base_tags, restorer, source)
        frags.append(situate(annotate(frag, level), campaign, title_phase))
    return Built(prefix, source, tuple(frags))


def _fragment(part: Part, fid: str, base_tags: list[str], restorer: Restorer | None, source: Source) -> Fragment:
    acc = Result("")

    def fix(text: str) -> str:
        if part.kind in ("opening", "transition"):
            text = _ANNOUNCED.sub(lambda m: m.group(1) + "{{ 点数 }}" + m.group(3), text)
            if "{{ 点数 }}" in text and "点数" not in acc.slots:
                acc.slots.append("点数")
        res = replace_tokens(text, restorer)
        acc.slots.extend(s for s in res.slots if s not in acc.slots)
        acc.blanks.extend(res.blanks)
        acc.restored.extend(r for r in res.restored if r not in acc.restored)
        return res.text

    heading = fix(part.heading)
    text = fix(part.text)
    subs = tuple(Subpoint(fix(s.lead), fix(s.text)) for s in part.subpoints)
    tail = fix(part.tail)
    whole = "\n".join([heading, text, *(s.lead + s.text for s in subs), tail])
    kw = tagging.keywords(whole, top=5, skip=tuple(base_tags)) if part.kind not in ("salutation",) else []
    return Fragment(
        id=fid,
        kind=part.kind,
        text=text,
        heading=heading,
        number=part.number if part.kind == "point" else None,
        tags=tuple(dict.fromkeys([*base_tags, *kw])),
        slots=tuple(acc.slots),
        blanks=tuple(acc.blanks),
        subpoints=subs,
        tail=tail,
        review=part.review,
        restored=tuple(acc.restored),
        source=source,
    )
