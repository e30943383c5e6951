"""The Starlette application: routes, the guard, static files, and pages for every failure."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from speechgen.errors import SpeechgenError
from speechgen.web import compose_views, ingest_views, library_views
from speechgen.web.config import WebConfig
from speechgen.web.pages import STATIC, render, warm
from speechgen.web.security import CsrfError, Guard, add_headers

log = logging.getLogger("speechgen.web")


async def favicon(request: Request) -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


async def home(request: Request) -> Response:
    return RedirectResponse("/library", status_code=303)


async def user_error(request: Request, exc: Exception) -> Response:
    """A SpeechgenError no page placed beside a field: the CLI's message, status 400."""
    return add_headers(render(request, "error.html", status=400, title="输入有误", message=str(exc)))


async def csrf_failed(request: Request, exc: Exception) -> Response:
    return add_headers(render(request, "error.html", status=403, title="请求被拒绝",
                              message="页面已过期或来自别的网站（CSRF 校验未通过）：请刷新页面后重试。"))


async def http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 400)
    title = "没有这个页面" if status == 404 else "请求无法处理"
    detail = getattr(exc, "detail", "")
    return add_headers(render(request, "error.html", status=status, title=title, message=str(detail)))


async def server_error(request: Request, exc: Exception) -> Response:
    """Anything else is a bug: log the traceback, say so, never show it."""
    log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    if not hasattr(request.state, "csrf"):
        request.state.csrf = ""
    return add_headers(render(request, "error.html", status=500, title="程序出错了",
                              message="这是 speechgen 的一个程序错误（bug），不是您的操作问题。"
                                      "详细信息已记录在运行 speechgen serve 的终端里，请把它发给维护者。",
                              bug=True))


def create_app(config: WebConfig) -> Starlette:
    """The workbench for *config*; every route calls the same library functions as the CLI."""
    routes = [
        Route("/", home),
        Route("/favicon.ico", favicon),
        Route("/library", library_views.library_page),
        Route("/library/results", library_views.library_results),
        Route("/library/fragment/{fid}", library_views.fragment_page),
        Route("/compose", compose_views.compose_page),
        Route("/compose/preview", compose_views.compose_preview, methods=["POST"]),
        Route("/compose/points", compose_views.compose_points, methods=["POST"]),
        Route("/compose/search", compose_views.compose_search),
        Route("/compose/download/{fmt}", compose_views.compose_download, methods=["POST"]),
        Route("/compose/load", compose_views.compose_load, methods=["POST"]),
        Route("/ingest", ingest_views.ingest_page),
        Route("/ingest", ingest_views.ingest_upload, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, config=config)],
        exception_handlers={
            SpeechgenError: user_error,
            CsrfError: csrf_failed,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    app.state.config = config
    warm()
    return app
