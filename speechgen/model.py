"""Domain objects of the fragment library. Plain dicts exist only at the YAML boundary."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Kinds a fragment may have; docs/fragments.md explains each.
KINDS = (
    "title",
    "salutation",
    "opening",
    "transition",
    "point",
    "closing",
    "requirements",
    "paragraph",
)


@dataclass(frozen=True)
class Subpoint:
    """One 一是/二是 (or 1./（1）) item inside a point: the ordinal is not stored."""

    lead: str
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"lead": self.lead, "text": self.text}


@dataclass(frozen=True)
class Variant:
    """A near-duplicate of a fragment found in another source."""

    source: str
    id: str = ""
    similarity: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "id": self.id, "similarity": self.similarity}


@dataclass(frozen=True)
class Fact:
    """A sentence true only of the source speech's place and time (see :mod:`speechgen.facts`):
    *kind* 地方 (another place's history), 事件 (a dated event), 人名 (a named person) or 数字
    (a figure); *text* as it stands in the fragment, slots included."""

    kind: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text}


@dataclass(frozen=True)
class Source:
    """Where a fragment file came from: the ``source:`` block of the contract."""

    file: str = ""
    title: str = ""
    meeting: str = ""
    year: int | None = None
    date: str = ""
    speaker: str = ""
    campaign: str = ""
    announced_points: int | None = None
    warnings: tuple[str, ...] = ()
    subtitle: str = ""  # ——在…上的讲话 under a title; written only when there is one


@dataclass(frozen=True)
class Fragment:
    """A reusable piece of a speech: an opening, a numbered point, a closing, …"""

    id: str
    kind: str
    text: str = ""
    heading: str = ""
    number: int | None = None
    tags: tuple[str, ...] = ()
    slots: tuple[str, ...] = ()
    blanks: tuple[str, ...] = ()
    subpoints: tuple[Subpoint, ...] = ()
    tail: str = ""
    review: bool = False
    truncated: bool = False  # its source stopped mid-sentence; ingest cut it back to a whole sentence
    variants: tuple[Variant, ...] = ()
    restored: tuple[str, ...] = ()
    source: Source = field(default_factory=Source)
    campaign: str = ""  # the campaign of campaigns.yaml its wording belongs to ("" unknown)
    phase: str = ""  # 筹备 | 启动 | 推进 | 总结 ("" when its words do not tell)
    facts: tuple[Fact, ...] = ()
    path: str = ""  # the library file it was read from
    line: int = 0  # the line of its ``- id:`` entry in that file

    @property
    def full_text(self) -> str:
        """Heading, body, sub-points and tail joined: what search and counts see."""
        parts = [self.heading, self.text]
        for sp in self.subpoints:
            parts.append(sp.lead + sp.text)
        parts.append(self.tail)
        return "\n".join(p for p in parts if p)

    @property
    def label(self) -> str:
        """The heading, or the first words of the text."""
        if self.heading:
            return self.heading
        first = self.text.strip().split("\n", 1)[0]
        return first[:30] + ("…" if len(first) > 30 else "")

    @property
    def chars(self) -> int:
        """Characters of text, not counting white space."""
        return len("".join(self.full_text.split()))

    def to_dict(self) -> dict[str, Any]:
        """The fragment as it is written in a library file (contract field order)."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind}
        if self.number is not None:
            out["number"] = self.number
        if self.heading:
            out["heading"] = self.heading
        out["text"] = self.text
        if self.subpoints:
            out["subpoints"] = [sp.to_dict() for sp in self.subpoints]
        if self.tail:
            out["tail"] = self.tail
        out["tags"] = list(self.tags)
        if self.campaign:
            out["campaign"] = self.campaign
        if self.phase:
            out["phase"] = self.phase
        out["slots"] = list(self.slots)
        if self.blanks:
            out["blanks"] = list(self.blanks)
        if self.restored:
            out["restored"] = list(self.restored)
        if self.facts:
            out["facts"] = [f.to_dict() for f in self.facts]
        if self.variants:
            out["variants"] = [v.to_dict() for v in self.variants]
        out["review"] = self.review
        if self.truncated:
            out["truncated"] = True
        return out
