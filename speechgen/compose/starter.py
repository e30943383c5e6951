"""``speechgen brief init``: a commented brief to start from, for one template."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path
from typing import Any

from speechgen.compose.brief import Brief, Choice, PointSpec
from speechgen.compose.pipeline import needed_slots, slot_values
from speechgen.compose.selection import Selection, select
from speechgen.compose.templates import Template, available, load_template

_DERIVED = {"年份": "date", "日期": "date", "讲话人": "speaker", "会议": "meeting", "点数": "points"}


def _spec(item: Any, n: int) -> PointSpec | None:
    if isinstance(item, str):
        return PointSpec(n, id=item)
    if isinstance(item, dict) and "id" in item:
        subs = item.get("subpoints")
        return PointSpec(n, id=str(item["id"]), subpoints=tuple(subs) if subs else None)
    if isinstance(item, dict) and "query" in item:
        return PointSpec(n, query=str(item["query"]), count=int(item.get("count") or 1))
    if isinstance(item, dict) and "tags" in item:
        tags = item["tags"] if isinstance(item["tags"], list) else [item["tags"]]
        return PointSpec(n, tags=tuple(str(t) for t in tags), count=int(item.get("count") or 1))
    return None


def _item_text(item: Any) -> str:
    if isinstance(item, dict):
        return "{" + ", ".join(f"{k}: {_item_text(v)}" for k, v in item.items()) + "}"
    if isinstance(item, list):
        return "[" + ", ".join(_item_text(v) for v in item) + "]"
    return str(item)


def _pad(text: str, width: int = 27) -> str:
    """*text* padded to *width* terminal columns (a CJK character takes two)."""
    cols = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - cols)


def _selection(template: Template, dirs: list[Path], store: Any = None) -> Selection:
    from speechgen.library import open_store

    specs = [s for n, item in enumerate(template.points, 1) if (s := _spec(item, n))]
    brief = Brief(path="brief.yaml", template=template.name, meeting=template.name, points=tuple(specs),
                  opening=Choice("auto"), closing=Choice("auto"))
    index = open_store(dirs) if store is None else store
    return select(brief, index, None, template)


def _point_lines(template: Template, sel: Selection) -> list[str]:
    lines = ["points:                    # in order: an id, {id: …, subpoints: [1, 3]}, {query: …}, {tags: […], count: 2}"]
    by_line = {p.line: p for p in sel.points}
    items = template.points or ("s000.point.1",)
    for n, item in enumerate(items, 1):
        pick = by_line.get(n)
        note = f"# today: {pick.fragment.id} {pick.fragment.label}" if pick else "# matches nothing in the library yet"
        lines.append(_pad(f"  - {_item_text(item)}") + note)
    return lines


def brief_text(name: str, tdirs: list[Path], dirs: list[Path], today: dt.date | None = None,
               store: Any = None) -> str:
    """The text of a commented starter brief for template *name* (from *store*, default the folders)."""
    template = load_template(name, tdirs)
    sel = _selection(template, dirs, store)
    date = today or dt.date.today()
    others = ", ".join(n for n in available(tdirs) if n != name)
    probe = Brief(path="brief.yaml", template=name, meeting=template.name, date=date, speaker="x")
    derived = set(slot_values(probe, len(sel.points)))
    needed = needed_slots(sel, template, template.title)
    lines = [
        f"# Brief for a {template.name} speech: speechgen compose brief.yaml -o 讲话稿.docx",
        "# docs/brief.md explains every key; speechgen check brief.yaml checks it without writing.",
        "",
        _pad(f"template: {name}") + f"# {template.description or name}; others: {others or 'none'}",
        _pad("# title: 在…上的讲话") + f"# optional; otherwise: {template.title}",
        _pad(f"meeting: {template.name}") + "# the meeting as the title names it, e.g. 第二批主题教育推进会",
        _pad("speaker:") + "# 讲话人, written under the title",
        _pad(f"date: {date.isoformat()}") + "# YYYY-MM-DD: the date line （2024年3月15日） and {{ 年份 }}",
        _pad("# campaign: 主题教育") + "# prefer fragments of this campaign",
        "vars:                      # named slots: fill every one (or compose --allow-blanks)",
    ]
    for slot, users in needed.items():
        if slot in derived:
            continue
        lines.append(_pad(f"  {slot}:") + f"# needed by {', '.join(users)}")
    lines += [
        "opening: auto              # auto (fits the meeting type), none, or a fragment id",
        *_point_lines(template, sel),
        "closing: auto              # auto, none, a fragment id or a list of ids",
        "blanks: {}                 # typed blanks by fragment and position: {s000.opening.1: [三, 五]}",
        "",
    ]
    derived_used = [f"{s} ← {_DERIVED[s]}" for s in needed if s in derived and s in _DERIVED]
    if derived_used:
        lines.insert(2, f"# Filled for you: {', '.join(derived_used)}.")
    return "\n".join(lines)
