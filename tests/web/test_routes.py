"""Route tests with Starlette's test client: pages, the CLI's messages, safety, downloads."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from webtools import SPEECH, client, config, csrf_of, user_library  # noqa: F401 (fixtures)
from docx import Document
from starlette.testclient import TestClient
from typer.testing import CliRunner

from speechgen.cli import app as cli_app
from speechgen.lint import Finding
from speechgen.web import create_app, web_config
from speechgen.web.security import CSP

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "推进会.yaml"
POINTS = ['{"id":"s000.point.1"}', '{"id":"s001b.point.1"}', '{"id":"s003.point.3"}']


def brief_form(csrf: str, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf": csrf, "template": "推进会", "date": "2024-03-15", "speaker": "张明",
        "var_name": ["市名", "上级", "本级"], "var_value": ["临江市", "省委", "市"],
        "pt": POINTS, "opening": "auto", "closing": "auto",
    }
    data.update(over)
    return data


def preview(client: TestClient, **over: object) -> str:
    csrf = csrf_of(client)
    r = client.post("/compose/preview", data=brief_form(csrf, **over), headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    return r.text


def field_error(html: str, key: str) -> str:
    m = re.search(rf'id="err-{re.escape(key)}"[^>]*>(.*?)</p>', html, re.S)
    assert m, f"no error element for {key}"
    return m.group(1).replace("&#39;", "'").replace("&gt;", ">").replace("&lt;", "<")


# --------------------------------------------------------------------------- pages


@pytest.mark.parametrize("url", ["/library", "/library?q=调查研究", "/library/fragment/s000.point.1",
                                 "/compose", "/compose?start=推进会", "/ingest"])
def test_pages_have_no_inline_script_and_a_strict_csp(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "http" not in CSP
    assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", r.text) == []
    assert not re.search(r"\son[a-z]+=", r.text)  # no inline event handlers
    assert not re.search(r'\sstyle="', r.text)
    assert "http://" not in r.text.replace('href="http://127.0.0.1', "") and "https://" not in r.text


def test_home_redirects_to_the_library(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/library"


def test_htmx_is_served_from_the_package_with_its_licence(client: TestClient) -> None:
    r = client.get("/static/htmx.min.js")
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    static = Path(__file__).resolve().parents[2] / "speechgen" / "web" / "static"
    assert "Zero-Clause BSD" in (static / "htmx.LICENSE.txt").read_text(encoding="utf-8")


def test_search_ranks_as_the_cli_does(client: TestClient) -> None:
    out = CliRunner().invoke(cli_app, ["fragments", "search", "调查研究", "--kind", "point", "--json", "-n", "30"])
    cli_ids = [row["id"] for row in json.loads(out.stdout)]
    r = client.get("/library/results", params={"q": "调查研究", "kind": "point"})
    web_ids = re.findall(r"<code>([^<]+)</code> · point", r.text)
    assert web_ids == cli_ids and len(web_ids) >= 3
    assert "<mark>调查研究</mark>" in r.text


def test_filters_narrow_the_list(client: TestClient) -> None:
    r = client.get("/library/results", params={"kind": "closing"})
    kinds = re.findall(r"</code> · (\w+)", r.text)
    assert kinds and set(kinds) == {"closing"}
    r = client.get("/library/results", params={"year": "2019"})
    assert "2019年" in r.text and "2023年" not in r.text


def test_fragment_view_marks_slots_and_lists_variants(client: TestClient) -> None:
    r = client.get("/library/fragment/s000.point.1")
    assert '<span class="frag-slot">{{ 本级 }}</span>' in r.text
    assert "/library/fragment/s001a.point.1" in r.text  # its near-duplicate


def test_unknown_fragment_shows_the_cli_message(client: TestClient) -> None:
    r = client.get("/library/fragment/s000.piont.1")
    assert r.status_code == 404
    assert "unknown fragment id 's000.piont.1' — did you mean 's000.point.1'?" in r.text.replace("&#39;", "'")


# --------------------------------------------------------------------------- compose


def test_preview_numbers_points_and_fills_the_city(client: TestClient) -> None:
    html = preview(client)
    assert "在临江市推进会上的讲话" in html
    headings = re.findall(r'<p class="d-h1"[^>]*>(.{2})', html)
    assert headings == ["一、", "二、", "三、"]
    assert 'class="cli-error"' not in html
    assert "（2024年3月15日）" in html and '<mark class="blank">【＿＿】</mark>' in html


def test_empty_city_gets_the_cli_message_beside_its_field(client: TestClient) -> None:
    html = preview(client, var_value=["", "省委", "市"])
    message = field_error(html, "var-市名")
    assert message == "市名 — needed by the title, template 推进会 — add it under vars: (市名: …)"
    assert "Error: 简报.yaml: 1 slot has no value:" in html
    assert '<mark class="blank">【市名】</mark>' in html  # the preview still shows where it goes


def test_a_bad_date_and_an_unknown_id_are_placed_on_their_fields(client: TestClient) -> None:
    html = preview(client, date="2024-13-45", pt=['{"id":"s000.piont.1"}'])
    assert field_error(html, "date") == "简报.yaml:5: date '2024-13-45' is not a date — write it as YYYY-MM-DD, e.g. 2024-03-15"
    assert "unknown fragment id 's000.piont.1' — did you mean 's000.point.1'?" in field_error(html, "point-0")


def test_subpoint_choice_reaches_the_brief(client: TestClient) -> None:
    csrf = csrf_of(client)
    data = brief_form(csrf, **{"subn-1": "3", "sub-1": ["1", "3"]})
    r = client.post("/compose/download/yaml", data=data)
    assert "  - {id: s001b.point.1, subpoints: [1, 3]}" in r.text
    html = preview(client, **{"subn-1": "3", "sub-1": ["1", "3"]})
    second = html.split('class="d-h1"')[2]  # the second point, up to the third
    assert re.findall(r"<strong>(.)是", second) == ["一", "二"]


def test_point_operations(client: TestClient) -> None:
    csrf = csrf_of(client)

    def op(name: str, **extra: str) -> list[str]:
        r = client.post("/compose/points", data=brief_form(csrf, op=name, **extra), headers={"X-CSRF-Token": csrf})
        assert r.headers["hx-trigger-after-settle"] == "points-changed"
        return re.findall(r'name="pt" value="\{&#34;id&#34;:&#34;([^&]+)&#34;', r.text)

    assert op("add", fid="s004.point.1")[-1] == "s004.point.1"
    assert op("up:1") == ["s001b.point.1", "s000.point.1", "s003.point.3"]
    assert op("down:0") == ["s001b.point.1", "s000.point.1", "s003.point.3"]
    assert op("remove:2") == ["s000.point.1", "s001b.point.1"]
    assert op("add", fid="s000.point.1") == ["s000.point.1", "s001b.point.1", "s003.point.3"]  # once only


def test_search_for_points_marks_chosen_ones_and_their_variants(client: TestClient) -> None:
    r = client.get("/compose/search", params={"q": "政治自觉", "pt": '{"id":"s000.point.1"}'})
    assert "已选用" in r.text and "与 s000.point.1 近似" in r.text


def _docx_paragraphs(data: bytes, tmp: Path) -> list[str]:
    path = tmp / "x.docx"
    path.write_bytes(data)
    return [p.text for p in Document(str(path)).paragraphs]


def test_downloads_equal_the_cli_compose_of_the_downloaded_brief(client: TestClient, tmp_path: Path,
                                                                  user_library: Path) -> None:
    csrf = csrf_of(client)
    data = brief_form(csrf, **{"subn-1": "3", "sub-1": ["1", "3"]})
    brief = tmp_path / "简报.yaml"
    r = client.post("/compose/download/yaml", data=data)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    brief.write_bytes(r.content)
    for fmt in ("md", "txt", "docx"):
        web = client.post(f"/compose/download/{fmt}", data=data)
        assert web.status_code == 200, web.text
        out = tmp_path / f"cli.{fmt}"
        res = CliRunner().invoke(cli_app, ["compose", str(brief), "-o", str(out), "--library", str(user_library)])
        assert res.exit_code == 0, res.output
        if fmt == "docx":
            assert _docx_paragraphs(web.content, tmp_path) == _docx_paragraphs(out.read_bytes(), tmp_path)
        else:
            assert web.content == out.read_bytes()


def test_download_of_a_broken_brief_shows_the_message_instead(client: TestClient) -> None:
    csrf = csrf_of(client)
    r = client.post("/compose/download/docx", data=brief_form(csrf, var_value=["", "省委", "市"]))
    assert r.status_code == 400 and "text/html" in r.headers["content-type"]
    assert "市名 — needed by the title" in r.text and "无法下载 .docx" in r.text


def test_loading_a_brief_continues_from_it(client: TestClient) -> None:
    csrf = csrf_of(client)
    r = client.post("/compose/load", data={"csrf": csrf},
                    files={"brief_file": ("推进会.yaml", EXAMPLE.read_bytes(), "application/yaml")})
    assert r.status_code == 200
    assert 'value="第二批主题教育推进会"' in r.text and 'value="临江市"' in r.text
    assert "在临江市第二批主题教育推进会上的讲话" in r.text
    assert "搜索“调查研究”的最佳结果" in r.text  # a query item stays a query


def test_loading_a_broken_brief_shows_the_cli_message(client: TestClient) -> None:
    csrf = csrf_of(client)
    r = client.post("/compose/load", data={"csrf": csrf},
                    files={"brief_file": ("b.yaml", "template: 推进会\npoints: [\n".encode(), "application/yaml")})
    assert r.status_code == 400
    assert re.search(r'id="err-load"[^>]*>简报\.yaml:3:1: YAML syntax error: ', r.text)


def test_lint_findings_are_underlined_with_their_message(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_lint(draft, context=None):  # type: ignore[no-untyped-def]
        i = next(i for i, b in enumerate(draft.blocks) if "临江市" in b.text)
        return [Finding("place-name", 1, "临江市", "地名与简报不符", "改为简报中的市名", i)]

    monkeypatch.setattr("speechgen.compose.pipeline.lint_draft", fake_lint)  # compose lints, the page shows it
    html = preview(client)
    assert '<span class="lint" data-rule="place-name" title="地名与简报不符 — 改为简报中的市名">临江市</span>' in html
    assert "审校提示 1" in html


# --------------------------------------------------------------------------- safety


def test_post_without_the_csrf_token_is_refused(client: TestClient) -> None:
    csrf = csrf_of(client)
    data = brief_form(csrf)
    data.pop("csrf")
    assert client.post("/compose/preview", data=data).status_code == 403
    assert client.post("/compose/preview", data=data, headers={"X-CSRF-Token": "x" * 32}).status_code == 403
    assert client.post("/compose/preview", data=data, headers={"X-CSRF-Token": csrf}).status_code == 200
    other = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    assert client.post("/compose/preview", data=data, headers=other).status_code == 403


def test_loopback_server_refuses_other_host_names(client: TestClient) -> None:
    r = client.get("/library", headers={"Host": "attacker.example:8765"})
    assert r.status_code == 403 and "只接受本机访问" in r.text


def test_non_loopback_host_needs_the_token(user_library: Path) -> None:
    config = web_config("0.0.0.0", [user_library], [], None)
    assert config.token and len(config.token) >= 20
    with TestClient(create_app(config), base_url="http://192.0.2.7:8765") as c:
        r = c.get("/library")
        assert r.status_code == 403 and "需要访问令牌" in r.text
        assert c.get("/library?token=wrong").status_code == 403
        assert c.get("/static/style.css").status_code == 403  # every request
        r = c.get(f"/library?q=调查研究&token={config.token}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/library?q=%E8%B0%83%E6%9F%A5%E7%A0%94%E7%A9%B6"
        assert c.get("/library").status_code == 200  # the cookie now carries it
    with TestClient(create_app(config), base_url="http://192.0.2.7:8765") as c:
        assert c.get("/library", headers={"Authorization": f"Bearer {config.token}"}).status_code == 200


def test_given_token_is_required_on_loopback_too(user_library: Path) -> None:
    config = web_config("127.0.0.1", [user_library], [], "s3cret-token-of-the-office")
    with TestClient(create_app(config), base_url="http://127.0.0.1:8765") as c:
        assert c.get("/library").status_code == 403
        assert c.get("/library?token=s3cret-token-of-the-office").status_code == 200


def test_internal_error_is_a_bug_page_and_a_logged_traceback(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom in compose")

    monkeypatch.setattr("speechgen.web.compose_views.run_compose", broken)
    with TestClient(client.app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False) as c:
        csrf = csrf_of(c)
        with caplog.at_level(logging.ERROR, logger="speechgen.web"):
            r = c.post("/compose/download/docx", data=brief_form(csrf))
    assert r.status_code == 500
    assert "程序错误（bug）" in r.text and "Traceback" not in r.text and "boom" not in r.text
    assert r.headers["content-security-policy"] == CSP
    assert any("boom in compose" in (rec.exc_text or "") or rec.exc_info for rec in caplog.records)


# --------------------------------------------------------------------------- ingest


def _upload(client: TestClient, files: list[tuple[str, bytes]]) -> TestClient:
    csrf = csrf_of(client)
    return client.post("/ingest", data={"csrf": csrf},  # type: ignore[return-value]
                       files=[("files", (name, data, "text/plain")) for name, data in files])


def test_upload_ingests_into_the_users_library(client: TestClient, user_library: Path) -> None:
    r = _upload(client, [("海绵城市.txt", SPEECH.encode("gb18030"))])
    assert r.status_code == 200, r.text
    assert "海绵城市.txt" in r.text and "已写入" in r.text
    assert "突出工作重点，扎实推进雨水花园和透水铺装改造" in r.text
    written = list(user_library.glob("*.yaml"))
    assert len(written) == 1 and written[0].name.startswith("web-")
    r = client.get("/library/results", params={"q": "雨水花园"})
    assert "扎实推进雨水花园" in r.text


def test_upload_file_names_are_never_paths(client: TestClient, user_library: Path, tmp_path: Path) -> None:
    r = _upload(client, [("../../escape.txt", SPEECH.encode())])
    assert r.status_code == 200
    assert not (user_library.parent / "escape.txt").exists() and not (tmp_path / "escape.yaml").exists()
    assert [p.name for p in user_library.iterdir()][0].startswith("web-")


def test_upload_limits(user_library: Path) -> None:
    config = web_config("127.0.0.1", [user_library], [], None)
    config.max_files = 2
    config.max_file_bytes = 1000
    with TestClient(create_app(config), base_url="http://127.0.0.1:8765") as c:
        r = _upload(c, [(f"{i}.txt", b"x") for i in range(3)])
        assert r.status_code == 413 and "一次最多上传 2 个文件" in r.text
        r = _upload(c, [("big.txt", b"x" * 2000)])
        assert r.status_code == 400 and "big.txt: larger than" in r.text
        r = _upload(c, [("讲话.pdf", b"%PDF")])
        assert r.status_code == 400 and "讲话.pdf: only .txt and .docx speeches can be ingested" in r.text
        config.max_upload_bytes = 500
        r = _upload(c, [("a.txt", b"y" * 900)])
        assert r.status_code == 413 and "上传总量超过" in r.text
    assert list(user_library.iterdir()) == []


# --------------------------------------------------------------------------- the command


def test_help_does_not_import_the_web_stack() -> None:
    import subprocess
    import sys

    code = ("import sys; from speechgen.cli import app; "
            "from typer.testing import CliRunner; CliRunner().invoke(app, ['--help']); "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'speechgen.web') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_serve_help_names_its_options() -> None:
    out = CliRunner().invoke(cli_app, ["serve", "--help"])
    assert out.exit_code == 0
    for option in ("--host", "--port", "--library", "--templates", "--open", "--token"):
        assert option in out.stdout
