"""PostgreSQL and SQLite rank alike: the same tokens, so the same top results.

30 queries of the kind writers type, over the shipped library imported into PostgreSQL
and read from the folder through SQLite: the top-5 ids overlap by at least 80 % on
average, and every query finds the same set of fragments (both match on the same words).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT
from pgfixtures import db, empty_db, pg_cluster  # noqa: F401

from speechgen.library import open_store

QUERIES = [
    "调查研究", "形式主义", "政治自觉", "理论学习", "检视整改", "领导小组", "为民办实事",
    "理想信念", "指导组", "专项整治", "主题教育", "民主生活会", "凝心铸魂", "学思想强党性",
    "以学促干", "问题整改", "第二批主题教育", "党性修养", "基层减负", "工作作风", "组织领导",
    "督促指导", "宣传引导", "高质量发展", "推进会", "官僚主义", "抓落实", "学习贯彻",
    "政治责任", "群众反映强烈的问题",
]


def test_thirty_queries_overlap_in_the_top_five(db: str, tmp_path: Path) -> None:  # noqa: F811
    from speechgen.db import import_dir

    import_dir(db, ROOT / "fragments")
    pg = open_store([], database=db)
    lite = open_store([ROOT / "fragments"], database="")
    assert len(QUERIES) == 30
    overlaps = []
    for q in QUERIES:
        a = [h.fragment.id for h in lite.search(q, limit=5)]
        b = [h.fragment.id for h in pg.search(q, limit=5)]
        assert {h.fragment.id for h in lite.search(q, limit=100)} == {h.fragment.id for h in pg.search(q, limit=100)}, q
        if a or b:
            overlaps.append(len(set(a) & set(b)) / max(len(a), len(b)))
    mean = sum(overlaps) / len(overlaps)
    print(f"mean top-5 overlap {mean:.2%} over {len(overlaps)} queries; lowest {min(overlaps):.0%}")
    assert mean >= 0.8, f"mean top-5 overlap {mean:.0%}"


@pytest.fixture(autouse=True)
def _ask_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every search here is the database's: nothing answered from searches remembered earlier
    in the process (tests/db/test_remembered.py tests those)."""
    from speechgen.library.postgres import PgStore

    monkeypatch.setattr(PgStore, "remember", False)


# The query a tier ran before sources were joined after ranking: every candidate joined to its
# source, then ordered. ranked_sql must return exactly its rows.
_EVERY_CANDIDATE_JOINED = (
    "SELECT sid, line, data, ts_rank_cd('{weights}', tsv, q, {norm}) AS r "
    "FROM (SELECT s.id AS sid, f.line, f.data, f.tsv, s.collection, s.path, f.ord "
    "      FROM fragments f JOIN sources s ON s.id = f.source_id WHERE f.tsv @@ CAST(%s AS tsquery) AND {where} "
    "      LIMIT %s) c, CAST(%s AS tsquery) q ORDER BY r DESC, collection, path, ord LIMIT %s"
)


def _tied_library(folder: Path, files: int) -> None:
    """*files* files whose fragments rank alike for 调查研究: the same few texts in each."""
    texts = ["要大兴调查研究之风。", "调查研究是谋事之基、成事之道，要大兴调查研究之风。", "坚持问题导向。"]
    for n in range(files):
        frags = "".join(
            f"- id: t{n:02d}.paragraph.{i + 1}\n  kind: paragraph\n  text: {text}\n  tags: []\n  slots: []\n"
            f"  review: false\n"
            for i, text in enumerate(texts * 2)
        )
        (folder / f"{n:02d}_tied.yaml").write_text(
            f"source:\n  file: {n:02d}_tied.txt\n  title: 讲话\n  meeting: ''\n  year: 2023\nfragments:\n{frags}",
            encoding="utf-8",
        )


def _shipped_with_copies(url: str, tmp_path: Path, copies: int) -> None:
    """Import the shipped library and *copies* more of every file, ids renamed: ties everywhere."""
    from speechgen.db import import_dir

    folder = tmp_path / "copies"
    folder.mkdir()
    for n in range(copies):
        for f in sorted((ROOT / "fragments").glob("*.yaml")):
            text = f.read_text(encoding="utf-8").replace("id: s0", f"id: c{n}s0").replace("id: 's0", f"id: 'c{n}s0")
            (folder / f"{n}_{f.name}").write_text(text, encoding="utf-8")
    import_dir(url, ROOT / "fragments")
    import_dir(url, folder)


@pytest.mark.parametrize("top", [1, 2, 3, 5, 8, 13, 40])
def test_a_tier_returns_what_joining_every_candidate_returned_ties_included(db: str, tmp_path: Path, top: int) -> None:  # noqa: F811
    from speechgen.db import import_dir
    from speechgen.library.postgres import CANDIDATES, RANK_NORMALISATION, rank_weights, ranked_sql

    for name in ("乙", "甲"):  # two collections: ties are ordered by collection, then path
        (tmp_path / name).mkdir()
        _tied_library(tmp_path / name, 6)
        for f in (tmp_path / name).iterdir():  # ids are unique across collections
            f.write_text(f.read_text(encoding="utf-8").replace("id: t", f"id: {name}t"), encoding="utf-8")
        import_dir(db, tmp_path / name)
    pg = open_store([], database=db)
    old = _EVERY_CANDIDATE_JOINED.replace("{weights}", rank_weights()).replace("{norm}", str(RANK_NORMALISATION))
    for expr, where, params in [
        ("调查 <-> 查研 <-> 研究", "TRUE", []),
        ("调查 | 问题", "TRUE", []),
        ("调查 <-> 查研 <-> 研究", "s.collection = ANY(%s)", [["甲"]]),  # a source's column: joined first
        ("调查 <-> 查研 <-> 研究", "f.kind = %s", ["paragraph"]),
    ]:
        # (with fewer candidates than matches, which matches are ranked is the index's order in
        # both, and the plans may differ: only the case where every match is ranked is compared)
        want = pg.conn.execute(old.replace("{where}", where), [expr, *params, CANDIDATES, expr, top]).fetchall()
        got = pg.conn.execute(ranked_sql(where), [expr, *params, CANDIDATES, expr, top, top]).fetchall()
        assert want, (expr, where)
        assert [(r[0], r[1], r[3]) for r in got] == [(r[0], r[1], r[3]) for r in want], (expr, where)
        every = pg.conn.execute(old.replace("{where}", where), [expr, *params, CANDIDATES, expr, 1000]).fetchall()
        assert len({r[3] for r in every}) < len(every)  # there are ties to order


def test_search_is_never_a_prepared_statement(db: str) -> None:  # noqa: F811
    """psycopg prepares a statement run five times; PostgreSQL then may plan it once for any
    tsquery, and a plan for a rare word is slow for a common one."""
    from speechgen.db import import_dir

    import_dir(db, ROOT / "fragments")
    pg = open_store([], database=db)
    pg.conn.prepare_threshold = 0  # prepare everything psycopg may prepare, at once
    for q in QUERIES[:8] * 2:
        pg.search(q)
    pg.get(pg.search("调查研究")[0].fragment.id)
    prepared = [r[0] for r in pg.conn.execute("SELECT statement FROM pg_prepared_statements").fetchall()]
    assert prepared  # other statements are prepared: the check can see them
    assert not [s for s in prepared if "ts_rank_cd" in s]


def test_search_stops_unpacking_only_where_the_answer_is_settled(db: str, tmp_path: Path,  # noqa: F811
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Early stop (no entry unpacked once enough exact matches are found) gives exactly the
    hits of unpacking every row, with many equal ranks (copies of one text in several files)."""
    from speechgen.library import postgres
    from speechgen.library.files import Filters

    _shipped_with_copies(db, tmp_path, 3)
    pg = open_store([], database=db)
    read: list[str] = []
    unpack = postgres.load_json

    def counted(data: str):  # type: ignore[no-untyped-def]
        read.append(data)
        return unpack(data)

    monkeypatch.setattr(postgres, "load_json", counted)
    early = late = 0
    for query in QUERIES[:12] + ["政治", "基层 减负", "组织 领导 干部", "学习 调研"]:
        for limit in (1, 3, 10, 50):
            for filters in (None, Filters(kind="point")):
                read.clear()
                monkeypatch.setattr(postgres.PgStore, "early_stop", False)
                every = [(h.fragment.id, h.score) for h in pg.search(query, filters, limit)]
                late += len(read)
                read.clear()
                monkeypatch.setattr(postgres.PgStore, "early_stop", True)
                assert [(h.fragment.id, h.score) for h in pg.search(query, filters, limit)] == every, (query, limit)
                early += len(read)
    assert early < late * 3 / 4  # it does stop early (here about half as many entries unpacked)


def test_entries_past_the_first_rows_are_read_when_asked_for(db: str, tmp_path: Path,  # noqa: F811
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a tier's first rows carry their entries; the rest are read a chunk at a time when
    the search gets to them: the same hits as with every entry sent, fewer entries sent."""
    from collections import Counter

    from speechgen.library import postgres
    from speechgen.library.files import Filters

    _shipped_with_copies(db, tmp_path, 10)
    pg = open_store([], database=db)
    sent: list[str] = []
    rows = postgres.PgStore._rows

    def spy(self, sql, params, doing, prepare=None):  # type: ignore[no-untyped-def]
        got = rows(self, sql, params, doing, prepare)
        if "ts_rank_cd" in sql:
            sent.extend(r[2] for r in got if r[2] is not None)
        elif "id = ANY" in sql:
            sent.extend(r[1] for r in got)
        return got

    monkeypatch.setattr(postgres.PgStore, "_rows", spy)
    ranked = postgres.ranked_sql
    lazily = every = settled = 0
    for early in (True, False):
        monkeypatch.setattr(postgres.PgStore, "early_stop", early)
        for query in QUERIES[:6] + ["政治", "基层 减负", "组织 领导 干部"]:
            for limit in (1, 10, 50):
                for filters in (None, Filters(kind="point")):
                    monkeypatch.setattr(postgres, "ranked_sql", lambda where, with_entries=None: ranked(where))
                    sent.clear()
                    want = [(h.fragment, h.score) for h in pg.search(query, filters, limit)]
                    all_sent = Counter(sent)
                    monkeypatch.setattr(postgres, "ranked_sql", ranked)
                    sent.clear()
                    assert [(h.fragment, h.score) for h in pg.search(query, filters, limit)] == want, (query, limit)
                    assert Counter(sent) <= all_sent  # no entry sent twice for one tier
                    if not early:  # every row unpacked: every entry sent, first rows or later
                        assert set(sent) == set(all_sent)
                    else:
                        every += all_sent.total()
                        lazily += len(sent)
                        if " " not in query and len(want) == limit and all(query in f.full_text for f, _ in want):
                            settled += 1  # one tier, settled by its first rows: no more sent
                            assert len(sent) <= max(2 * limit, 40), (query, limit, filters)
    assert settled >= 10
    assert lazily < every, (lazily, every)
