"""The workbench in real Chromium (Playwright, Debian's chromium): the flows of issue #14.

Each flow saves screenshots under tests/artifacts/ for a reviewer.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from webtools import SPEECH, Server, browser, page, shot, user_library, watch_console  # noqa: F401 (fixtures)

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture skips with the reason (and fails in CI)
    expect = None

from speechgen.web import web_config


def _cli_docx_text(brief: Path, library: Path, out: Path) -> list[str]:
    """The paragraphs of the .docx the CLI writes for *brief*."""
    from docx import Document

    subprocess.run(
        [sys.executable, "-m", "speechgen.cli", "compose", str(brief), "-o", str(out), "--library", str(library)],
        check=True, capture_output=True, text=True,
    )
    return [p.text for p in Document(str(out)).paragraphs]


def _docx_text(path: Path) -> list[str]:
    from docx import Document

    return [p.text for p in Document(str(path)).paragraphs]


def test_compose_flow_downloads_what_the_cli_composes(page, user_library: Path, tmp_path: Path) -> None:
    config = web_config("127.0.0.1", [user_library], [], None)
    problems = watch_console(page)
    with Server(config) as server:
        page.goto(server.url + "/library")
        page.get_by_placeholder("输入关键词").fill("调查研究")
        # the first search of a fresh server loads jieba's dictionary: give it time
        expect(page.locator("#results .count")).to_contain_text("“调查研究”", timeout=60000)
        shot(page, "library")

        page.goto(server.url + "/compose")
        page.get_by_label("搜索要点").fill("调查研究")
        for i in range(3):  # the best hit not chosen yet (nor a near-duplicate of one chosen)
            button = page.locator("#search-results button.add").first
            fid = json.loads(button.get_attribute("hx-vals") or "{}")["fid"]
            button.click()
            expect(page.locator("#points .point-row")).to_have_count(i + 1)
            hit = page.locator("#search-results .hit", has=page.locator(f"code:text-is('{fid}')"))
            expect(hit.locator(".taken")).to_have_text("已选用")  # the results followed the choice
        assert page.locator("#points .point-row").count() == 3

        page.locator("input[name=date]").fill("2024-03-15")
        city = page.get_by_label("市名", exact=True)
        city.wait_for()
        city.fill("临江市")
        for name in ("上级", "本级"):
            field = page.get_by_label(name, exact=True)
            if field.count():
                field.fill({"上级": "省委", "本级": "市"}[name])
        sheet = page.locator("article.sheet")
        expect(sheet.locator(".d-title")).to_have_text("在临江市推进会上的讲话")
        expect(page.locator(".cli-error")).to_have_count(0)
        text = sheet.inner_text()
        assert "在临江市推进会上的讲话" in text
        headings = [h.strip() for h in sheet.locator(".d-h1").all_inner_texts()]
        assert [h[:2] for h in headings] == ["一、", "二、", "三、"]
        assert "（2024年3月15日）" in text
        shot(page, "compose-preview")

        with page.expect_download() as dl:
            page.get_by_role("button", name="Word 文档 .docx").click()
        docx = tmp_path / "web.docx"
        dl.value.save_as(docx)
        with page.expect_download() as dl:
            page.get_by_role("button", name="简报 .yaml").click()
        brief = tmp_path / "简报.yaml"
        dl.value.save_as(brief)

    assert problems == [], "\n".join(problems)
    web_paras = _docx_text(docx)
    cli_paras = _cli_docx_text(brief, user_library, tmp_path / "cli.docx")
    assert web_paras == cli_paras
    assert any(p.startswith("三、") for p in web_paras)
    assert any("临江市" in p for p in web_paras)


def test_empty_city_shows_the_cli_message_beside_the_field(page, user_library: Path) -> None:
    config = web_config("127.0.0.1", [user_library], [], None)
    problems = watch_console(page)
    with Server(config) as server:
        page.goto(server.url + "/compose?start=推进会")
        page.locator("#points .point-row").first.wait_for()
        city = page.get_by_label("市名", exact=True)
        city.fill("")
        city.press("Tab")
        message = page.locator("#err-var-市名")
        expect(message).to_contain_text("市名 — needed by")
        assert re.fullmatch(r"市名 — needed by the title.* — add it under vars: \(市名: …\)", message.inner_text())
        box_field = city.bounding_box()
        box_msg = message.bounding_box()
        assert box_field and box_msg and 0 <= box_msg["y"] - (box_field["y"] + box_field["height"]) < 60
        shot(page, "compose-missing-city")
    assert problems == [], "\n".join(problems)


def test_uploaded_speech_points_appear_in_search(page, user_library: Path, tmp_path: Path) -> None:
    speech = tmp_path / "海绵城市推进会讲话.txt"
    speech.write_text(SPEECH, encoding="utf-8")
    config = web_config("127.0.0.1", [user_library], [], None)
    problems = watch_console(page)
    with Server(config) as server:
        page.goto(server.url + "/ingest")
        page.locator("input[type=file][name=files]").set_input_files(str(speech))
        page.get_by_role("button", name="上传并导入").click()
        page.locator(".report table").wait_for()
        assert "海绵城市推进会讲话.txt" in page.locator(".report").inner_text()
        assert page.locator(".report tbody td").nth(3).inner_text() == "3"  # points
        shot(page, "ingest-report")

        page.goto(server.url + "/library")
        page.get_by_placeholder("输入关键词").fill("雨水花园")
        expect(page.locator("#results .card-title").first).to_contain_text("雨水花园")
        titles = page.locator("#results .card-title").all_inner_texts()
        assert any("雨水花园" in t for t in titles)
        shot(page, "library-search")
    assert list(user_library.glob("web-*.yaml"))
    assert problems == [], "\n".join(problems)


def test_non_loopback_host_without_token_is_refused(page, user_library: Path) -> None:
    config = web_config("0.0.0.0", [user_library], [], None)
    assert config.token
    with Server(config) as server:
        response = page.goto(server.url + "/library")
        assert response is not None and response.status == 403
        assert "需要访问令牌" in page.locator("body").inner_text()
        response = page.goto(server.url + f"/library?token={config.token}")
        assert response is not None and response.status == 200
        assert page.url == server.url + "/library"  # the token left the address bar for a cookie
        page.goto(server.url + "/compose")
        assert page.locator("#brief-form").count() == 1
