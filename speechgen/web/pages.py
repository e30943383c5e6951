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
    from jinja2 import FileSystemBytecodeCache

    from speechgen.paths import cache_dir

    # Compiling the pages takes about 0.2 s; the bytecode cache keeps that off later starts.
    base = cache_dir()
    cache = None
    if base is not None:
        (base / "web-pages").mkdir(exist_ok=True)
        cache = FileSystemBytecodeCache(str(base / "web-pages"))
    env = Environment(
        loader=FileSystemLoader(PAGES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        bytecode_cache=cache,
    )
    from speechgen.web.present import inline_slots

    env.filters["slots"] = inline_slots
    return env


def warm() -> None:
    """Load every page template now, so the first request does not compile them."""
    env = environment()
    for path in sorted(PAGES.glob("*.html")):
        env.get_template(path.name)


def render(request: Request, name: str, status: int = 200, headers: dict[str, str] | None = None,
           **context: Any) -> HTMLResponse:
    """Render page *name* with the request's CSRF token and the current section."""
    csrf = getattr(request.state, "csrf", "")
    section = request.url.path.strip("/").split("/", 1)[0] or "library"
    html = environment().get_template(name).render(csrf=csrf, section=section, **context)
    return HTMLResponse(html, status_code=status, headers=headers)
