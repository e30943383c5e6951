"""Fixtures and helpers of the web tests (not a conftest.py: tests/conftest.py owns that module name)."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed (pip install '.[test,web]')")

from starlette.testclient import TestClient  # noqa: E402

from speechgen.web import WebConfig, create_app, web_config  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = os.environ.get("SPEECHGEN_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps", "--no-first-run",
    "--disable-extensions", "--metrics-recording-only", "--mute-audio",
]

#: A short speech of our own for upload tests: three numbered points about 海绵城市.
SPEECH = """在全市海绵城市建设推进会上的讲话

同志们：

今天召开这次会议，主要是总结前一阶段海绵城市建设工作，部署下一步任务。下面，我讲三点意见。

一、提高思想认识，把海绵城市建设摆在更加突出的位置

海绵城市建设是城市更新的重要内容。各级各部门要充分认识这项工作的重要意义，切实增强责任感和紧迫感。

二、突出工作重点，扎实推进雨水花园和透水铺装改造

今年要完成老旧小区雨水花园改造任务，新建道路全部采用透水铺装。各区要建立工作台账，逐项销号。

三、强化组织保障，确保各项任务按期落地见效

各级领导干部要亲自抓、负总责，住建部门要加强督导检查，对进度滞后的单位及时通报。

同志们，海绵城市建设功在当代、利在千秋。希望大家以更加务实的作风，把各项任务落到实处。谢谢大家。
"""


def csrf_of(client: TestClient) -> str:
    """The CSRF token the client's first page set."""
    if not client.cookies.get("speechgen_csrf"):
        client.get("/ingest")
    return str(client.cookies.get("speechgen_csrf"))


@pytest.fixture
def user_library(tmp_path: Path) -> Path:
    folder = tmp_path / "my-library"
    folder.mkdir()
    return folder


@pytest.fixture
def config(user_library: Path) -> WebConfig:
    return web_config("127.0.0.1", [user_library], [], None)


@pytest.fixture
def client(config: WebConfig) -> Iterator[TestClient]:
    with TestClient(create_app(config), base_url="http://127.0.0.1:8765") as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """uvicorn in a thread of the test process, stopped at the end."""

    def __init__(self, config: WebConfig) -> None:
        import uvicorn

        self.port = free_port()
        self.config = config
        host = "127.0.0.1" if config.host in ("127.0.0.1", "localhost") else config.host
        self.server = uvicorn.Server(uvicorn.Config(create_app(config), host=host, port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start in 10 s")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def chromium_missing() -> str:
    """Why the browser tests cannot run here, or '' when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install '.[test,web]')"
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        return f"Debian's chromium is not at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    return ""


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    why = chromium_missing()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1500, "height": 1000}, accept_downloads=True,  # type: ignore[attr-defined]
                                  locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


def watch_console(page: object) -> list[str]:
    """Console errors and warnings of *page* (a CSP violation, an htmx swap without target)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} at {m.location}")  # type: ignore[attr-defined]
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))  # type: ignore[attr-defined]
    return problems


def shot(page: object, name: str) -> Path:
    """Save a screenshot under tests/artifacts/ (ignored by git) for a reviewer to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)  # type: ignore[attr-defined]
    return path
