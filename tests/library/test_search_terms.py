"""Search over CJK bigrams (speechgen.library.terms): the same answers as jieba search gave, faster.

The fixed query set below was run on the shipped library before the change (jieba search-mode
tokens, commit e95d7ee) and after it. Pinned: every fragment holding the query as written is
still found (old result sets shorter than the limit are contained in the new ones, except
where the old one came from an OR of jieba's words, marked), and the new top five.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from speechgen.errors import SpeechgenError
from speechgen.library import Filters, Library, load_library
from speechgen.library.files import DID_YOU_MEAN_CANDIDATES
from speechgen.library.sqlite import Index
from speechgen.library.terms import (
    fts5_any_query,
    fts5_phrase_query,
    index_term_list,
    index_terms,
    index_text,
    query_plan,
)
from speechgen.paths import library_dirs

# (query, top 5 with jieba search before, top 5 with bigrams now)
QUERIES = [
    ('调查研究', ['s002.requirements.1', 's001b.opening.1', 's000.point.2', 's001a.point.2', 's000.point.1'], ['s001b.opening.1', 's002.requirements.1', 's000.point.2', 's001a.point.2', 's001a.point.1']),
    ('形式主义', ['s003.point.3', 's003.point.1'], ['s003.point.3', 's003.point.1']),
    ('政治自觉', ['s001b.point.1', 's000.point.1', 's001a.point.1', 's002.point.2'], ['s001a.point.1', 's000.point.1', 's001b.point.1']),
    ('理论学习', ['s002.requirements.1', 's002.point.2', 's002.point.3', 's003.point.1', 's001b.point.1'], ['s002.requirements.1', 's002.point.2', 's002.point.3', 's003.point.1']),
    ('检视整改', ['s002.requirements.1', 's002.point.3', 's003.point.2', 's003.point.3', 's003.point.1'], ['s002.requirements.1', 's002.point.3', 's003.point.2']),
    ('领导小组', ['s004.point.3', 's004.opening.1', 's004.closing.1', 's000.point.1', 's001a.point.1'], ['s004.closing.1', 's004.point.3', 's004.opening.1', 's004.point.2', 's001a.point.1']),
    ('为民办实事', ['s001b.point.3'], ['s001b.point.3']),
    ('营商环境', ['s001b.point.3'], ['s001b.point.3']),
    ('理想信念', ['s001b.point.1'], ['s001b.point.1']),
    ('指导组', ['s004.salutation.1', 's000.point.1', 's001a.point.1', 's000.point.2', 's001a.point.2'], ['s001a.point.1', 's000.point.1', 's000.point.2', 's001a.point.2', 's004.salutation.1']),
    ('专项整治', ['s000.point.1', 's001a.point.1', 's003.point.3', 's003.opening.1'], ['s001a.point.1', 's000.point.1', 's003.opening.1', 's003.point.3']),
    ('主题教育', ['s004.point.1', 's000.point.2', 's001a.point.2', 's000.point.1', 's001a.point.1'], ['s000.point.2', 's001a.point.2', 's004.point.3', 's000.point.1', 's001a.point.1']),
    ('民主生活会', ['s000.point.1', 's001a.point.1'], ['s001a.point.1', 's000.point.1']),
    ('凝心铸魂', ['s000.point.1', 's001a.point.1', 's002.point.2', 's002.point.3'], ['s001a.point.1', 's000.point.1', 's002.point.2', 's002.point.3']),
    ('政治责任', ['s002.closing.1', 's004.closing.1', 's004.point.1', 's002.point.1', 's002.point.3'], ['s002.closing.1', 's004.closing.1', 's004.point.1']),
    ('学习', ['s003.point.3', 's002.requirements.1', 's000.point.2', 's001a.point.2', 's003.point.2'], ['s000.point.2', 's001a.point.2', 's002.point.2', 's001a.point.1', 's000.point.1']),
    ('整改', ['s003.point.3', 's002.requirements.1', 's003.point.1', 's000.point.4', 's001a.point.4'], ['s003.point.3', 's002.requirements.1', 's003.point.1', 's000.point.4', 's001a.point.4']),
    ('基层减负', ['s000.point.3', 's003.point.2', 's001a.point.3', 's003.point.1', 's003.point.3'], ['s000.point.3', 's003.point.2', 's001a.point.3', 's003.point.1', 's003.point.3']),
    ('形式主义 官僚主义', ['s003.point.3', 's003.point.1'], ['s003.point.3', 's003.point.1']),
    ('以学促干', ['s000.point.1', 's001a.point.1', 's002.opening.1', 's001b.point.3'], ['s001a.point.1', 's000.point.1', 's002.opening.1', 's001b.point.3']),
    ('党史', ['s004.point.1'], ['s004.point.1']),
    ('读书班', [], []),
]
# Old hits that held only one of jieba's words of the query, not the query itself.
JIEBA_WORD_ONLY = {("政治自觉", "s002.point.2")}


@pytest.fixture(scope="module")
def shipped() -> Index:
    return Index(library_dirs())


@pytest.mark.parametrize(("query", "before", "after"), QUERIES)
def test_fixed_queries_find_what_they_found_before(shipped: Index, query: str, before: list[str], after: list[str]) -> None:
    got = [h.fragment.id for h in shipped.search(query, limit=5)]
    assert got == after
    if len(before) < 5:  # the whole old result set: each hit is still found
        assert {i for i in before if (query, i) not in JIEBA_WORD_ONLY} <= set(got)
    phrase = "".join(query.split())
    holding = [h for h in shipped.search(query, limit=50) if phrase in h.fragment.full_text]
    everything = [f.id for f in shipped.library().fragments if phrase in f.full_text]
    assert sorted(h.fragment.id for h in holding) == sorted(everything)


def test_terms_are_bigrams_words_and_lone_characters() -> None:
    assert index_terms("大兴调查研究，GDP 增长 a调查 国") == [
        "大兴", "兴调", "调查", "查研", "研究", "gdp", "增长", "a", "调查", "国"]
    assert index_text("调查研究。调查研究") == "调查 查研 研究 调查 查研 研究"
    assert query_plan("形式主义 官僚主义") == [["形式", "式主", "主义"], ["官僚", "僚主", "主义"]]
    assert fts5_phrase_query([["调查", "查研"], ["x"]]) == '("调查 查研" AND "x")'
    assert fts5_any_query([["调查", "查研"], ["调查"]]) == '"调查" OR "查研"'
    assert query_plan("，。！") == []


def _lib(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "lib"
    d.mkdir(exist_ok=True)
    (d / "a.yaml").write_text(text, encoding="utf-8")
    return d


def test_a_heading_with_the_query_outranks_a_passing_mention(tmp_path: Path) -> None:
    d = _lib(tmp_path, """\
source: {file: a.txt}
fragments:
  - {id: a.1, kind: point, heading: 加强基层党建, text: 我们要做好各项工作，其中也包括调查研究，务求实效。}
  - {id: a.2, kind: point, heading: 大兴调查研究之风, text: 我们要做好各项工作，深入基层摸实情，务求实效。}
""")
    assert [h.fragment.id for h in Index([d]).search("调查研究")] == ["a.2", "a.1"]


def test_get_reads_one_fragment_and_suggests_from_a_prefix(tmp_path: Path) -> None:
    frags = "".join(f"  - {{id: s{i:03d}.point.1, kind: point, heading: 标题, text: 正文。}}\n" for i in range(300))
    d = _lib(tmp_path, "source: {file: a.txt}\nfragments:\n" + frags)
    idx = Index([d])
    assert idx.get("s123.point.1").id == "s123.point.1"
    with pytest.raises(SpeechgenError) as exc:
        idx.get("s123.piont.1")
    assert str(exc.value) == "unknown fragment id 's123.piont.1' — did you mean 's123.point.1'?"
    assert idx._near_ids("s123.piont.1") == ["s123.point.1"]  # not the 300 ids
    assert len(idx._near_ids("s1")) == 100 <= DID_YOU_MEAN_CANDIDATES
    with pytest.raises(SpeechgenError, match="run 'speechgen fragments list' to see the ids"):
        idx.get("zzz")


def test_variants_in_sql_are_the_library_families(shipped: Index) -> None:
    lib = shipped.library()
    for f in lib.fragments:
        assert [v.id for v in shipped.variants_of(f)] == [v.id for v in lib.variants_of(f)]


def test_pages_are_slices_of_the_selection(shipped: Index) -> None:
    lib: Library = load_library(library_dirs())
    for filters in (Filters(), Filters(kind="point")):
        every = [f.id for f in lib.select(filters)]
        assert shipped.count(filters) == len(every)
        assert [f.id for f in shipped.page(filters, 5, 3)] == every[3:8]
        assert [f.id for f in shipped.page(filters, None, 30)] == every[30:]


def test_a_pool_of_readers_fills_the_same_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.library.sqlite as store

    dirs = library_dirs()
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "serial"))
    serial = Index(dirs)
    monkeypatch.setattr(store, "POOL_FROM", 2)
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "pool"))
    pooled = Index(dirs)
    assert pooled.library().fragments == serial.library().fragments
    for query, _, after in QUERIES:
        assert [h.fragment.id for h in pooled.search(query, limit=5)] == after


def test_search_stops_unpacking_only_where_the_answer_is_settled(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Early stop (rows below the last needed exact match are not unpacked) gives exactly the
    hits of unpacking every row, with many equal scores (copies of one text in several files)."""
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "cache"))
    copies = tmp_path / "copies"
    copies.mkdir()
    shipped_dir = library_dirs()[0]
    for n in range(3):  # every shipped file three more times, ids renamed: ties everywhere
        for f in sorted(shipped_dir.glob("*.yaml")):
            text = f.read_text(encoding="utf-8").replace("id: s0", f"id: c{n}s0").replace("id: 's0", f"id: 'c{n}s0")
            (copies / f"{n}_{f.name}").write_text(text, encoding="utf-8")
    idx = Index([shipped_dir, copies])
    read: list[int] = []
    unpack = Index._fragment

    def counted(self: Index, key: str, line: int, data: bytes):  # type: ignore[no-untyped-def]
        read.append(line)
        return unpack(self, key, line, data)

    monkeypatch.setattr(Index, "_fragment", counted)
    early = late = 0
    for query, _, _ in QUERIES + [("政治", [], []), ("基层 减负", [], []), ("组织 领导 干部", [], [])]:
        for limit in (1, 3, 10, 50):
            for filters in (None, Filters(kind="point")):
                read.clear()
                monkeypatch.setattr(Index, "early_stop", False)
                every = [(h.fragment.id, h.score) for h in idx.search(query, filters, limit)]
                late += len(read)
                read.clear()
                monkeypatch.setattr(Index, "early_stop", True)
                assert [(h.fragment.id, h.score) for h in idx.search(query, filters, limit)] == every, (query, limit)
                early += len(read)
    assert early < late  # it does stop early


def test_a_remembered_ranking_is_forgotten_when_a_file_changes(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A query asked again reads its ranking back (no FTS5 query); a changed file drops it."""
    import os

    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "cache"))
    d = _lib(tmp_path, """\
source: {file: a.txt}
fragments:
  - {id: a.1, kind: point, heading: 加强基层党建, text: 我们要做好各项工作，其中也包括调查研究，务求实效。}
""")
    assert [h.fragment.id for h in Index([d]).search("调查研究")] == ["a.1"]
    again = Index([d])
    asked: list[str] = []
    again.conn.set_trace_callback(asked.append)
    assert [h.fragment.id for h in again.search("调查研究")] == ["a.1"]
    assert not [q for q in asked if q.startswith("SELECT f.rowid")]  # read back, not ranked again
    assert [q for q in asked if q.startswith("SELECT rows FROM ranked")]
    f = d / "a.yaml"
    f.write_text(f.read_text(encoding="utf-8") + "  - {id: a.2, kind: point, heading: 大兴调查研究之风, text: 深入基层。}\n",
                 encoding="utf-8")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert [h.fragment.id for h in Index([d]).search("调查研究")] == ["a.2", "a.1"]


def test_the_fts5_tokenizer_splits_index_text_exactly_into_its_terms() -> None:
    """The cache's FTS5 table is given index_text(): its tokenizer ('ascii', faster than
    unicode61) must see exactly index_terms() — no term split, joined or case-folded."""
    import sqlite3

    from speechgen.library.sqlite import _DDL

    texts = [
        "大兴调查研究之风，GDP 增长 3.5%；Ｇ２０峰会、ΑΘΗΝΑΣ Straße café İstanbul",
        "“两个确立”·党的二十大 COVID-19 第１２３号 ½ ⅷ ①② x²",
        "形式主义、官僚主义\n基层减负 ——《实施意见》 e\u0301 ﬁ ǅ",
    ]
    conn = sqlite3.connect(":memory:")
    conn.executescript(_DDL)
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(fts, 'instance')")
    for rowid, text in enumerate(texts, 1):
        conn.execute("INSERT INTO fts(rowid, heading, body, tags) VALUES(?, '', ?, '')", (rowid, index_text(text)))
        seen = conn.execute("SELECT term FROM v WHERE doc=? ORDER BY offset", (rowid,)).fetchall()
        assert [t for (t,) in seen] == index_terms(text), text


def test_the_term_list_is_index_text_split() -> None:
    """index_term_list (what db import groups into tsvectors) gives index_text's terms, in
    order, a clause met again as the strings it gave before."""
    texts = [
        "大兴调查研究之风，GDP 增长 3.5%；Ｇ２０峰会、ΑΘΗΝΑΣ Straße café İstanbul",
        "“两个确立”·党的二十大 COVID-19 第１２３号 ½ ⅷ ①② x²\n\n\n调查研究。调查研究",
        "形式主义、官僚主义\n基层减负 ——《实施意见》 e\u0301 ﬁ ǅ", "", "，。；", "国", "a" * 3000,
    ]
    texts += [seed.read_text(encoding="utf-8") for seed in sorted(Path("corpus/seeds").glob("*.txt"))]
    for text in texts:
        got = index_term_list(text)
        assert got == index_text(text).split(), text[:40]
        assert got == index_term_list(text)  # again, from the clauses kept
    terms = index_term_list("调查研究；调查研究")
    assert terms[0] == terms[3] == "调查" and terms[0] is terms[3]
    assert index_term_list("又调查研究")[1] == "调查"
