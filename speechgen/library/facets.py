"""The values a library's filters can take (the web library page's menus), from any store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from speechgen.model import Fragment


def facet_lists(sources: Iterable[tuple[str | None, int | None, str | None]], tags: Mapping[str, int],
                most: int = 200) -> dict[str, list[Any]]:
    """The filter values of a library: its meetings and source files (sorted), years (newest
    first) from *sources* ``(meeting, year, file)``, and its *most* commonest tags (by count,
    then by name) from *tags* ``{tag: fragments}``. What the web library page offers."""
    rows = list(sources)
    return {
        "meetings": sorted({m for m, _, _ in rows if m}),
        "years": sorted({y for _, y, _ in rows if y}, reverse=True),
        "sources": sorted({f for _, _, f in rows if f}),
        "tags": [t for t, _ in sorted(tags.items(), key=lambda tc: (-tc[1], tc[0]))[:most]],
    }


def facets(fragments: Iterable[Fragment], most: int = 200) -> dict[str, list[Any]]:
    """:func:`facet_lists` of *fragments* (a library in memory)."""
    frags = list(fragments)
    tags: dict[str, int] = {}
    for f in frags:
        for t in f.tags:
            tags[t] = tags.get(t, 0) + 1
    return facet_lists({(f.source.meeting, f.source.year, f.source.file) for f in frags}, tags, most)
