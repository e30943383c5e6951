"""Searches remembered by a process (``serve``) against a real server: asked again, they are
answered without the database; after any write of speechgen's, the next snapshot searches
again; a snapshot taken before a write keeps its own answer."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT
from pgfixtures import db, empty_db, pg_cluster  # noqa: F401

from speechgen.db import edit_fragment, import_dir, init_db
from speechgen.library import Filters, open_store
from speechgen.library.postgres import REMEMBERED, PgStore, Remembered, SearchSlots

SHIPPED = ROOT / "fragments"
QUERIES = ["调查研究", "形式主义 官僚主义", "主题教育", "民主生活会"]


# --------------------------------------------------------------------------- Remembered alone


def test_writers_asking_the_same_new_query_at_once_wait_for_one_search() -> None:
    memo = Remembered()
    calls: list[str] = []

    def compute(name: str) -> Any:
        def run() -> list[Any]:
            calls.append(name)
            time.sleep(0.2)
            return [name]
        return run

    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(memo.get(("q",), compute("q")))) for _ in range(8)]
    threads.append(threading.Thread(target=lambda: got.append(memo.get(("other",), compute("other")))))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(calls) == ["other", "q"]  # one search a query, however many asked at once
    assert sorted(map(tuple, got)) == [("other",)] + [("q",)] * 8
    got[0].append("changed by a caller")
    assert memo.get(("q",), compute("q")) == ["q"] and len(calls) == 2  # callers get copies


def test_a_failed_search_is_not_remembered_and_a_waiter_runs_it_again() -> None:
    memo = Remembered()
    started = threading.Event()

    def failing() -> list[Any]:
        started.set()
        time.sleep(0.2)
        raise RuntimeError("connection lost")

    errors: list[Exception] = []

    def first() -> None:
        try:
            memo.get(("q",), failing)
        except RuntimeError as exc:
            errors.append(exc)

    t = threading.Thread(target=first)
    t.start()
    started.wait(5)
    assert memo.get(("q",), lambda: ["second"]) == ["second"]  # waited, then searched itself
    t.join()
    assert len(errors) == 1 and len(memo) == 1
    assert memo.get(("q",), lambda: ["third"]) == ["second"]


def test_at_most_so_many_hits_are_kept_least_recently_used_first() -> None:
    memo = Remembered(hits=10)
    memo.get(("a",), lambda: [1, 2, 3, 4])
    memo.get(("b",), lambda: [5, 6, 7, 8])
    assert memo.get(("a",), lambda: ["again"]) == [1, 2, 3, 4]  # a used last
    memo.get(("c",), lambda: [9, 10, 11])
    assert memo.get(("b",), lambda: ["b again"]) == ["b again"]  # b went first
    assert memo.get(("c",), lambda: ["c again"]) == [9, 10, 11]
    assert memo.get(("huge",), lambda: list(range(11))) == list(range(11))
    assert memo.get(("huge",), lambda: ["not kept"]) == ["not kept"]  # larger than the bound
    memo.clear()
    assert len(memo) == 0


# --------------------------------------------------------------------------- on a database


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The queries that reached the database from stores that remember; nothing remembered
    from other tests."""
    REMEMBERED.clear()
    asked: list[str] = []
    search = PgStore._search

    def spy(self: PgStore, query: str, filters: Filters | None, limit: int) -> Any:
        if self.remember:  # not asked_anew's
            asked.append(query)
        return search(self, query, filters, limit)

    monkeypatch.setattr(PgStore, "_search", spy)
    return asked


def asked_anew(url: str, query: str, **kw: Any) -> list[tuple[str, float, dict[str, Any]]]:
    """What the database answers now, remembering nothing."""
    store = open_store([], database=url)
    store.remember = False
    try:
        return [(h.fragment.id, h.score, h.fragment.to_dict()) for h in store.search(query, **kw)]
    finally:
        store.close()


def answer(store: Any, query: str, **kw: Any) -> list[tuple[str, float, dict[str, Any]]]:
    return [(h.fragment.id, h.score, h.fragment.to_dict()) for h in store.search(query, **kw)]


def one_point(folder: Path, fid: str, heading: str, text: str) -> Path:
    """*folder* made with one fragment file holding one point."""
    folder.mkdir()
    (folder / "new.yaml").write_text(yaml.safe_dump({"source": {"file": "new.txt", "year": 2026}, "fragments": [
        {"id": fid, "kind": "point", "heading": heading, "text": text}]}, allow_unicode=True, sort_keys=False),
        encoding="utf-8")
    return folder


def generation(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT generation FROM library_state").fetchone()[0])


def test_a_search_asked_again_is_answered_without_the_database(db: str, counted: list[str]) -> None:  # noqa: F811
    import_dir(db, SHIPPED)
    one, two = open_store([], database=db), open_store([], database=db)
    first = [answer(one, q, limit=20) for q in QUERIES]
    assert counted == QUERIES
    assert [answer(two, q, limit=20) for q in QUERIES] == first  # another connection of the process
    assert counted == QUERIES
    # another limit, filter or collection is another search
    answer(two, "调查研究", limit=5)
    answer(two, "调查研究", limit=20, filters=Filters(kind="point"))
    scoped = open_store([], database=db, collections=["fragments"])
    answer(scoped, "调查研究", limit=20)
    assert counted == [*QUERIES, "调查研究", "调查研究", "调查研究"]
    assert first == [asked_anew(db, q, limit=20) for q in QUERIES]
    for s in (one, two, scoped):
        s.close()


def test_every_write_is_seen_by_the_next_search(db: str, tmp_path: Path, counted: list[str]) -> None:  # noqa: F811
    """An import that changed a file, a new collection, an edit and a prune each move the
    generation on; the next snapshot's search equals one asked of the database afresh. An
    import that changed nothing keeps what was remembered."""
    lib = tmp_path / "fragments"
    shutil.copytree(SHIPPED, lib)
    import_dir(db, lib)
    store = open_store([], database=db)  # kept, as serve keeps a store a thread

    def same_as_the_database() -> None:
        store.refresh()  # a new request
        for q in QUERIES:
            assert answer(store, q, limit=30) == asked_anew(db, q, limit=30), q

    same_as_the_database()
    start, asked = generation(db), len(counted)
    assert import_dir(db, lib).imported == 0
    same_as_the_database()
    assert generation(db) == start and len(counted) == asked  # nothing changed: nothing asked again

    hit = store.search("调查研究", limit=1)[0].fragment
    f = lib / Path(hit.path).name
    raw = yaml.safe_load(f.read_text(encoding="utf-8"))
    entry = next(e for e in raw["fragments"] if e["id"] == hit.id)
    for field in ("subpoints", "tail", "tags"):
        entry.pop(field, None)
    entry["heading"] = "加强作风建设"
    entry["text"] = "坚持问题导向，狠抓落实。"
    f.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert import_dir(db, lib).imported == 1
    assert generation(db) == start + 1
    same_as_the_database()
    assert hit.id not in [h.fragment.id for h in store.search("调查研究", limit=30)]

    import_dir(db, one_point(tmp_path / "other", "new.point.1", "大兴调查研究之风", "调查研究是谋事之基、成事之道。"))
    same_as_the_database()
    assert store.search("调查研究", limit=1)[0].fragment.id == "new.point.1"

    version = store.version("new.point.1")
    edit_fragment(db, {"id": "new.point.1", "kind": "point", "heading": "狠抓落实",
                       "text": "真抓实干，久久为功。"}, version)
    same_as_the_database()
    assert "new.point.1" not in [h.fragment.id for h in store.search("调查研究", limit=30)]
    assert store.search("久久为功", limit=1)[0].fragment.text == "真抓实干，久久为功。"

    pruned = next(p for p in sorted(lib.glob("*.yaml")) if "调查研究" in p.read_text(encoding="utf-8"))
    ids = [e["id"] for e in yaml.safe_load(pruned.read_text(encoding="utf-8"))["fragments"]]
    pruned.unlink()
    import_dir(db, lib, prune=True)
    same_as_the_database()
    assert not set(ids) & {h.fragment.id for q in QUERIES for h in store.search(q, limit=30)}
    assert generation(db) == start + 4
    store.close()


def test_a_snapshot_taken_before_a_write_keeps_its_own_answer(db: str, tmp_path: Path, counted: list[str]) -> None:  # noqa: F811
    import_dir(db, SHIPPED)
    early = open_store([], database=db)
    before = answer(early, "调查研究", limit=30)  # its snapshot starts here
    import_dir(db, one_point(tmp_path / "other", "new.point.1", "调查研究", "调查研究调查研究。"))
    late = open_store([], database=db)
    after = answer(late, "调查研究", limit=30)
    assert after[0][0] == "new.point.1" and after != before
    assert answer(early, "调查研究", limit=30) == before  # the library it has been reading
    early.refresh()
    assert answer(early, "调查研究", limit=30) == after
    early.close(), late.close()


def test_a_database_made_again_under_the_same_name_is_searched_again(
        empty_db: str, pg_cluster, tmp_path: Path, counted: list[str]) -> None:  # noqa: F811
    """Dropped and made again (a throwaway database, a restore under the old name): the
    generation starts again at 0, with other fragments; the instance mark tells them apart."""
    import psycopg

    init_db(empty_db)
    import_dir(empty_db, SHIPPED)
    first = answer(open_store([], database=empty_db), "调查研究", limit=30)
    name = empty_db.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    init_db(empty_db)
    import_dir(empty_db, one_point(tmp_path / "lib", "one.point.1", "调查研究", "调查研究。"))
    assert generation(empty_db) == 1
    again = answer(open_store([], database=empty_db), "调查研究", limit=30)
    assert [h[0] for h in again] == ["one.point.1"] and again != first
    assert counted == ["调查研究", "调查研究"]


def test_a_library_state_row_gone_means_searching_every_time(db: str, counted: list[str]) -> None:  # noqa: F811
    """Someone deleted the generation's row by hand: nothing is remembered, nothing stale."""
    import psycopg

    import_dir(db, SHIPPED)
    with psycopg.connect(db) as conn:
        conn.execute("DELETE FROM library_state")
    store = open_store([], database=db)
    assert answer(store, "调查研究") == answer(store, "调查研究") == asked_anew(db, "调查研究")
    assert counted == ["调查研究", "调查研究"]
    store.close()


# --------------------------------------------------------------------------- searches in turn


def test_search_slots_let_so_many_run_at_once_and_the_others_wait() -> None:
    slots = SearchSlots(2)
    running, most, done = [0], [0], []
    lock = threading.Lock()

    def search(n: int) -> None:
        with slots:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1
        done.append(n)

    threads = [threading.Thread(target=search, args=(n,)) for n in range(7)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 2 and sorted(done) == list(range(7))
    with pytest.raises(ValueError):
        SearchSlots(0)


def test_database_searches_take_turns_and_remembered_ones_need_no_turn(
        db: str, counted: list[str], monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    import_dir(db, SHIPPED)
    monkeypatch.setattr(PgStore, "slots", SearchSlots(1))
    running, most = [0], [0]
    lock = threading.Lock()
    search = PgStore._search  # the counting spy

    def watched(self: PgStore, query: str, filters: Filters | None, limit: int) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            time.sleep(0.02)
            return search(self, query, filters, limit)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(PgStore, "_search", watched)
    stores = [open_store([], database=db) for _ in QUERIES]
    got: dict[str, Any] = {}
    threads = [threading.Thread(target=lambda s=s, q=q: got.__setitem__(q, answer(s, q, limit=20)))
               for s, q in zip(stores, QUERIES, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1 and sorted(counted) == sorted(QUERIES)  # one at a time, each asked once
    assert got == {q: asked_anew(db, q, limit=20) for q in QUERIES}  # the same answers as alone

    # with the only slot taken, a remembered search is answered; a new one waits for the slot
    assert PgStore.slots is not None
    PgStore.slots.__enter__()
    try:
        again: list[Any] = []
        t = threading.Thread(target=lambda: again.append(answer(stores[0], QUERIES[1], limit=20)))
        t.start()
        t.join(10)
        assert again == [got[QUERIES[1]]]
        new: list[Any] = []
        t = threading.Thread(target=lambda: new.append(answer(stores[0], "理想信念", limit=20)))
        t.start()
        t.join(0.5)
        assert t.is_alive() and not new  # waiting its turn
    finally:
        PgStore.slots.__exit__(None, None, None)
    t.join(10)
    assert new == [asked_anew(db, "理想信念", limit=20)]
    for s in stores:
        s.close()
