"""The compose page's form ↔ the text of a brief, and the brief's problems ↔ the form's fields.

The web app never builds a :class:`~speechgen.compose.brief.Brief` itself: it writes the
form as brief YAML (what "下载简报" gives), and that text goes through the same
``parse_brief`` + ``compose`` as ``speechgen compose``. Writing the YAML ourselves also
tells us which line holds which field, so each ``简报.yaml:7: …`` message of the CLI is shown
beside the field on line 7.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The name the brief has in messages and when downloaded.
SHOWN = "简报.yaml"
#: Slots whose value comes from a field of the brief rather than from vars:.
DERIVED = {"年份": "date", "日期": "date", "讲话人": "speaker", "会议": "meeting", "点数": ""}
TEXT_FIELDS = ("template", "title", "meeting", "speaker", "date", "campaign", "salutation")

_PLAIN = re.compile(r"[\w\u3000-\u303f\u4e00-\u9fff\uff00-\uffef][\w\u3000-\u303f\u4e00-\u9fff\uff00-\uffef.\-·、（）《》“”]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LINE_MSG = re.compile(r"^\s*" + re.escape(SHOWN) + r":(\d+): ")
_SLOT_MSG = re.compile(r"^\s*(\S+) — needed by (.+?) — (add .*)$")


def scalar(value: Any) -> str:
    """*value* as a YAML scalar that reads back as the same text (plain when that is safe)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    plain = _PLAIN.fullmatch(text) and text.lower() not in _YAML_WORDS
    looks_numeric = re.fullmatch(r"[\d.\-+_:eExXoObB]+", text) is not None
    if plain and (not looks_numeric or _DATE.fullmatch(text)):
        return text
    return json.dumps(text, ensure_ascii=False)


@dataclass
class PointItem:
    """One item of ``points:`` as the form holds it."""

    id: str = ""
    query: str = ""
    tags: tuple[str, ...] = ()
    count: int = 1
    subpoints: tuple[int, ...] | None = None
    heading: str = ""

    def key(self) -> str:
        """The item (without sub-points) as the hidden form value."""
        data: dict[str, Any] = {}
        if self.id:
            data["id"] = self.id
            if self.heading:
                data["heading"] = self.heading
        elif self.query:
            data = {"query": self.query, "count": self.count}
        else:
            data = {"tags": list(self.tags), "count": self.count}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_key(cls, key: str) -> PointItem:
        """Read a hidden form value back; a bare text is taken as a fragment id."""
        try:
            data = json.loads(key)
        except ValueError:
            return cls(id=key.strip())
        if not isinstance(data, dict):
            return cls(id=str(data))
        count = data.get("count", 1)
        count = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 1
        if data.get("id"):
            return cls(id=str(data["id"]), heading=str(data.get("heading") or ""))
        if data.get("query"):
            return cls(query=str(data["query"]), count=count)
        tags = data.get("tags") or []
        return cls(tags=tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])), count=count)

    def yaml(self) -> str:
        """The item as a line of ``points:``."""
        if self.id and self.subpoints is None and not self.heading:
            return scalar(self.id)
        parts: list[str] = []
        if self.id:
            parts.append(f"id: {scalar(self.id)}")
            if self.subpoints is not None:
                parts.append("subpoints: [" + ", ".join(str(n) for n in self.subpoints) + "]")
            if self.heading:
                parts.append(f"heading: {scalar(self.heading)}")
        elif self.query:
            parts.append(f"query: {scalar(self.query)}")
        else:
            parts.append("tags: [" + ", ".join(scalar(t) for t in self.tags) + "]")
        if not self.id and self.count != 1:
            parts.append(f"count: {self.count}")
        return "{" + ", ".join(parts) + "}"


@dataclass
class BriefForm:
    """Everything the compose form holds; empty text means "not given"."""

    template: str = "推进会"
    title: str = ""
    meeting: str = ""
    speaker: str = ""
    date: str = ""
    campaign: str = ""
    salutation: str = ""
    vars: dict[str, str] = field(default_factory=dict)
    opening: str = "auto"
    closing: str = "auto"
    points: list[PointItem] = field(default_factory=list)
    blanks: str = ""
    speaking_rate: str = ""
    allow_blanks: bool = False

    # ------------------------------------------------------------------ form

    @classmethod
    def from_form(cls, form: Any) -> BriefForm:
        """Read the posted form (a Starlette FormData or any mapping with ``getlist``)."""
        get = _getter(form)
        bf = cls(**{k: get(k) for k in TEXT_FIELDS})
        names = form.getlist("var_name")
        values = form.getlist("var_value")
        bf.vars = {str(n).strip(): str(v).strip() for n, v in zip(names, values, strict=False) if str(n).strip()}
        bf.opening = get("opening") or "auto"
        bf.closing = get("closing") or "auto"
        bf.blanks = " ".join(get("blanks").split())
        bf.speaking_rate = get("speaking_rate")
        bf.allow_blanks = get("allow_blanks") in ("1", "on", "true")
        for i, key in enumerate(form.getlist("pt")):
            item = PointItem.from_key(str(key))
            total = get(f"subn-{i}")
            if item.id and total.isdigit():
                chosen = sorted({int(v) for v in form.getlist(f"sub-{i}") if str(v).isdigit()})
                if chosen and len(chosen) < int(total):
                    item.subpoints = tuple(chosen)
            bf.points.append(item)
        return bf

    # ------------------------------------------------------------------ YAML

    def to_yaml(self) -> tuple[str, dict[str, int]]:
        """The brief text and the line of each field (``var:市名``, ``point:2``, …)."""
        lines = [
            f"# 讲话简报：speechgen compose {SHOWN} -o 讲话稿.docx"
            + (" --allow-blanks" if self.allow_blanks else ""),
            "# written by speechgen serve; docs/brief.md explains every key",
        ]
        where: dict[str, int] = {}

        def put(key: str, text: str) -> None:
            lines.append(text)
            where[key] = len(lines)

        for name in TEXT_FIELDS:
            value = getattr(self, name).strip()
            if value:
                put(name, f"{name}: {scalar(value)}")
        given = {k: v for k, v in self.vars.items() if v}
        if given:
            put("vars", "vars:")
            for name, value in given.items():
                put(f"var:{name}", f"  {scalar(name)}: {scalar(value)}")
        put("opening", f"opening: {_choice(self.opening)}")
        if self.points:
            put("points", "points:")
            for i, item in enumerate(self.points):
                put(f"point:{i}", f"  - {item.yaml()}")
        else:
            put("points", "points: []")
        put("closing", f"closing: {_choice(self.closing)}")
        if self.blanks:
            put("blanks", f"blanks: {self.blanks}")
        if self.speaking_rate:
            rate = self.speaking_rate
            put("speaking_rate", f"speaking_rate: {rate if rate.isdigit() else scalar(rate)}")
        return "\n".join(lines) + "\n", where

    # ------------------------------------------------------------------ from a brief

    @classmethod
    def from_brief_text(cls, text: str, shown: str = SHOWN) -> tuple[BriefForm, list[str]]:
        """A form holding what the brief *text* says, and the problems of its shape.

        Raises:
            SpeechgenError: when the text is not YAML at all (the CLI's message).
        """
        from speechgen.compose.brief import parse_brief
        from speechgen.userfiles import compose_yaml

        brief, problems = parse_brief(text, shown)
        raw, _ = compose_yaml(text, shown)
        raw_vars = raw.get("vars") if isinstance(raw, dict) else None
        bf = cls(
            template=brief.template,
            title=brief.title,
            meeting=brief.meeting if brief.meeting != brief.template else str(_raw(raw, "meeting")),
            speaker=brief.speaker,
            date=brief.date.isoformat() if brief.date else "",
            campaign=brief.campaign,
            salutation=brief.salutation,
        )
        names = list(raw_vars) if isinstance(raw_vars, dict) else []
        bf.vars = {str(n): brief.vars.get(str(n), "") for n in names}
        bf.vars.update(brief.vars)
        bf.opening = _choice_text(brief.opening)
        bf.closing = _choice_text(brief.closing)
        bf.points = [
            PointItem(p.id, p.query, p.tags, p.count, p.subpoints, p.heading) for p in brief.points
        ]
        if brief.blanks:
            bf.blanks = "{" + ", ".join(
                f"{scalar(fid)}: {{" + ", ".join(f"{pos}: {scalar(v)}" for pos, v in fills.items()) + "}"
                for fid, fills in brief.blanks.items()
            ) + "}"
        if "speaking_rate" in brief.lines:
            bf.speaking_rate = str(brief.speaking_rate)
        return bf, problems


def _raw(raw: Any, key: str) -> Any:
    return (raw.get(key) if isinstance(raw, dict) else None) or ""


def _getter(form: Any) -> Any:
    def get(key: str) -> str:
        value = form.get(key)
        return "" if value is None or not isinstance(value, str) else value.strip()

    return get


def _choice(value: str) -> str:
    ids = [v.strip() for v in re.split(r"[,，\s]+", value) if v.strip()]
    if not ids or ids == ["auto"]:
        return "auto"
    if ids == ["none"]:
        return "none"
    return scalar(ids[0]) if len(ids) == 1 else "[" + ", ".join(scalar(i) for i in ids) + "]"


def _choice_text(choice: Any) -> str:
    return choice.mode if choice.mode in ("auto", "none") else ", ".join(choice.ids)


# --------------------------------------------------------------------------- errors → fields


@dataclass
class Placed:
    """A CLI message split over the form: lines beside fields, and the rest."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    slots: dict[str, str] = field(default_factory=dict)  # missing slot → who needs it

    def add(self, key: str, line: str) -> None:
        self.fields.setdefault(key, []).append(line)


def place_errors(message: str, where: Mapping[str, int]) -> Placed:
    """Put each line of a CLI *message* beside the field it concerns."""
    by_line = {line: key for key, line in where.items()}
    placed = Placed()
    for raw in message.splitlines():
        line = raw.strip()
        if not line or line.startswith("(or run with --allow-blanks"):
            continue
        m = _LINE_MSG.match(line)
        s = _SLOT_MSG.match(line)
        if m and int(m[1]) in by_line:
            placed.add(by_line[int(m[1])], line)
        elif s:
            name = s[1]
            placed.slots[name] = s[2]
            placed.add(DERIVED.get(name) or f"var:{name}", line)
        elif "'points'" in line or "no 'points:'" in line:
            placed.add("points", line)
        elif re.search(r"\d+ (errors in|slots? ha)", line):
            continue  # the heading of a list; its lines are placed one by one
        else:
            placed.general.append(line)
    return placed
