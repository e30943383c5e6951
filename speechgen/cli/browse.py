"""Printing the library for people: tables, a whole fragment, search hits, slot usage."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from speechgen.library import Hit, Library
from speechgen.model import Fragment

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def _console() -> Console:
    # no emoji codes in our own strings either: rich then never loads its emoji table
    return Console(highlight=False, soft_wrap=False, emoji=False)


def fragment_json(f: Fragment) -> dict[str, Any]:
    """The fields ``--json`` prints for one fragment."""
    d = f.to_dict()
    d["heading"] = f.heading
    d["source"] = f.source.file or f.path
    d["file"] = f.path
    d["meeting"] = f.source.meeting
    d["year"] = f.source.year
    d["chars"] = f.chars
    return d


def highlighted(text: str) -> Text:
    """*text* with {{ slots }} and blanks marked in colour."""
    out = Text()
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        out.append(text[pos : m.start()])
        out.append(m.group(0), style="bold yellow" if "blank" in m.group(0) else "bold cyan")
        pos = m.end()
    out.append(text[pos:])
    return out


def show_fragment(f: Fragment, variants: list[Fragment]) -> None:
    """Print one whole fragment."""
    con = _console()
    con.print(Text(f"{f.id}  ({f.kind})", style="bold"))
    if f.heading:
        con.print(Text("heading: ", style="dim") + highlighted(f.heading))
    con.print()
    con.print(highlighted(f.text))
    for i, sp in enumerate(f.subpoints, 1):
        lead = highlighted(sp.lead)
        lead.stylize("bold")
        con.print(Text(f"[{i}] ", style="dim") + lead + highlighted(sp.text))
    if f.tail:
        con.print(highlighted(f.tail))
    con.print()
    rows = [
        ("tags", ", ".join(f.tags)),
        ("slots", ", ".join(f.slots)),
        ("blanks", ", ".join(f.blanks)),
        ("restored", "; ".join(f.restored)),
        ("source", f"{f.source.file} — {f.source.title}".strip(" —")),
        ("file", f"{f.path}:{f.line}"),
        ("review", "yes — a boundary was guessed" if f.review else ""),
        ("variants", ", ".join(f"{v.id} ({v.source.file or v.path})" for v in variants)),
    ]
    for key, value in rows:
        if value:
            con.print(Text(f"{key}: ", style="dim") + Text(value))


def snippet(text: str, words: list[str], width: int = 24) -> Text:
    """A short piece of *text* around the first query word, with the words marked."""
    flat = text.replace("\n", " ")
    first = min((i for i in (flat.find(w) for w in words) if i >= 0), default=0)
    start, end = max(0, first - width), first + width * 2
    for m in _PLACEHOLDER.finditer(flat):  # never cut a {{ slot }} in half
        if m.start() < start < m.end():
            start = m.start()
        if m.start() < end < m.end():
            end = m.end()
    piece = flat[start:end]
    out = Text(("…" if start else "") + piece + ("…" if end < len(flat) else ""))
    for w in words:
        if w:
            out.highlight_words([w], style="bold red")
    return out


def search_table(query: str, hits: list[Hit], query_words: list[str]) -> None:
    """Print search hits with score and a snippet marking the query and its *query_words*."""
    if not hits:
        _console().print(f"no fragment matches '{escape(query)}'")
        return
    words = list(dict.fromkeys([query.strip(), *query_words]))
    table = Table(title=f"{len(hits)} hits for {escape(query)}", title_justify="left")
    for col in ("score", "id", "kind", "snippet"):
        table.add_column(col, overflow="fold")
    for h in hits:
        table.add_row(f"{h.score:.3g}", h.fragment.id, h.fragment.kind, snippet(h.fragment.full_text, words))
    _console().print(table)


def slot_usage(lib: Library) -> dict[str, dict[str, Any]]:
    """{name: {type: slot|blank, count, fragments}} over the library."""
    usage: dict[str, dict[str, Any]] = defaultdict(lambda: {"type": "", "count": 0, "fragments": []})
    for f in lib.fragments:
        for name in f.slots:
            _count(usage, name, "slot", f, f.full_text.count(name))
        for name in dict.fromkeys(f.blanks):
            _count(usage, f"blank:{name}", "blank", f, f.blanks.count(name))
    return dict(sorted(usage.items(), key=lambda kv: (kv[1]["type"], -kv[1]["count"], kv[0])))


def _count(usage: dict[str, dict[str, Any]], key: str, kind: str, f: Fragment, n: int) -> None:
    entry = usage[key]
    entry["type"] = kind
    entry["count"] += max(n, 1)
    entry["fragments"].append(f.id)


def slot_table(usage: dict[str, dict[str, Any]]) -> None:
    """Print slot usage as a table."""
    table = Table(title=f"{len(usage)} slots and blank types", title_justify="left")
    for col in ("name", "type", "uses", "fragments"):
        table.add_column(col, overflow="fold")
    for name, entry in usage.items():
        frs = entry["fragments"]
        shown = ", ".join(frs[:6]) + (f" … (+{len(frs) - 6})" if len(frs) > 6 else "")
        table.add_row(escape(name.removeprefix("blank:")), entry["type"], str(entry["count"]), shown)
    _console().print(table)
