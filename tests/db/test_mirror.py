"""``ingest --database`` works in a kept copy of the collection (speechgen/db/mirror.py): only
what changed in the database since the last ingest is written again, and every ingest gives
what ingesting into a fresh export gives."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SEEDS
from pgfixtures import db, empty_db, pg_cluster  # noqa: F401

from speechgen.db import edit_fragment, export_dir, import_dir, ingest_to_db, init_db, transfer
from speechgen.errors import SpeechgenError
from speechgen.library import Filters, open_store

SHIPPED = ROOT / "fragments"
SPEECHES = sorted(SEEDS.glob("*.txt"))


def copy_of(url: str) -> Path:
    """The kept copy of collection office (one database per test)."""
    found = list((Path(os.environ["SPEECHGEN_CACHE"]) / "collections").glob("*/office"))
    assert len(found) == 1, found
    return found[0]


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.yaml"))}


def exported(url: str, tmp: Path) -> dict[str, bytes]:
    out = tmp / f"export{len(list(tmp.glob('export*')))}"
    export_dir(url, out, ["office"])
    return files(out)


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the copy had written from the database, as they are written."""
    paths: list[str] = []
    export = transfer.export_sources

    def spy(conn, out, where, params, flat):  # type: ignore[no-untyped-def]
        got = export(conn, out, where, params, flat)
        if out.parent.parent.name == "collections":  # into the copy: not an export elsewhere
            paths.extend(p.name for p in got)
        return got

    monkeypatch.setattr(transfer, "export_sources", spy)
    return paths


@pytest.fixture
def other_db(pg_cluster) -> Iterator[str]:  # noqa: F811
    """A second fresh database with speechgen's schema (``db`` and ``empty_db`` are one)."""
    import psycopg

    name = f"m{os.getpid()}_{next(pg_cluster.counter)}"
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    init_db(pg_cluster.url(name))
    yield pg_cluster.url(name)
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def speech(tmp: Path, n: int, name: str) -> Path:
    """Seed speech *n* under a name (and so ids) of its own."""
    p = tmp / name
    p.write_bytes(SPEECHES[n].read_bytes())
    return p


def test_each_ingest_writes_only_what_changed_and_gives_what_a_fresh_export_gives(
        db: str, other_db: str, tmp_path: Path, written: list[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """The same ingests, with imports, an edit and a prune by others between them, into two
    databases: one through the kept copy, one through a new export each time (no cache
    folder). The collections end byte for byte alike, and the copy wrote only the files the
    database changed."""
    lib = tmp_path / "lib"
    shutil.copytree(SHIPPED, lib)

    def both(step) -> None:  # type: ignore[no-untyped-def]
        step(db)
        with monkeypatch.context() as m:
            m.setenv("SPEECHGEN_NO_CACHE", "1")
            step(other_db)
        assert exported(db, tmp_path) == exported(other_db, tmp_path)

    both(lambda url: import_dir(url, lib, "office"))

    def ingested(n: int, name: str) -> set[str]:
        """Ingest seed *n* as *name* into both; the files the ingest changed (in the copy)."""
        before = exported(db, tmp_path)
        both(lambda url: ingest_to_db(url, [speech(tmp_path, n, name)], "office"))
        after = files(copy_of(db))
        assert after == exported(db, tmp_path)
        return {rel for rel, b in after.items() if before.get(rel) != b}

    first = ingested(0, "甲.txt")
    copy = copy_of(db)
    new = {rel for rel in first if "甲" in rel}
    assert new and set(written) == set(files(copy)) - new  # the first ingest wrote the whole collection

    written.clear()
    second = ingested(1, "乙.txt")
    assert set(written) == first  # what the last ingest wrote, now as the database has it

    # others: a changed file imported, an edit, a prune
    changed = lib / "002_5716d7c981f01dae.yaml"
    raw = yaml.safe_load(changed.read_text(encoding="utf-8"))
    raw["fragments"][0]["text"] = "会议强调，要坚持问题导向，狠抓整改落实。"
    changed.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    both(lambda url: import_dir(url, lib, "office"))
    store = open_store([], database=db)
    entry = store.get("s003.point.1").to_dict()
    edited = Path(store.get("s003.point.1").path).name
    store.close()
    both(lambda url: edit_fragment(url, {**entry, "text": entry["text"] + "要久久为功。"},
                                   open_store([], database=url).version("s003.point.1")))

    def prune(url: str) -> None:  # the collection as it is, less one file
        folder = tmp_path / f"prune{len(list(tmp_path.glob('prune*')))}"
        export_dir(url, folder, ["office"])
        (folder / "004_e1ab214ab082fba0.yaml").unlink()
        import_dir(url, folder, "office", prune=True)

    both(prune)
    written.clear()
    ingested(2, "丙.txt")
    assert set(written) == second | {changed.name, edited}
    assert not (copy / "004_e1ab214ab082fba0.yaml").exists()

    written.clear()  # nothing changed by others: only what the last ingest wrote
    last = ingested(3, "丁.txt")
    assert set(written) == {rel for rel in files(copy) if "丙" in rel} and last


def test_a_file_changed_in_the_copy_is_written_again(db: str, tmp_path: Path, written: list[str]) -> None:  # noqa: F811
    import_dir(db, SHIPPED, "office")
    ingest_to_db(db, [speech(tmp_path, 0, "甲.txt")], "office")
    copy = copy_of(db)
    target = copy / "001_ea232bbc68f5e29d.1.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("主题教育", "主题活动"), encoding="utf-8")
    (copy / "stray.yaml").write_text("fragments: []\n", encoding="utf-8")
    written.clear()
    ingest_to_db(db, [speech(tmp_path, 0, "甲.txt")], "office")
    assert target.name in written
    assert files(copy) == exported(db, tmp_path)  # the stray file gone too


def test_a_failed_import_leaves_the_files_to_be_written_again(db: str, tmp_path: Path, written: list[str],  # noqa: F811
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import_dir(db, SHIPPED, "office")
    ingest_to_db(db, [speech(tmp_path, 0, "甲.txt")], "office")
    copy = copy_of(db)

    def refused(*args, **kw):  # type: ignore[no-untyped-def]
        raise SpeechgenError("the database refused the import")

    with monkeypatch.context() as m:
        m.setattr(transfer, "import_dir", refused)
        with pytest.raises(SpeechgenError):
            ingest_to_db(db, [speech(tmp_path, 1, "乙.txt")], "office")
    assert any("乙" in p.name for p in copy.glob("*.yaml"))  # written by ingest, never imported
    written.clear()
    ingest_to_db(db, [speech(tmp_path, 2, "丙.txt")], "office")
    assert not any("乙" in p.name for p in copy.glob("*.yaml"))
    assert files(copy) == exported(db, tmp_path)


def test_while_another_ingest_holds_the_copy_a_temporary_export_is_used(db: str, tmp_path: Path,  # noqa: F811
                                                                       written: list[str]) -> None:
    import_dir(db, SHIPPED, "office")
    ingest_to_db(db, [speech(tmp_path, 0, "甲.txt")], "office")
    copy = copy_of(db)
    before = files(copy)
    fd = os.open(copy.parent / "lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        written.clear()
        report = ingest_to_db(db, [speech(tmp_path, 1, "乙.txt")], "office")
    finally:
        os.close(fd)
    assert not report.problems and not written  # the whole collection exported, elsewhere
    assert files(copy) == before
    assert any(f.path.startswith("office/乙") for f in open_store([], database=db, collections=["office"]).library().fragments)
    ingest_to_db(db, [speech(tmp_path, 2, "丙.txt")], "office")
    assert files(copy) == exported(db, tmp_path)


def test_a_database_made_again_under_the_same_name_is_written_again(db: str, pg_cluster, tmp_path: Path) -> None:  # noqa: F811
    """Another database under the old name, whose sources have the same keys (the same files
    imported, one fragment edited once) but another edit: its mark tells the copy apart."""
    import psycopg

    def library(text: str) -> None:
        import_dir(db, SHIPPED, "office")
        entry = open_store([], database=db).get("s003.point.1").to_dict()
        edit_fragment(db, {**entry, "text": entry["text"] + text}, open_store([], database=db).version("s003.point.1"))

    library("第一次改写的文字。")
    ingest_to_db(db, [speech(tmp_path, 0, "甲.txt")], "office")
    name = db.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    init_db(db)
    library("另一次改写的文字。")
    ingest_to_db(db, [speech(tmp_path, 1, "乙.txt")], "office")
    copy = copy_of(db)
    assert "另一次改写的文字" in (copy / "003_8c4e1ce7e0dd5b49.yaml").read_text(encoding="utf-8")
    assert files(copy) == exported(db, tmp_path)


@pytest.mark.parametrize("name", ["../escaped", "a/b", "..", "a\\b"])
def test_a_collection_name_that_is_not_a_folder_name_is_refused(db: str, tmp_path: Path, name: str) -> None:  # noqa: F811
    """``ingest --database`` makes a folder of the collection's name (in the cache folder, or a
    temporary one): a name reaching out of it is one message, exit 2, and nothing written."""
    from typer.testing import CliRunner

    from speechgen.cli import app

    seed = speech(tmp_path, 0, "甲.txt")
    base = Path(os.environ["SPEECHGEN_CACHE"]).parent  # this run's folders, the cache among them
    before = sorted(base.rglob("*"))
    result = CliRunner().invoke(app, ["ingest", str(seed), "--database", db, "--collection", name])
    assert result.exit_code == 2 and "must serve as a folder name" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(base.rglob("*")) == before
    result = CliRunner().invoke(app, ["db", "import", str(SHIPPED), "--database", db, "--collection", name])
    assert result.exit_code == 2 and "must serve as a folder name" in result.stderr
    assert open_store([], database=db).count(Filters()) == 0
