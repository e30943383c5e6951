"""A SQLite cache of the library with an FTS5 index over jieba tokens.

The cache lives in the user's cache folder (``SPEECHGEN_CACHE``, else
``$XDG_CACHE_HOME/speechgen`` or ``~/.cache/speechgen``), one database per set of
library folders. Each library file is re-read when its size or modification time
changes, and forgotten when it disappears, so the cache never serves stale fragments.
Search ranks with SQLite's own BM25 (``bm25()`` of FTS5); jieba is imported only to
tokenise what was not indexed yet and the query.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from speechgen.library.files import (
    Filters,
    Library,
    duplicate_problems,
    find_library_files,
    fragment_from_dict,
    parse_library_file,
    raise_library_problems,
)
from speechgen.library.textcheck import checks_version
from speechgen.model import Fragment, Source
from speechgen.paths import cache_dir
from speechgen.words import words_version

SCHEMA = 6

_DDL = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files(
    path TEXT PRIMARY KEY, shown TEXT, mtime_ns INTEGER, size INTEGER,
    source TEXT, problems TEXT, meeting TEXT, year INTEGER, sfile TEXT);
CREATE TABLE IF NOT EXISTS frags(
    rowid INTEGER PRIMARY KEY, path TEXT, ord INTEGER, id TEXT, line INTEGER,
    data TEXT, indexed INTEGER DEFAULT 0, kind TEXT, review INTEGER, tags TEXT);
CREATE INDEX IF NOT EXISTS frags_id ON frags(id);
CREATE INDEX IF NOT EXISTS frags_path ON frags(path, ord);
CREATE INDEX IF NOT EXISTS frags_todo ON frags(indexed) WHERE indexed = 0;
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(tokens, tokenize='unicode61');
CREATE TABLE IF NOT EXISTS queries(query TEXT PRIMARY KEY, tokens TEXT, expr TEXT);
"""


@dataclass(frozen=True)
class Hit:
    """One search result: the fragment and its BM25 score (higher is better)."""

    fragment: Fragment
    score: float


def _db_path(dirs: list[Path]) -> str:
    base = cache_dir()
    if base is None:
        return ":memory:"
    key = "\n".join(str(d.resolve()) for d in dirs)
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    return str(base / f"library-{digest}.sqlite3")


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    schema = f"{SCHEMA} checks {checks_version()}"  # new validation rules re-check every file
    if row is None or row[0] != schema:
        # A cache written by another version of speechgen: start it again.
        conn.executescript(
            "DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS frags; DROP TABLE IF EXISTS fts; "
            "DROP TABLE IF EXISTS queries; DELETE FROM meta;"
        )
        conn.execute("INSERT INTO meta VALUES('schema', ?)", (schema,))
    conn.executescript(_DDL)
    row = conn.execute("SELECT value FROM meta WHERE key='words'").fetchone()
    if row is None or row[0] != words_version():
        # Tokens depend on jieba and the domain dictionary: a new one re-tokenises all.
        conn.executescript("DELETE FROM fts; DELETE FROM queries; UPDATE frags SET indexed = 0;")
        conn.execute("INSERT OR REPLACE INTO meta VALUES('words', ?)", (words_version(),))
    return conn


def _remove(path: str) -> None:
    if path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)


def _open(path: str) -> sqlite3.Connection:
    try:
        return _connect(path)
    except sqlite3.DatabaseError:
        # A damaged cache is only a cache: start it again.
        _remove(path)
        return _connect(path)


def _source_json(source: Source) -> str:
    d = asdict(source)
    d["warnings"] = list(source.warnings)
    return json.dumps(d, ensure_ascii=False)


def _source_from_json(text: str) -> Source:
    d = json.loads(text)
    d["warnings"] = tuple(d.get("warnings") or ())
    return Source(**d)


class Index:
    """The cached, validated library of some folders, with ranked search."""

    def __init__(self, dirs: list[Path]) -> None:
        self.dirs = dirs
        path = _db_path(dirs)
        self.conn = _open(path)
        self._sources: dict[str, tuple[str, Source]] = {}
        try:
            self.refresh()
        except sqlite3.DatabaseError:
            # The cache is damaged or of an unknown shape; it is only a cache.
            self.conn.close()
            _remove(path)
            self.conn = _open(path)
            self.refresh()

    # ------------------------------------------------------------------ sync
    def refresh(self) -> None:
        """Bring the cache in line with the files on disk; raise on any library problem."""
        files = find_library_files(self.dirs)
        stats = {}
        for p in files:
            st = p.stat()
            stats[str(p.resolve())] = (p, st.st_mtime_ns, st.st_size)
        known = {
            row[0]: (row[1], row[2])
            for row in self.conn.execute("SELECT path, mtime_ns, size FROM files")
        }
        stale = [k for k, (_, m, s) in stats.items() if known.get(k) != (m, s)]
        gone = [k for k in known if k not in stats]
        if stale or gone:
            self._sync(stats, stale, gone)
        problems: list[str] = []
        for (text,) in self.conn.execute("SELECT problems FROM files ORDER BY path"):
            problems += json.loads(text)
        if self.conn.execute(
            "SELECT 1 FROM frags GROUP BY id HAVING COUNT(*) > 1 LIMIT 1"
        ).fetchone():
            problems += duplicate_problems(self._all())
        raise_library_problems(problems)

    def _sync(self, stats: dict[str, tuple[Path, int, int]], stale: list[str], gone: list[str]) -> None:
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        try:
            for key in gone + stale:
                c.execute(
                    "DELETE FROM fts WHERE rowid IN (SELECT rowid FROM frags WHERE path=?)", (key,)
                )
                c.execute("DELETE FROM frags WHERE path=?", (key,))
                c.execute("DELETE FROM files WHERE path=?", (key,))
            for key in stale:
                path, mtime, size = stats[key]
                lf = parse_library_file(path)
                src = lf.source
                c.execute(
                    "INSERT INTO files VALUES(?,?,?,?,?,?,?,?,?)",
                    (key, lf.path, mtime, size, _source_json(src),
                     json.dumps(list(lf.problems), ensure_ascii=False), src.meeting, src.year, src.file),
                )
                c.executemany(
                    "INSERT INTO frags(path, ord, id, line, data, kind, review, tags) "
                    "VALUES(?,?,?,?,?,?,?,?)",
                    [
                        (key, i, f.id, f.line, json.dumps(f.to_dict(), ensure_ascii=False),
                         f.kind, int(f.review), _SEP + _SEP.join(f.tags) + _SEP)
                        for i, f in enumerate(lf.fragments)
                    ],
                )
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ reading
    def _source(self, key: str) -> tuple[str, Source]:
        if key not in self._sources:
            row = self.conn.execute("SELECT shown, source FROM files WHERE path=?", (key,)).fetchone()
            self._sources[key] = (row[0], _source_from_json(row[1]))
        return self._sources[key]

    def _fragment(self, key: str, line: int, data: str) -> Fragment:
        shown, source = self._source(key)
        return fragment_from_dict(json.loads(data), source, shown, line)

    def _all(self, filters: Filters | None = None) -> Iterator[Fragment]:
        where, params = _where(filters)
        rows = self.conn.execute(
            "SELECT f.path, f.line, f.data FROM frags f JOIN files s ON s.path = f.path "
            f"WHERE {where} ORDER BY f.path, f.ord",
            params,
        )
        for key, line, data in rows:
            yield self._fragment(key, line, data)

    def library(self) -> Library:
        """Every fragment, in file order."""
        return Library(self._all(), self.dirs)

    def get(self, fid: str) -> Fragment:
        """The fragment with id *fid*, read by its key; a did-you-mean error otherwise."""
        row = self.conn.execute(
            "SELECT path, line, data FROM frags WHERE id=? ORDER BY path, ord LIMIT 1", (fid,)
        ).fetchone()
        if row is None:
            return self.library().get(fid)  # raises with the did-you-mean
        return self._fragment(*row)

    def select(self, filters: Filters) -> list[Fragment]:
        """Fragments passing *filters*, in file order; the filtering happens in SQLite."""
        return list(self._all(filters))

    # ------------------------------------------------------------------ search
    def _ensure_indexed(self) -> None:
        todo = self.conn.execute("SELECT rowid, data FROM frags WHERE indexed=0").fetchall()
        if not todo:
            return
        from speechgen.words import search_tokens

        rows = []
        for rowid, data in todo:
            d: dict[str, Any] = json.loads(data)
            text = " ".join(
                [str(d.get("heading") or ""), str(d.get("text") or ""), str(d.get("tail") or "")]
                + [f"{s.get('lead', '')}{s.get('text', '')}" for s in d.get("subpoints") or ()]
                + list(d.get("tags") or ())
            )
            rows.append((rowid, " ".join(search_tokens(text))))
        c = self.conn
        c.execute("BEGIN IMMEDIATE")
        c.executemany("INSERT OR REPLACE INTO fts(rowid, tokens) VALUES(?,?)", rows)
        c.executemany("UPDATE frags SET indexed=1 WHERE rowid=?", [(r,) for r, _ in rows])
        c.execute("COMMIT")

    def _query(self, query: str) -> tuple[list[str], str]:
        """(words, FTS5 expression) of *query*, remembered so a repeated query needs no jieba.

        Each word of the query (jieba's precise mode) matches itself, or all the shorter
        words search mode finds inside it — the index holds search-mode tokens, so a part
        of a dictionary word (政治责任 in 政治责任感) still finds it. Words are OR-ed.
        """
        row = self.conn.execute("SELECT tokens, expr FROM queries WHERE query=?", (query,)).fetchone()
        if row is not None:
            return [w for w in row[0].split(" ") if w], row[1]
        from speechgen.words import search_tokens, tokens

        words = list(dict.fromkeys(tokens(query)))
        clauses = []
        for w in words:
            parts = [p for p in dict.fromkeys(search_tokens(w)) if p != w]
            clause = _quote(w)
            if parts:
                clause = f"({clause} OR ({' AND '.join(_quote(p) for p in parts)}))"
            clauses.append(clause)
        expr = " OR ".join(clauses)
        self.conn.execute("INSERT OR REPLACE INTO queries VALUES(?, ?, ?)", (query, " ".join(words), expr))
        return words, expr

    def query_tokens(self, query: str) -> list[str]:
        """The words of *query* as search sees them (for marking them in snippets)."""
        return self._query(query)[0]

    def search(self, query: str, filters: Filters | None = None, limit: int = 10) -> list[Hit]:
        """Fragments ranked by BM25 over jieba tokens; exact-phrase matches come first."""
        self._ensure_indexed()
        words, match = self._query(query)
        if not words:
            return []
        where, params = _where(filters)
        phrase = "".join(query.split())
        rows = self.conn.execute(
            "SELECT f.path, f.line, f.data, bm25(fts) FROM fts "
            "JOIN frags f ON f.rowid = fts.rowid JOIN files s ON s.path = f.path "
            f"WHERE fts MATCH ? AND {where} ORDER BY bm25(fts) LIMIT ?",
            [match, *params, max(limit * 20, 200)],
        )
        hits = [Hit(self._fragment(key, line, data), -float(rank)) for key, line, data, rank in rows]
        hits.sort(key=lambda h: (phrase not in h.fragment.full_text, -h.score))
        return hits[:limit]


def _quote(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


_SEP = "\x1f"  # between tags in the tags column, and around them


def _where(filters: Filters | None) -> tuple[str, list[Any]]:
    """SQL over frags f JOIN files s for *filters*; the same rules as Filters.match."""
    if filters is None:
        return "1", []
    sql: list[str] = []
    params: list[Any] = []
    if filters.kind:
        sql.append("f.kind = ?")
        params.append(filters.kind)
    if filters.tag:
        sql.append("instr(f.tags, ?) > 0")
        params.append(_SEP + filters.tag + _SEP)
    if filters.meeting:
        sql.append("instr(s.meeting, ?) > 0")
        params.append(filters.meeting)
    if filters.year is not None:
        sql.append("s.year = ?")
        params.append(filters.year)
    if filters.source:
        sql.append("(instr(s.sfile, ?) > 0 OR instr(s.shown, ?) > 0)")
        params += [filters.source, filters.source]
    if filters.needs_review:
        sql.append("f.review = 1")
    return " AND ".join(sql) or "1", params
