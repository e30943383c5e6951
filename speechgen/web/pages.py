"""The workbench's own page templates (speechgen/web/pages/*.html) and how a handler renders one.

These are the app's pages, written by us, so a normal autoescaping Jinja environment
renders them; fragment and brief text never passes through it as a template (compose
renders that in its sandbox), only as escaped data.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
STATIC = HERE / "static"


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja environment of the pages (loaded once, templates cached)."""
    env = Environment(
        loader=FileSystemLoader(PAGES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    from speechgen.web.present import inline_slots

    env.filters["slots"] = inline_slots
    return env


def render(request: Request, name: str, status: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    """Render page *name* with the request's CSRF token and the current section."""
    csrf = getattr(request.state, "csrf", "")
    section = request.url.path.strip("/").split("/", 1)[0] or "library"
    html = environment().get_template(name).render(csrf=csrf, section=section, **context)
    return HTMLResponse(html, status_code=status, headers=headers)
