"""`serve --database` and `lint --database`: the workbench and lint on the shared library give
what they give on the folders (Starlette's test client over a PgStore, a real server)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT
from pgfixtures import db, empty_db, pg_cluster  # noqa: F401
from typer.testing import CliRunner

from speechgen.cli import app as cli_app
from speechgen.db import import_dir
from speechgen.library import open_store

pytest.importorskip("starlette", reason="the web extra is not installed (pip install '.[test,web]')")

from starlette.testclient import TestClient  # noqa: E402
from web.webtools import SPEECH  # noqa: E402  (the upload the web tests use)

from speechgen.web import create_app, web_config  # noqa: E402

SHIPPED = ROOT / "fragments"
POINTS = ['{"id":"s000.point.1"}', '{"id":"s001b.point.1"}', '{"id":"s003.point.3"}']


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def csrf_of(client: TestClient) -> str:
    """The CSRF token the client's first page set."""
    if not client.cookies.get("speechgen_csrf"):
        client.get("/ingest")
    return str(client.cookies.get("speechgen_csrf"))


def brief_form(csrf: str) -> dict[str, object]:
    return {
        "csrf": csrf, "template": "推进会", "date": "2024-03-15", "speaker": "张明",
        "var_name": ["市名", "上级", "本级"], "var_value": ["临江市", "省委", "市"],
        "pt": POINTS, "opening": "auto", "closing": "auto",
    }


def clients(db: str, tmp_path: Path) -> tuple[TestClient, TestClient]:  # noqa: F811
    """A workbench on the database and one on the same library as folders."""
    import_dir(db, SHIPPED)
    on_db = web_config("127.0.0.1", [], [], None, database=db)
    mine = tmp_path / "mine"
    mine.mkdir()
    on_files = web_config("127.0.0.1", [mine], [], None, database="")
    return (TestClient(create_app(on_db), base_url="http://127.0.0.1:8765"),
            TestClient(create_app(on_files), base_url="http://127.0.0.1:8765"))


def _ids(html: str) -> list[str]:
    return re.findall(r"<code>([^<]+)</code> · ", html)


def test_serve_on_the_database_shows_what_the_folders_show(db: str, tmp_path: Path) -> None:  # noqa: F811
    pg, files = clients(db, tmp_path)
    with pg, files:
        for params in ({"q": "调查研究", "kind": "point"}, {"kind": "closing"}, {"q": "形式主义 官僚主义"},
                       {"year": "2023", "kind": "point"}):
            a, b = pg.get("/library/results", params=params), files.get("/library/results", params=params)
            assert a.status_code == b.status_code == 200
            assert _ids(a.text), params
            if "q" in params:  # the same hits; how alike the two rank: test_search_parity.py
                assert sorted(_ids(a.text)) == sorted(_ids(b.text)), params
            else:
                assert _ids(a.text) == _ids(b.text), params
        a, b = pg.get("/library/fragment/s000.point.1"), files.get("/library/fragment/s000.point.1")
        assert a.status_code == b.status_code == 200
        assert "s000.point.1" in a.text
        assert pg.get("/library/fragment/s000.piont.1").status_code == 404
        # the compose preview and the download are the drafts compose writes from either store
        for client in (pg, files):
            csrf = csrf_of(client)
            r = client.post("/compose/preview", data=brief_form(csrf), headers={"X-CSRF-Token": csrf})
            assert r.status_code == 200 and "临江市" in r.text
        downloads = []
        for client in (pg, files):
            csrf = csrf_of(client)
            r = client.post("/compose/download/md", data=brief_form(csrf))
            assert r.status_code == 200, r.text
            downloads.append(r.content)
        assert downloads[0] == downloads[1]
        assert pg.get("/compose", params={"start": "推进会"}).status_code == 200


def test_serve_sees_what_others_commit_and_ingests_uploads_into_the_database(db: str, tmp_path: Path) -> None:  # noqa: F811
    pg, files = clients(db, tmp_path)
    with pg:
        assert _ids(pg.get("/library/results", params={"q": "雨水花园"}).text) == []
        csrf = csrf_of(pg)
        r = pg.post("/ingest", data={"csrf": csrf},
                    files=[("files", ("海绵城市.txt", SPEECH.encode("gb18030"), "text/plain"))])
        assert r.status_code == 200, r.text
        assert "已写入" in r.text and "突出工作重点，扎实推进雨水花园和透水铺装改造" in r.text
        assert "写入数据库的集合" in r.text and "office" in r.text
        # in the database, in collection office, found by the next search
        office = open_store([], database=db, collections=["office"]).library().fragments
        assert office and all(f.path.startswith("office/web-") for f in office)
        assert "扎实推进雨水花园" in pg.get("/library/results", params={"q": "雨水花园"}).text
        # another writer's import is seen by the next request (no stale snapshot held, no
        # search remembered from before it: both searches were asked before the upload too)
        assert "x.1" not in _ids(pg.get("/library/results", params={"q": "秸秆"}).text)
        other = tmp_path / "other"
        other.mkdir()
        (other / "x.yaml").write_text("fragments:\n  - id: x.1\n    kind: point\n    heading: 抓好秸秆综合利用\n"
                                      "    text: 秸秆综合利用要抓紧。\n", encoding="utf-8")
        import_dir(db, other)
        assert "x.1" in _ids(pg.get("/library/results", params={"q": "秸秆"}).text)


def test_serve_with_a_bad_database_fails_before_it_starts(empty_db: str) -> None:  # noqa: F811
    code, out, err = run("serve", "--database", empty_db, "--port", "1")
    assert code == 2
    assert "no speechgen schema yet" in err and "Traceback" not in err
    code, _, err = run("serve", "--database", empty_db.replace("/t", "/nosuch"), "--port", "1")
    assert code == 2 and "***" in err and "s3cret" not in err
    assert len(err.strip().splitlines()) == 1


def test_serve_collection_must_exist(db: str) -> None:  # noqa: F811
    import_dir(db, SHIPPED)
    code, _, err = run("serve", "--database", db, "-C", "fragmnets", "--port", "1")
    assert code == 2 and "did you mean 'fragments'" in err


def test_lint_with_the_database_finds_what_it_finds_with_the_folders(db: str, tmp_path: Path,  # noqa: F811
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import_dir(db, SHIPPED)
    draft = tmp_path / "d.md"
    draft.write_text(
        "---\ndate: 2024-03-15\n本级: 市\n---\n\n# 标题\n\n<!-- fragment: s003.point.3 -->\n\n"
        "三个节点：就是11月底前解决一批，明年6月前完成一批。\n",
        encoding="utf-8",
    )
    code_f, on_files, _ = run("lint", str(draft), "--json")
    code_d, on_db, err = run("lint", str(draft), "--json", "--database", db)
    assert code_f == code_d == 1, err
    found = [(f["rule"], f["line"], f["text"]) for f in json.loads(on_db)["findings"]]
    assert ("relative-date", 10, "11月底前解决一批，明年") in found  # the year came from the database
    assert on_db == on_files
    # the year is the database's: change it there and lint follows
    import psycopg

    with psycopg.connect(db) as conn:
        conn.execute("UPDATE sources SET source = replace(source, '\"year\": 2019', '\"year\": 2024')")
    found = [(f["rule"], f["text"]) for f in json.loads(run("lint", str(draft), "--json", "--database", db)[1])["findings"]]
    assert ("relative-date", "11月底前解决一批，明年") not in found
    monkeypatch.setenv("SPEECHGEN_DATABASE", db)  # the environment chooses the database too
    assert run("lint", str(draft), "--json")[1] == run("lint", str(draft), "--json", "--database", db)[1]
    code, _, err = run("lint", str(draft), "--database", "mysql://x@y/z")
    assert code == 2 and "not a PostgreSQL URL" in err


def test_serve_takes_the_database_from_the_environment(db: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import_dir(db, SHIPPED)
    monkeypatch.setenv("SPEECHGEN_DATABASE", db)
    config = web_config("127.0.0.1", [], [], None)
    assert config.database == db and config.upload_dir is None
    with TestClient(create_app(config), base_url="http://127.0.0.1:8765") as client:
        r = client.get("/library/results", params={"q": "调查研究"})
        assert r.status_code == 200 and _ids(r.text)
        assert "写入数据库的集合" in client.get("/ingest").text
    assert web_config("127.0.0.1", [], [], None, database="").database == ""  # "" means the folders


def _menus(html: str) -> dict[str, list[str]]:
    """The library page's filter menus: each select's options, and the tag list."""
    out = {}
    for name, body in re.findall(r'<select name="(\w+)"[^>]*>(.*?)</select>', html, re.S):
        out[name] = re.findall(r"<option[^>]*>([^<]*)</option>", body)
    out["tags"] = re.findall(r'<option value="([^"]*)">', html.split('id="tag-list"', 1)[1].split("</datalist>")[0])
    return out


def test_the_library_page_and_taken_marks_come_from_sql_not_the_whole_library(
        db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The filter menus, the unfiltered list, a fragment's variants and compose's "taken" marks
    are the folders' own, with neither store allowed to load the whole library."""
    from speechgen.library.postgres import PgStore
    from speechgen.library.sqlite import Index

    pg, files = clients(db, tmp_path)

    def whole(self: object) -> None:
        raise AssertionError("the whole library was loaded")

    monkeypatch.setattr(PgStore, "library", whole)
    monkeypatch.setattr(Index, "library", whole)
    with pg, files:
        a, b = pg.get("/library"), files.get("/library")
        assert a.status_code == b.status_code == 200
        menus = _menus(a.text)
        assert menus == _menus(b.text)
        assert "推进会" in menus["meeting"] and "2023" in menus["year"] and menus["tags"]
        assert _ids(a.text) == _ids(b.text) and len(_ids(a.text)) == 38
        a, b = pg.get("/library/results", params={"kind": "point"}), files.get("/library/results", params={"kind": "point"})
        assert _ids(a.text) == _ids(b.text)
        a, b = pg.get("/library/fragment/s001a.point.1"), files.get("/library/fragment/s001a.point.1")
        assert a.status_code == b.status_code == 200
        assert "s000.point.1" in a.text  # the variant that links to it
        assert re.findall(r"s\d+\w*\.\w+\.\d+", a.text) == re.findall(r"s\d+\w*\.\w+\.\d+", b.text)
        params = [("q", "调查研究"), *(("pt", p) for p in POINTS)]
        a, b = pg.get("/compose/search", params=params), files.get("/compose/search", params=params)
        assert a.status_code == b.status_code == 200
        assert "已选用" in a.text and a.text == b.text


def test_serve_takes_database_searches_in_turns(db: str) -> None:  # noqa: F811
    """`--searches-at-once` bounds the database searches run at once (twice the cores unless
    told), and says so when it starts; less than one is refused."""
    import os
    import socket
    import subprocess
    import sys

    code, _, err = run("serve", "--database", db, "--searches-at-once", "0", "--port", "1")
    assert code == 2 and "--searches-at-once" in err
    import_dir(db, SHIPPED)
    for given, shown in ((["--searches-at-once", "3"], 3), ([], max(2, 2 * (os.cpu_count() or 1)))):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "speechgen.cli", "serve", "--database", db, "--port", str(port),
                                   *given], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            lines = [server.stdout.readline() for _ in range(3)]
            assert any(f"; {shown} searches at a time" in line for line in lines), lines
        finally:
            server.terminate()
            server.wait(10)
