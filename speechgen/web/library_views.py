"""The library page: search as you type (the ranking of ``fragments search``), filters, fragment view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from speechgen.errors import SpeechgenError
from speechgen.library import Filters
from speechgen.model import KINDS, Fragment
from speechgen.web.config import WebConfig
from speechgen.web.pages import render
from speechgen.web.present import inline_slots, slots_html, snippet

LIST_LIMIT = 60  # fragments listed without a query; search shows its best hits
SEARCH_LIMIT = 30


@dataclass
class Query:
    """The search box and filters as the page holds them."""

    q: str = ""
    kind: str = ""
    tag: str = ""
    meeting: str = ""
    year: str = ""
    source: str = ""
    review: bool = False

    @classmethod
    def of(cls, request: Request) -> Query:
        p = request.query_params
        q, kind, tag, meeting, year, source = (p.get(k, "").strip() for k in ("q", "kind", "tag", "meeting", "year", "source"))
        return cls(q, kind, tag, meeting, year, source, review=p.get("review") in ("1", "on"))

    def filters(self) -> tuple[Filters, dict[str, str]]:
        """The store's filters, and a message for each control whose value is not usable."""
        errors: dict[str, str] = {}
        kind = self.kind
        if kind and kind not in KINDS:
            errors["kind"] = f"--kind: unknown kind '{kind}' — use one of: {', '.join(KINDS)}"
            kind = ""
        year = int(self.year) if self.year.isdigit() else None
        if self.year and year is None:
            errors["year"] = f"--year: '{self.year}' is not a valid integer"
        return Filters(kind, self.tag, self.meeting, year, self.source, self.review), errors


def _store(request: Request) -> Any:
    cfg: WebConfig = request.app.state.config
    return cfg.store()


def choices(store: Any) -> dict[str, list[Any]]:
    """Values for the filter controls, from the library itself: asked of the store (SQL over
    its columns) when it can say, else counted over ``store.library()``."""
    from speechgen.library.facets import facets

    found = store.facets() if hasattr(store, "facets") else facets(store.library().fragments)
    return {"kinds": list(KINDS), **found}


def results(store: Any, query: Query) -> dict[str, Any]:
    """Cards for the query: search hits ranked as the CLI ranks them, or the filtered list."""
    filters, errors = query.filters()
    cards: list[dict[str, Any]] = []
    if query.q:
        words = store.query_tokens(query.q)
        for hit in store.search(query.q, filters, SEARCH_LIMIT):
            cards.append(card(hit.fragment, words, hit.score))
        total = len(cards)
    else:  # the first page and a count: not every fragment passing the filters
        total = store.count(filters)
        cards = [card(f, [], None) for f in store.page(filters, LIST_LIMIT)]
    return {"cards": cards, "total": total, "query": query, "errors": errors}


def card(f: Fragment, words: list[str], score: float | None) -> dict[str, Any]:
    """What a fragment card shows."""
    return {
        "f": f,
        "label": f.label,
        "snippet": snippet(f.full_text, words),
        "score": score,
    }


async def library_page(request: Request) -> Response:
    """GET /library: the search box, the filters and the first results."""
    query = Query.of(request)

    def work() -> dict[str, Any]:
        store = _store(request)
        return {**results(store, query), "choices": choices(store)}

    return render(request, "library.html", **await run_in_threadpool(work))


async def library_results(request: Request) -> Response:
    """GET /library/results: the result list alone (htmx, as you type).

    The search runs in a worker thread (with that thread's store): writers searching at
    once wait on the database side by side, not one after another.
    """
    query = Query.of(request)
    return render(request, "_results.html", **await run_in_threadpool(lambda: results(_store(request), query)))


async def fragment_page(request: Request) -> Response:
    """GET /library/fragment/{fid}: the whole fragment, slots highlighted, and its variants."""
    fid = request.path_params["fid"]
    store = _store(request)
    try:
        frag = store.get(fid)
    except SpeechgenError as exc:
        return render(request, "error.html", status=404, title="没有这个片段", message=str(exc))
    variants = store.variants_of(frag)
    subpoints = [{"lead": inline_slots(sp.lead), "text": inline_slots(" ".join(sp.text.split("\n")))}
                 for sp in frag.subpoints]
    return render(
        request, "fragment.html", f=frag, heading=slots_html(frag.heading), text=slots_html(frag.text),
        subpoints=subpoints, tail=slots_html(frag.tail), variants=variants,
    )
