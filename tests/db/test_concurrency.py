"""Several processes at once against one database: ingests lose nothing, readers see one
snapshot, and an import killed (kill -9) or cut off half-way leaves the database as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from conftest import EXAMPLES, ROOT, SEEDS
from pgfixtures import db, empty_db, pg_cluster  # noqa: F401

from speechgen.db import import_dir
from speechgen.library import open_store

SHIPPED = ROOT / "fragments"
CLI = [sys.executable, "-m", "speechgen.cli"]


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ, **extra)
    out.pop("SPEECHGEN_DATABASE", None)
    return out


def counts(url: str) -> tuple[int, int, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return tuple(conn.execute(  # type: ignore[return-value]
            "SELECT (SELECT count(*) FROM collections), (SELECT count(*) FROM sources), "
            "(SELECT count(*) FROM fragments)").fetchone())


def fragment_indexes(url: str) -> list[str]:
    """The indexes of the fragments table and of its partitions, with their definitions."""
    import psycopg

    with psycopg.connect(url) as conn:
        return [r[0] for r in conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'fragments' OR tablename LIKE 'fragments\\_h%' "
            "ORDER BY indexname")]


def big_library(dest: Path, files: int, per_file: int = 10) -> int:
    """*files* fragment files derived from the shipped ones, with ids of their own."""
    base = [f for p in sorted(SHIPPED.glob("*.yaml")) for f in yaml.safe_load(p.read_text(encoding="utf-8"))["fragments"]]
    dest.mkdir(parents=True)
    for n in range(files):
        frags = []
        for k in range(per_file):
            g = dict(base[(n * per_file + k) % len(base)])
            g["id"] = f"big{n:05d}.{k}"
            g.pop("variants", None)
            frags.append(g)
        (dest / f"big_{n:05d}.yaml").write_text(
            yaml.safe_dump({"source": {"file": f"big_{n}.txt", "year": 2023}, "fragments": frags},
                           allow_unicode=True, sort_keys=False), encoding="utf-8")
    return files * per_file


def test_several_ingests_at_once_lose_nothing_while_compose_runs(db: str, tmp_path: Path) -> None:  # noqa: F811
    import_dir(db, SHIPPED)
    seeds = []
    for s in sorted(SEEDS.glob("*.txt")):  # the seeds again, under names (and ids) of their own
        seeds.append(tmp_path / f"1{s.name}")
        seeds[-1].write_bytes(s.read_bytes())
    ingests = [
        subprocess.Popen([*CLI, "ingest", str(s), "--database", db, "--collection", "office"], env=env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for s in seeds
    ]
    composes = []
    brief = EXAMPLES / "推进会.yaml"
    while any(p.poll() is None for p in ingests):
        out = tmp_path / f"d{len(composes)}.md"
        composes.append((out, subprocess.run(
            [*CLI, "compose", str(brief), "-o", str(out), "--database", db, "--collection", "fragments"],
            env=env(), capture_output=True, text=True)))
    for p in ingests:
        _, err = p.communicate()
        assert p.returncode == 0, err.decode()
    # every ingest's speeches are there, each once, under their ids
    store = open_store([], database=db, collections=["office"])
    paths = sorted({f.path for f in store.library().fragments})
    assert paths == [
        "office/1000_6e77d68632e4004c.yaml", "office/1001_ea232bbc68f5e29d.1.yaml", "office/1001_ea232bbc68f5e29d.2.yaml",
        "office/1002_5716d7c981f01dae.yaml", "office/1003_8c4e1ce7e0dd5b49.yaml", "office/1004_e1ab214ab082fba0.yaml",
    ]
    ids = [f.id for f in store.library().fragments]
    assert len(ids) == len(set(ids)) > 30
    # every compose during the ingests succeeded, and all wrote the same draft
    assert composes
    for _, result in composes:
        assert result.returncode == 0, result.stderr
    texts = {out.read_text(encoding="utf-8") for out, _ in composes}
    assert len(texts) == 1


def test_a_reader_sees_one_snapshot_while_an_import_commits(db: str, tmp_path: Path) -> None:  # noqa: F811
    import_dir(db, SHIPPED)
    reader = open_store([], database=db)
    before = len(reader.library())
    assert before == 38
    big_library(tmp_path / "big", 20)
    subprocess.run([*CLI, "db", "import", str(tmp_path / "big"), "--database", db], env=env(), check=True,
                   capture_output=True)
    assert len(reader.library()) == before  # the same snapshot for the whole compose
    assert all(not h.fragment.id.startswith("big") for h in reader.search("调查研究", limit=500))
    assert len(open_store([], database=db).library()) == before + 200  # a new reader sees the import
    reader.refresh()  # and so does the old one once it starts a new snapshot
    assert len(reader.library()) == before + 200


def _wait_for(url: str, pattern: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import psycopg

    dbname = url.rsplit("/", 1)[1]
    end = time.time() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.time() < end:
            if conn.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND application_name = 'speechgen' "
                "AND query LIKE %s AND backend_xid IS NOT NULL", (dbname, pattern)
            ).fetchone():
                return
            assert proc.poll() is None, "the import ended before it could be interrupted"
            time.sleep(0.01)
    raise AssertionError(f"no backend ran {pattern}")


def _settled(url: str) -> None:
    """Wait until the server has noticed the lost client and rolled its transaction back."""
    import psycopg

    dbname = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(500):
            if not conn.execute("SELECT 1 FROM pg_stat_activity WHERE datname = %s AND application_name = 'speechgen'",
                                (dbname,)).fetchone():
                return
            time.sleep(0.02)


def test_kill_9_during_import_leaves_the_database_as_it_was(db: str, tmp_path: Path) -> None:  # noqa: F811
    import_dir(db, SHIPPED)
    before, indexes = counts(db), fragment_indexes(db)
    assert any("gin (tsv)" in i for i in indexes)
    n = big_library(tmp_path / "big", 600)  # new files outnumber the database's: a bulk import, indexes dropped
    proc = subprocess.Popen([*CLI, "db", "import", str(tmp_path / "big"), "--database", db], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for(db, "COPY fragments%", proc)  # rows of the first batch are going in
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _settled(db)
    assert counts(db) == before
    assert fragment_indexes(db) == indexes  # the dropped indexes are back with the rollback
    # and the same import, run again, completes, with its indexes built again
    report = import_dir(db, tmp_path / "big")
    assert report.fragments == n
    assert counts(db) == (before[0] + 1, before[1] + 600, before[2] + n)
    assert fragment_indexes(db) == indexes


def test_a_connection_cut_during_import_is_one_error_and_nothing_written(db: str, tmp_path: Path, pg_cluster) -> None:  # noqa: F811
    import psycopg

    import_dir(db, SHIPPED)
    before = counts(db)
    big_library(tmp_path / "big", 600)
    proc = subprocess.Popen([*CLI, "db", "import", str(tmp_path / "big"), "--database", db], env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(db, "COPY fragments%", proc)
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                      "AND application_name = 'speechgen'", (db.rsplit("/", 1)[1],))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: database postgresql://speechgen:***@"), err
    assert "nothing was changed" in err
    assert counts(db) == before
