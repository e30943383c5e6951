"""Safety of the workbench: access token, host check, CSRF, and the headers of every response.

* Bound to loopback (the default) the app answers only requests whose ``Host`` is a loopback
  name, so a web page elsewhere cannot reach it through DNS rebinding.
* With a token (required for any other address) every request must carry it: once as
  ``?token=…`` (answered with a cookie and a redirect that drops it from the address), then
  the cookie, or an ``Authorization: Bearer …`` header.
* Every POST carries the CSRF token of the page (a form field or htmx's ``X-CSRF-Token``
  header) matching the CSRF cookie, and an ``Origin`` naming this host when it sends one.
* Every response forbids inline script and any other origin (Content-Security-Policy).
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from speechgen.web.config import WebConfig, is_loopback

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"

_REFUSED_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>拒绝访问</title><link rel="stylesheet" href="/static/style.css"></head>
<body class="plain"><main class="refused"><h1>拒绝访问</h1><p>{}</p></main></body></html>"""


class CsrfError(Exception):
    """A POST without the page's CSRF token, or from another origin."""


def new_token() -> str:
    """A fresh access token for a server on a non-loopback address."""
    return secrets.token_urlsafe(18)


def add_headers(response: Response) -> Response:
    """The security headers every response carries."""
    for key, value in HEADERS.items():
        response.headers.setdefault(key, value)
    return response


def refused(message: str, status: int = 403) -> Response:
    """A short Chinese page saying why the request was refused."""
    from html import escape

    return add_headers(HTMLResponse(_REFUSED_PAGE.format(escape(message)), status_code=status))


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())


def _host_name(request: Request) -> str:
    host = request.headers.get("host", "")
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Guard(BaseHTTPMiddleware):
    """Host check, access token and CSRF cookie on every request; headers on every response."""

    def __init__(self, app: Callable[..., Awaitable[None]], config: WebConfig) -> None:
        super().__init__(app)
        self.config = config

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        cfg = self.config
        if is_loopback(cfg.host) and not is_loopback(_host_name(request)):
            return refused("此服务只接受本机访问（localhost / 127.0.0.1）。")
        if cfg.token:
            given = request.query_params.get("token")
            if given is not None:
                if not _same(given, cfg.token):
                    return refused("访问令牌不正确：请使用启动时打印的完整地址。")
                query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "token"])
                target = request.url.path + (f"?{query}" if query else "")
                response: Response = RedirectResponse(target, status_code=303)
                response.set_cookie(cfg.token_cookie, cfg.token, httponly=True, samesite="strict")
                return add_headers(response)
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not (_same(request.cookies.get(cfg.token_cookie), cfg.token) or _same(bearer, cfg.token)):
                return refused("需要访问令牌：请使用启动时打印的完整地址（含 ?token=…）。")
        csrf = request.cookies.get(cfg.csrf_cookie, "")
        fresh = len(csrf) < 20
        if fresh:
            csrf = secrets.token_urlsafe(24)
        request.state.csrf = csrf
        request.state.fresh_csrf = fresh
        start = time.perf_counter()
        response = await call_next(request)
        # The time the app took, for the browser's developer tools and benchmarks/web_preview.py.
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.1f}"
        if fresh:
            response.set_cookie(cfg.csrf_cookie, csrf, httponly=True, samesite="strict")
        return add_headers(response)


def check_csrf(request: Request, form: FormData | None = None) -> None:
    """Raise :class:`CsrfError` unless the POST carries this browser's CSRF token."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        from urllib.parse import urlsplit

        if urlsplit(origin).netloc != request.headers.get("host", ""):
            raise CsrfError("origin")
    if request.state.fresh_csrf:
        raise CsrfError("no cookie")
    sent = request.headers.get(CSRF_HEADER) or (str(form.get(CSRF_FIELD, "")) if form is not None else "")
    if not _same(sent, request.state.csrf):
        raise CsrfError("token")
