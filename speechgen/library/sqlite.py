"""A SQLite cache of the library with an FTS5 index over CJK bigrams.

The cache lives in the user's cache folder (``SPEECHGEN_CACHE``, else
``$XDG_CACHE_HOME/speechgen`` or ``~/.cache/speechgen``), one database per set of
library folders. Each library file is re-read when its size, modification time or status
change time changes (a ``chmod`` changes the last), and forgotten when it disappears, so
the cache never serves stale fragments.

The YAML files are the truth and the cache only a cache: it keeps each fragment's id, kind
and tags and where its YAML mapping stands in its file, and reads it from there again when
asked for (checked against the file's recorded size and times and the fragment's id; a file
that changed is indexed again). Only files that need the full YAML loader keep packed
fragments. Fragments are indexed as they are cached, with the terms of
:mod:`speechgen.library.terms` (character bigrams, no dictionary) in a contentless FTS5
table of three columns, heading, body and tags, ranked by ``bm25()`` with the heading
weighted highest. No jieba is loaded to index or to search. A changed file's old index
rows cannot be deleted (their text went with the old file): they stay, never found, until
they are an eighth of the live rows, when the index is built again.

One process builds or updates a cache at a time (an exclusive ``flock`` on
``<cache>.lock``); the others wait for it and then read. A cache that cannot be used (its
path is a folder, its folder is read-only) is replaced by one in memory, with a warning.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import os
import sqlite3
import stat as stat_module
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from speechgen.errors import SpeechgenError, did_you_mean
from speechgen.library.evidence import ANCHORS, anchor_evidence, char_profile, text_digest
from speechgen.library.files import (
    Filters,
    Head,
    Library,
    Row,
    Slice,
    _plain_yaml,
    duplicate_problems,
    fragment_at,
    fragment_from_dict,
    near_ids,
    parse_library_file,
    raise_library_problems,
    read_library_file,
    stat_library_files,
)
from speechgen.library.terms import (
    FIELDS,
    TERMS_VERSION,
    fts5_any_query,
    fts5_phrase_query,
    index_text,
    query_plan,
    query_words,
)
from speechgen.library.textcheck import checks_version
from speechgen.model import Fragment, Source
from speechgen.paths import cache_dir, cache_dir_wanted
from speechgen.userfiles import display_path

SCHEMA = 14

_DDL = f"""
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files(
    path TEXT PRIMARY KEY, shown TEXT, mtime_ns INTEGER, ctime_ns INTEGER, size INTEGER,
    source TEXT, problems TEXT, meeting TEXT, year INTEGER, sfile TEXT);
CREATE TABLE IF NOT EXISTS seeds(path TEXT PRIMARY KEY, data TEXT);
CREATE TABLE IF NOT EXISTS frags(
    rowid INTEGER PRIMARY KEY, path TEXT, ord INTEGER, id TEXT, line INTEGER,
    kind TEXT, review INTEGER, tags TEXT, at INTEGER, nbytes INTEGER, col INTEGER, seeded INTEGER,
    label TEXT, chars INTEGER, digest BLOB, tlen INTEGER, profile BLOB);
CREATE TABLE IF NOT EXISTS blobs(rowid INTEGER PRIMARY KEY, data BLOB);
CREATE INDEX IF NOT EXISTS frags_id ON frags(id);
CREATE INDEX IF NOT EXISTS frags_path ON frags(path, ord);
CREATE INDEX IF NOT EXISTS frags_digest ON frags(digest);
CREATE TABLE IF NOT EXISTS evidence(path TEXT PRIMARY KEY, plain INTEGER, data TEXT);
CREATE TABLE IF NOT EXISTS links(path TEXT, a TEXT, b TEXT);
CREATE INDEX IF NOT EXISTS links_path ON links(path);
CREATE INDEX IF NOT EXISTS links_a ON links(a);
CREATE TABLE IF NOT EXISTS ranked(n INTEGER PRIMARY KEY, key TEXT UNIQUE, rows TEXT);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    {", ".join(name for name, _ in FIELDS)}, content='',
    tokenize='ascii');
"""
_WEIGHTS = ", ".join(str(w) for _, w in FIELDS)
# A fragment is not stored: its row says where its YAML mapping stands in its file (at,
# nbytes, col; seeded: it uses anchors defined before it, whose values are its file's row
# in seeds), and it is read from there again, checked against the file's recorded size and
# times and its id. Only a fragment that cannot be read alone (a file that needs the full
# YAML loader) keeps its packed data, in blobs. Every query reading fragments joins files s
# (the recorded stat) and selects f.path, f.line, then _DATA.
_DATA = ("f.id, f.at, f.nbytes, f.col, f.seeded, "
         "CASE WHEN f.at IS NULL THEN (SELECT data FROM blobs WHERE blobs.rowid = f.rowid) END, "
         "s.mtime_ns, s.ctime_ns, s.size")
_TABLES = ("files", "frags", "blobs", "seeds", "links", "evidence", "fts", "queries", "ranked")
#: Ranked searches remembered (the rowids and scores of one SQL query each); the oldest go first.
RANKED_KEPT = 1000

#: Rows read from the cache at once when fragments are listed.
ROWS_AT_ONCE = 500
#: Rows of one file in such a batch from which the file is read whole rather than a slice a row.
WHOLE_FILE_FROM = 16



@dataclass(frozen=True)
class Hit:
    """One search result: the fragment and its BM25 score (higher is better)."""

    fragment: Fragment
    score: float


_warned: set[str] = set()


def _warn(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        sys.stderr.write(f"warning: {message}\n")


def _db_path(dirs: list[Path]) -> str:
    base = cache_dir()
    if base is None:
        wanted = cache_dir_wanted()
        if wanted is not None:
            _unusable(str(wanted), "the folder cannot be created or written")
        return ":memory:"
    key = "\n".join(str(d.resolve()) for d in dirs)
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    return str(base / f"library-{digest}.sqlite3")


def _unusable(path: str, why: str) -> None:
    _warn(
        f"cannot use the cache {path} ({why}) — running without a cache, which is slower; "
        "make it a writable folder or set SPEECHGEN_CACHE to one"
    )


def _connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL" if path != ":memory:" else "PRAGMA journal_mode=MEMORY")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)")
    row = conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
    # New validation rules re-check every file; new search terms or anchors re-index them.
    schema = f"{SCHEMA} checks {checks_version()} anchors {'|'.join(ANCHORS)} terms {TERMS_VERSION}"
    broken = conn.execute("SELECT 1 FROM meta WHERE key='building'").fetchone()
    if row is None or row[0] != schema or broken:
        # A cache written by another version of speechgen, or whose first build (without a
        # journal) was cut short: start it again.
        conn.executescript(
            "".join(f"DROP TABLE IF EXISTS {t};" for t in _TABLES) + "DELETE FROM meta;"
        )
        conn.execute("INSERT INTO meta VALUES('schema', ?)", (schema,))
    conn.executescript(_DDL)
    return conn


def _remove(path: str) -> None:
    if path != ":memory:":
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)


def _open(path: str) -> sqlite3.Connection:
    try:
        return _connect(path)
    except sqlite3.DatabaseError:
        if Path(path).is_dir() or not os.access(Path(path).parent, os.W_OK):
            raise
        # A damaged cache is only a cache: start it again.
        _remove(path)
        return _connect(path)


@contextlib.contextmanager
def _building(path: str) -> Iterator[None]:
    """Hold the cache's build lock: one process at a time brings a cache up to date."""
    if path == ":memory:":
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: SQLite's own locking only
        yield
        return
    fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _source_json(source: Source) -> str:
    d = asdict(source)
    d["warnings"] = list(source.warnings)
    return json.dumps(d, ensure_ascii=False)


def _source_from_json(text: str) -> Source:
    d = json.loads(text)
    d["warnings"] = tuple(d.get("warnings") or ())
    return Source(**d)


def _pack(d: dict[str, Any]) -> bytes:
    # zlib level 1: a third of the JSON's size for a few microseconds (the cache stays under 2x the YAML)
    return zlib.compress(json.dumps(d, ensure_ascii=False).encode("utf-8"), 1)


def _unpack(data: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(zlib.decompress(data))
    return result


def fragment_fields(f: Fragment) -> tuple[str, str, str]:
    """The texts of a fragment's indexed fields (:data:`~speechgen.library.terms.FIELDS`)."""
    body = [f.text, *(sp.lead + sp.text for sp in f.subpoints), f.tail]
    return f.heading, "\n".join(body), " ".join(f.tags)


def _fts_row(rowid: int, f: Fragment) -> tuple[int, str, str, str]:
    heading, body, tags = fragment_fields(f)
    return rowid, index_text(heading), index_text(body), index_text(tags)


def _fts_config(c: sqlite3.Connection, automerge: int, hashsize: int) -> None:
    """Set FTS5's merging and in-memory batch size ('hashsize' is older than its documentation: tried, not required)."""
    c.execute("INSERT INTO fts(fts, rank) VALUES('automerge', ?)", (automerge,))
    with contextlib.suppress(sqlite3.Error):
        c.execute("INSERT INTO fts(fts, rank) VALUES('hashsize', ?)", (hashsize,))


#: Files to read before a pool of processes shares the reading (parsing YAML is most of a cold start).
POOL_FROM = 64


def _prepare(path: Path, for_ingest: bool = False) -> tuple[Any, ...]:
    """One library file, parsed and validated, as the rows the cache stores (without keys).

    *for_ingest*: with what ingest reads of a fragment (digest, length and character profile
    of its text) and of the file (anchor evidence); else those are None, and a search's
    first build does not spend on them (a sixth more of its reading).
    """
    lf, slices, seeds = read_library_file(path)
    src = lf.source
    frags = []
    for f, where in zip(lf.fragments, slices, strict=True):
        text = f.full_text if for_ingest else ""
        frags.append((f.id, f.line, where, None if where else _pack(f.to_dict()), f.kind, int(f.review),
                      _SEP + _SEP.join(f.tags) + _SEP, f.label, f.chars,
                      *((text_digest(f.kind, text), len(text), char_profile(text)) if for_ingest else (None, None, None))))
    evidence = None
    if for_ingest:  # what ingest learns redacted names from (never a phrase ingest itself restored)
        plain = [f for f in lf.fragments if not f.restored]
        evidence = (len(plain), json.dumps([e for f in plain for e in anchor_evidence(f.full_text)], ensure_ascii=False))
    fts = [_fts_row(0, f)[1:] for f in lf.fragments]
    links = [(a, b) for f in lf.fragments for v in f.variants if v.id and v.id != f.id
             for a, b in ((f.id, v.id), (v.id, f.id))]
    problems = json.dumps(list(lf.problems), ensure_ascii=False)
    return lf.path, _source_json(src), problems, src.meeting, src.year, src.file, seeds, frags, fts, links, evidence


def _prepare_all(paths: list[Path], for_ingest: bool = False) -> Iterator[tuple[Any, ...]]:
    """:func:`_prepare` of each path, in order; shared by a pool of processes when there are many.

    The pool keeps a fixed number of files in flight ahead of the one being written, so
    the readers go on while the main process writes (memory stays bounded whatever the
    library's size).
    """
    workers = min(os.cpu_count() or 1, 4)
    if len(paths) < POOL_FROM or workers < 2 or sys.platform == "win32":
        yield from (_prepare(p, for_ingest) for p in paths)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    ahead = workers * 8
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        todo = iter(paths)
        flight: deque[Future[tuple[Any, ...]]] = deque(pool.submit(_prepare, p, for_ingest) for p in islice(todo, ahead))
        while flight:
            done = flight.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                flight.append(pool.submit(_prepare, nxt, for_ingest))
            yield done


#: Files changed at once from which the FTS5 index is built in bulk (large batches of terms, no automerge).
BULK_FROM = 64
#: Dead rows the FTS5 index may keep, as a share of the live ones, before it is built again.
GARBAGE_SHARE = 8


class Index:
    """The cached, validated library of some folders, with ranked search."""

    #: Stop unpacking search rows once the rest cannot reach the top (False: unpack every row, as before).
    early_stop = True

    def __init__(self, dirs: list[Path], *, check: bool = True, for_ingest: bool = False) -> None:
        self.dirs = dirs
        #: Index files with what ingest reads of them (:meth:`anchor_evidence`, :meth:`texts_of_kinds`),
        #: and add it to files indexed without it
        self.for_ingest = for_ingest
        #: Raise the library's problems (False: serve the valid fragments of each file, as
        #: ingest reads its output folder, whose broken files are not its concern)
        self.check = check
        self._sources: dict[str, tuple[str, Source]] = {}
        self._sources_complete = False  # every file's source read (reset when the cache changes)
        self._stats: dict[str, tuple[str, int, int, int]] = {}  # the library's files, as last checked
        self._inodes: dict[tuple[int, int], str] = {}  # their paths by (device, inode), from the same walk
        self._seeded: dict[str, dict[str, Any] | None] = {}  # each file's seeds, as read
        path = _db_path(dirs)
        if path != ":memory:" and Path(path).is_dir():
            _unusable(path, "it is a folder")
            path = ":memory:"
        try:
            self._start(path)
        except (OSError, sqlite3.OperationalError) as exc:
            if path == ":memory:":
                raise
            _unusable(path, getattr(exc, "strerror", None) or str(exc))
            self._start(":memory:")

    def _start(self, path: str) -> None:
        self._path = path
        with _building(path):
            self.conn = _open(path)
            try:
                self.refresh()
            except sqlite3.DatabaseError as exc:
                if isinstance(exc, sqlite3.OperationalError) and (
                    "readonly" in str(exc) or "disk I/O" in str(exc) or "unable to open" in str(exc)
                ):
                    raise
                # The cache is damaged or of an unknown shape; it is only a cache.
                self.conn.close()
                _remove(path)
                self.conn = _open(path)
                self.refresh()

    # ------------------------------------------------------------------ sync
    def refresh(self) -> None:
        """Bring the cache in line with the files on disk; raise on any library problem."""
        self._inodes = {}
        stats = self._stats = stat_library_files(self.dirs, self._inodes)
        known = {
            row[0]: (row[1], row[2], row[3])
            for row in self.conn.execute("SELECT path, mtime_ns, ctime_ns, size FROM files")
        }
        stale = [k for k, (_, m, c, s) in stats.items() if known.get(k) != (m, c, s)]
        gone = [k for k in known if k not in stats]
        if self.for_ingest:  # files a search indexed (without what ingest reads) are indexed again
            stale += sorted({k for (k,) in self.conn.execute(
                "SELECT path FROM files WHERE path NOT IN (SELECT path FROM evidence)")} & set(stats) - set(stale))
        if stale or gone:
            self._sync(stats, stale, gone)
        if not self.check:
            return
        problems: list[str] = []
        for (text,) in self.conn.execute("SELECT problems FROM files WHERE problems != '[]' ORDER BY path"):
            problems += json.loads(text)
        dups = self.conn.execute("SELECT value FROM meta WHERE key='dups'").fetchone()
        if dups is None or dups[0] == "1":
            problems += duplicate_problems(self._duplicates())
        raise_library_problems(problems)

    def _duplicates(self) -> Iterator[Fragment]:
        """The fragments whose id is defined more than once, in library order."""
        rows = self.conn.execute(
            f"SELECT f.path, f.line, {_DATA} FROM frags f JOIN files s ON s.path = f.path WHERE f.id IN "
            "(SELECT id FROM frags GROUP BY id HAVING COUNT(*) > 1) ORDER BY f.path, f.ord"
        )
        for row in rows.fetchall():
            yield self._fragment(row[0], row[1], row[2:])

    def _sync(self, stats: dict[str, tuple[str, int, int, int]], stale: list[str], gone: list[str]) -> None:
        c = self.conn
        bulk = len(stale) >= BULK_FROM
        unjournaled = False
        if bulk and not gone and self._path != ":memory:" and not c.execute("SELECT 1 FROM files LIMIT 1").fetchone():
            # A first build writes the whole cache: without a journal it writes it once, not
            # twice (WAL, then the database). Marked as building until it is done, so one cut
            # short is started again; and only when no other connection has the cache open.
            c.execute("INSERT OR REPLACE INTO meta VALUES('building', '1')")
            try:  # another connection keeps the cache in WAL: never wait for it, build journaled
                c.execute("PRAGMA busy_timeout=0")
                unjournaled = c.execute("PRAGMA journal_mode=OFF").fetchone()[0] == "off"
            except sqlite3.OperationalError:
                unjournaled = False
            finally:
                c.execute("PRAGMA busy_timeout=60000")
            if not unjournaled:
                c.execute("DELETE FROM meta WHERE key='building'")
        c.execute("BEGIN IMMEDIATE")
        try:
            dead = 0
            for key in gone + stale:
                # The FTS5 index is contentless and the old text went with the old file, so its
                # rows are not deleted: they stay, dead (every search joins frags, which no
                # longer has them), until there are enough to build the index again.
                dead += c.execute("SELECT COUNT(*) FROM frags WHERE path=?", (key,)).fetchone()[0]
                c.execute("DELETE FROM links WHERE path=?", (key,))
                c.execute("DELETE FROM blobs WHERE rowid IN (SELECT rowid FROM frags WHERE path=?)", (key,))
                c.execute("DELETE FROM frags WHERE path=?", (key,))
                c.execute("DELETE FROM files WHERE path=?", (key,))
                c.execute("DELETE FROM seeds WHERE path=?", (key,))
                c.execute("DELETE FROM evidence WHERE path=?", (key,))
                self._sources.pop(key, None)
                self._seeded.pop(key, None)
            self._sources_complete = False
            # rowids are never reused: the FTS5 index may still hold a dead row's terms
            next_row = max(int(self._meta("next_row") or 1),
                           (c.execute("SELECT MAX(rowid) FROM frags").fetchone()[0] or 0) + 1)
            if bulk:  # a first build: large in-memory batches of terms, merged only when FTS5 must
                _fts_config(c, automerge=0, hashsize=64 * 1024 * 1024)
            for key, prepared in zip(stale, _prepare_all([Path(stats[k][0]) for k in stale], self.for_ingest), strict=True):
                _, mtime, ctime, size = stats[key]
                shown, source, problems, meeting, year, sfile, seeds, frags, fts, links, evidence = prepared
                c.execute(
                    "INSERT INTO files VALUES(?,?,?,?,?,?,?,?,?,?)",
                    (key, shown, mtime, ctime, size, source, problems, meeting, year, sfile),
                )
                if seeds:  # apart from files, which every command scans: a few KB a file that has them
                    c.execute("INSERT INTO seeds VALUES(?, ?)", (key, seeds))
                rowids = range(next_row, next_row + len(frags))
                next_row += len(frags)
                c.executemany(
                    "INSERT INTO frags(rowid, path, ord, id, line, kind, review, tags, at, nbytes, col, seeded, "
                    "label, chars, digest, tlen, profile) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(r, key, i, fid, line, kind, review, tags, *(where or (None, None, None, None)), label, chars,
                      digest, tlen, profile)
                     for i, (r, (fid, line, where, _, kind, review, tags, label, chars, digest, tlen, profile))
                     in enumerate(zip(rowids, frags, strict=True))],
                )
                c.executemany("INSERT INTO blobs VALUES(?, ?)",
                              [(r, row[3]) for r, row in zip(rowids, frags, strict=True) if row[3] is not None])
                c.executemany(
                    "INSERT INTO fts(rowid, heading, body, tags) VALUES(?,?,?,?)",
                    [(r, *row) for r, row in zip(rowids, fts, strict=True)],
                )
                c.executemany("INSERT INTO links VALUES(?, ?, ?)", [(key, a, b) for a, b in links])
                if evidence is not None:
                    c.execute("INSERT INTO evidence VALUES(?, ?, ?)", (key, *evidence))
            garbage = int(self._meta("garbage") or 0) + dead
            live = c.execute("SELECT COUNT(*) FROM frags").fetchone()[0]
            if garbage and garbage * GARBAGE_SHARE > live and self._rebuild_fts():
                garbage = 0
            if bulk:  # ('optimize' here cost 2.4 s of 8 on 100,000 fragments and searches were no faster)
                _fts_config(c, automerge=4, hashsize=1024 * 1024)  # FTS5's defaults, for later small changes
            c.executemany("INSERT OR REPLACE INTO meta VALUES(?, ?)",
                          [("next_row", str(next_row)), ("garbage", str(garbage))])
            dup = c.execute("SELECT 1 FROM frags GROUP BY id HAVING COUNT(*) > 1 LIMIT 1").fetchone()
            c.execute("INSERT OR REPLACE INTO meta VALUES('dups', ?)", ("1" if dup else "0",))
            c.execute("DELETE FROM ranked")  # ranked with the old files
            c.execute("COMMIT")
        except BaseException:
            if unjournaled:  # no journal, no rollback: the cache is only a cache
                c.close()
                _remove(self._path)
                self.conn = _open(self._path)
                raise
            c.execute("ROLLBACK")
            raise
        if unjournaled:
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("DELETE FROM meta WHERE key='building'")

    def _meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _rebuild_fts(self) -> bool:
        """Build the FTS5 index again from the live fragments (dropping the dead rows' terms).

        Inside :meth:`_sync`'s transaction; False (and nothing changed) when a file changed
        again meanwhile, so a later sync tries again.
        """
        c = self.conn
        c.execute("SAVEPOINT rebuild")
        c.execute("INSERT INTO fts(fts) VALUES('delete-all')")
        rows = c.execute(f"SELECT f.rowid, f.path, f.line, {_DATA} FROM frags f JOIN files s ON s.path = f.path "
                         "ORDER BY f.path, f.ord")
        batch = []
        for rowid, key, line, *data in rows:
            frag = self._load(key, line, data)
            if frag is None:
                c.execute("ROLLBACK TO rebuild")
                c.execute("RELEASE rebuild")
                return False
            batch.append(_fts_row(rowid, frag))
            if len(batch) >= 1000:
                c.executemany("INSERT INTO fts(rowid, heading, body, tags) VALUES(?,?,?,?)", batch)
                batch = []
        c.executemany("INSERT INTO fts(rowid, heading, body, tags) VALUES(?,?,?,?)", batch)
        c.execute("RELEASE rebuild")
        return True

    # ------------------------------------------------------------------ reading
    def _source(self, key: str) -> tuple[str, Source]:
        if key not in self._sources:
            row = self.conn.execute("SELECT shown, source FROM files WHERE path=?", (key,)).fetchone()
            self._sources[key] = (row[0], _source_from_json(row[1]))
        return self._sources[key]

    def _all_sources(self) -> None:
        if self._sources_complete:
            return
        for key, shown, source in self.conn.execute("SELECT path, shown, source FROM files"):
            if key not in self._sources:
                self._sources[key] = (shown, _source_from_json(source))
        self._sources_complete = True

    def _fragment(self, key: str, line: int, data: tuple[Any, ...]) -> Fragment:
        """The fragment of a row (``f.path, f.line, _DATA``), read from its file.

        When what stands there is not the fragment the row names (the file changed since
        the cache was checked, or the cache was tampered with), the file is indexed again
        and the fragment looked up again by id; failing that, the whole file is read.
        """
        frag = self._load(key, line, data)
        if frag is not None:
            return frag
        fid = data[0]
        self._resync(key)
        row = self.conn.execute(
            f"SELECT f.path, f.line, {_DATA} FROM frags f JOIN files s ON s.path = f.path "
            "WHERE f.id=? ORDER BY f.path, f.ord LIMIT 1", (fid,)).fetchone()
        if row is not None:
            frag = self._load(row[0], row[1], row[2:])
            if frag is not None:
                return frag
            for f in parse_library_file(Path(self._stats[row[0]][0])).fragments:
                if f.id == fid:
                    return f
        shown = display_path(Path(self._stats[key][0])) if key in self._stats else key
        raise_library_problems([f"{shown}: changed while it was being read (fragment '{fid}' "
                                "is no longer there) — run the command again"])
        raise AssertionError("unreachable")  # raise_library_problems raised

    def _load(self, key: str, line: int, data: Any) -> Fragment | None:
        """The fragment of a row, or None when its file is not as the cache recorded it."""
        fid, at, nbytes, col, seeded, blob, mtime, ctime, size = data
        if key not in self._stats:  # only the library's own files are ever read
            return None
        shown, source = self._source(key)
        if blob is not None:
            return fragment_from_dict(_unpack(blob), source, shown, line)
        if at is None or not isinstance(col, int) or not 0 <= col <= at:  # a column is never past its offset
            return None
        content = self._slice_bytes(key, (mtime, ctime, size), at, nbytes)
        if content is None:
            return None
        return fragment_at(content, Slice(0, nbytes, col, bool(seeded)), fid, source, shown, line,
                           self._seeds(key) if seeded else None)

    def _seeds(self, key: str) -> dict[str, Any] | None:
        """The anchors of file *key* that its fragments use from before them (see :func:`read_library_file`)."""
        if key not in self._seeded:
            if len(self._seeded) >= 8:  # a listing goes file by file: keep a few, not every file's
                self._seeded.clear()
            row = self.conn.execute("SELECT data FROM seeds WHERE path=?", (key,)).fetchone()
            try:
                seeds = json.loads(row[0]) if row and row[0] else None
            except ValueError:
                seeds = None
            self._seeded[key] = seeds if isinstance(seeds, dict) else None
        return self._seeded[key]

    def _whole_file(self, key: str, data: tuple[Any, ...]) -> dict[str, Any] | None:
        """The entries of library file *key* by id, read whole (cheaper than a slice each when
        many are listed), when it is as the cache recorded it (*data* of one of its rows); else None."""
        stat = tuple(data[6:9])
        if key not in self._stats or data[5] is not None:
            return None
        content = self._slice_bytes(key, stat, 0, stat[2])
        if content is None:
            return None
        try:
            parsed = _plain_yaml(content.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return None
        entries = parsed.get("fragments") if isinstance(parsed, dict) else None
        if not isinstance(entries, list):
            return None
        by_id: dict[str, Any] = {}
        for raw in entries:
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                by_id.setdefault(raw["id"], raw)
        return by_id

    def _slice_bytes(self, key: str, stat: tuple[int, int, int], at: int, size: int) -> bytes | None:
        """*size* bytes at *at* of library file *key*, when its mtime, ctime and size are *stat*; else None."""
        if not 0 <= at <= stat[2] or not 0 < size <= stat[2] - at:
            return None
        try:
            fd = os.open(key, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            if (st.st_mtime_ns, st.st_ctime_ns, st.st_size) != stat or not stat_module.S_ISREG(st.st_mode):
                return None
            if hasattr(os, "pread"):
                data = os.pread(fd, size, at)
            else:  # pragma: no cover - Windows
                os.lseek(fd, at, os.SEEK_SET)
                data = os.read(fd, size)
        except OSError:
            return None
        finally:
            os.close(fd)
        return data if len(data) == size else None

    def _resync(self, key: str) -> None:
        """Index *key* again (whatever its recorded stat says), and any other file that changed."""
        self.conn.execute("UPDATE files SET mtime_ns = -1 WHERE path=?", (key,))
        with _building(self._path):
            self.refresh()

    def _rows(self, filters: Filters | None, limit: int | None = None, offset: int = 0) -> Iterator[Fragment]:
        # In batches, each query read to its end before its fragments are: reading one may
        # index a changed file again, which must not happen under an open query.
        where, params = _where(filters)
        after: tuple[str, int] | None = None  # (path, ord) of the last row read
        left = limit
        while left is None or left > 0:
            n = ROWS_AT_ONCE if left is None else min(ROWS_AT_ONCE, left)
            rows = self.conn.execute(
                f"SELECT f.path, f.ord, f.line, {_DATA} FROM frags f JOIN files s ON s.path = f.path "
                f"WHERE {where}{' AND (f.path, f.ord) > (?, ?)' if after else ''} "
                "ORDER BY f.path, f.ord LIMIT ? OFFSET ?",
                [*params, *(after or ()), n, 0 if after else offset],
            ).fetchall()
            start = 0
            while start < len(rows):  # rows of one file at a time
                key = rows[start][0]
                end = start + 1
                while end < len(rows) and rows[end][0] == key:
                    end += 1
                whole = self._whole_file(key, rows[start][3:]) if end - start >= WHOLE_FILE_FROM else None
                for row in rows[start:end]:
                    raw = whole.get(row[3]) if whole is not None else None
                    if raw is not None:
                        shown, source = self._source(key)
                        yield fragment_from_dict(raw, source, shown, row[2])
                    else:
                        yield self._fragment(row[0], row[2], row[3:])
                start = end
            if len(rows) < n:
                return
            after = (rows[-1][0], rows[-1][1])
            if left is not None:
                left -= n

    def _all(self, filters: Filters | None = None) -> Iterator[Fragment]:
        return self._rows(filters)

    def library(self) -> Library:
        """Every fragment, in file order."""
        return Library(self._all(), self.dirs)

    def get(self, fid: str) -> Fragment:
        """The fragment with id *fid*, read by its key; a did-you-mean error otherwise.

        Never loads the library: a mistyped id is compared only with the ids sharing its
        longest known prefix (at most :data:`DID_YOU_MEAN_CANDIDATES`).
        """
        row = self.conn.execute(
            f"SELECT f.path, f.line, {_DATA} FROM frags f JOIN files s ON s.path = f.path "
            "WHERE f.id=? ORDER BY f.path, f.ord LIMIT 1", (fid,)
        ).fetchone()
        if row is None:
            hint = did_you_mean(fid, self._near_ids(fid)) or " — run 'speechgen fragments list' to see the ids"
            raise SpeechgenError(f"unknown fragment id '{fid}'{hint}")
        return self._fragment(row[0], row[1], row[2:])

    def file_of(self, path: Path) -> Path | None:
        """The library file that *path* is (the same device and inode, whichever links lead
        to it), as the walk that checked the cache found it; None when it is none of them.
        compose refuses to write its draft over one: one stat, not one a library file."""
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            return None
        found = self._inodes.get((st.st_dev, st.st_ino))
        return Path(found) if found is not None else None

    def has(self, fid: str) -> bool:
        """True when *fid* is in the library."""
        return self.conn.execute("SELECT 1 FROM frags WHERE id=? LIMIT 1", (fid,)).fetchone() is not None

    def _near_ids(self, fid: str) -> list[str]:
        """Ids sharing the longest prefix of *fid* that any id has (through the id index)."""
        return near_ids(fid, self._with_prefix)

    def _with_prefix(self, prefix: str, limit: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT DISTINCT id FROM frags WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return [r[0] for r in rows]

    def variants_of(self, frag: Fragment) -> list[Fragment]:
        """Every fragment in *frag*'s family of near-duplicates (as :meth:`Library.variants_of`)."""
        seen = {frag.id}
        todo = [frag.id]
        while todo:
            for (nxt,) in self.conn.execute("SELECT b FROM links WHERE a=?", (todo.pop(),)):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        seen.discard(frag.id)
        if not seen:
            return []
        marks = ",".join("?" * len(seen))
        rows = self.conn.execute(
            f"SELECT f.path, f.line, {_DATA} FROM frags f JOIN files s ON s.path = f.path "
            f"WHERE f.id IN ({marks}) ORDER BY f.path, f.ord", list(seen)
        )
        return [self._fragment(r[0], r[1], r[2:]) for r in rows.fetchall()]

    def select(self, filters: Filters) -> list[Fragment]:
        """Fragments passing *filters*, in file order; the filtering happens in SQLite."""
        return list(self._all(filters))

    def heads(self, filters: Filters) -> list[Head]:
        """Id, path, tags and source of the fragments passing *filters*, in file order.

        Read from the indexed columns: no fragment's data is unpacked.
        """
        where, params = _where(filters)
        rows = self.conn.execute(
            "SELECT f.id, f.path, f.tags FROM frags f JOIN files s ON s.path = f.path "
            f"WHERE {where} ORDER BY f.path, f.ord",
            params,
        )
        if not filters.paths:  # heads of every file: every source in one query, not one query each
            self._all_sources()
        heads: list[Head] = []
        add = heads.append
        last, shown, source = None, "", Source()
        for fid, key, tags in rows:  # in path order: one source lookup a file
            if key != last:
                last = key
                shown, source = self._source(key)
            add(Head(fid, shown, tuple(tags[1:-1].split(_SEP)) if len(tags) > 2 else (), source))
        return heads

    def facets(self, tags: int = 200) -> dict[str, list[Any]]:
        """The values the library's filters can take (see :mod:`speechgen.library.facets`),
        from the indexed columns: no fragment's data is unpacked."""
        from speechgen.library.facets import facet_lists

        sources = self.conn.execute(
            "SELECT DISTINCT s.meeting, s.year, s.sfile FROM files s WHERE EXISTS (SELECT 1 FROM frags f WHERE f.path = s.path)"
        ).fetchall()
        counts: dict[str, int] = {}
        for (text,) in self.conn.execute("SELECT tags FROM frags WHERE length(tags) > 2"):
            for t in text[1:-1].split(_SEP):
                counts[t] = counts.get(t, 0) + 1
        return facet_lists(sources, counts, tags)

    def page(self, filters: Filters, limit: int | None = None, offset: int = 0) -> Iterator[Fragment]:
        """Fragments passing *filters*, in file order, from *offset* on, at most *limit*; read as they go."""
        return self._rows(filters, limit, offset)

    def rows(self, filters: Filters, limit: int | None = None, offset: int = 0) -> list[Row]:
        """The :class:`Row` of each fragment :meth:`page` would give, from the indexed columns
        (label and size are stored when a file is indexed): no file is read."""
        where, params = _where(filters)
        found = self.conn.execute(
            "SELECT f.id, f.kind, f.label, f.chars, f.review, f.tags, s.sfile, s.shown "
            f"FROM frags f JOIN files s ON s.path = f.path WHERE {where} ORDER BY f.path, f.ord LIMIT ? OFFSET ?",
            [*params, -1 if limit is None else limit, offset],
        ).fetchall()
        return [Row(fid, kind, label, chars, bool(review), tuple(tags[1:-1].split(_SEP)) if len(tags) > 2 else (),
                    sfile or shown)
                for fid, kind, label, chars, review, tags, sfile, shown in found]

    def count(self, filters: Filters) -> int:
        """How many fragments pass *filters*."""
        where, params = _where(filters)
        row = self.conn.execute(
            f"SELECT COUNT(*) FROM frags f JOIN files s ON s.path = f.path WHERE {where}", params
        ).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ what ingest reads
    def anchor_evidence(self, skip: set[str]) -> dict[str, list[tuple[str, str]]]:
        """Per source file, in library order, the anchor evidence of its fragments that ingest
        did not restore (:func:`~speechgen.library.evidence.anchor_evidence`, in fragment
        order): what the name restorer learns from. Sources named in *skip* are left out, and
        so are sources whose fragments are all restored (they are not in ingest's corpus)."""
        rows = {path: (sfile, plain, data) for path, sfile, plain, data in self.conn.execute(
            "SELECT s.path, s.sfile, e.plain, e.data FROM files s JOIN evidence e ON e.path = s.path")}
        out: dict[str, list[tuple[str, str]]] = {}
        for key in self._stats:  # library order
            sfile, plain, data = rows.get(key, ("", 0, "[]"))
            if sfile and sfile not in skip and plain:
                out.setdefault(sfile, []).extend((a, b) for a, b in json.loads(data))
        return out

    _VROW = "f.rowid, f.path, f.ord, f.id, f.kind, f.digest, s.sfile FROM frags f JOIN files s ON s.path = f.path"

    def texts_of_kinds(self, kinds: list[str]) -> dict[str, list[tuple[bytes, int, bytes | None]]]:
        """For each of *kinds*, (digest, length, character profile) of each distinct text of its
        fragments (:mod:`speechgen.library.evidence`), shortest first: one pass over the fragments."""
        out: dict[str, list[tuple[bytes, int, bytes | None]]] = {k: [] for k in kinds}
        rows = self.conn.execute(
            f"SELECT kind, digest, MIN(tlen), MIN(profile) FROM frags WHERE kind IN ({','.join('?' * len(kinds))}) "
            "GROUP BY kind, digest ORDER BY 3", kinds)
        for kind, digest, tlen, profile in rows:
            out[kind].append((digest, tlen, profile))
        return out

    def _in(self, sql: str, values: list[Any]) -> list[Any]:
        """The rows of *sql* (its ``IN ({})`` filled with placeholders) for all *values*, 500 at a
        time (SQLite's limit on a statement's parameters); fetched whole before returning."""
        out: list[Any] = []
        for i in range(0, len(values), 500):
            part = values[i : i + 500]
            out += self.conn.execute(sql.format(",".join("?" * len(part))), part).fetchall()
        return out

    def rows_with(self, column: str, values: list[Any]) -> list[tuple[Any, ...]]:
        """(rowid, path, ord, id, kind, digest, source file) of the fragments whose *column*
        (``digest`` or ``id``) is one of *values*."""
        assert column in ("digest", "id")
        return self._in(f"SELECT {self._VROW} WHERE f.{column} IN ({{}})", values)

    def links_of(self, ids: list[str]) -> list[tuple[str, str, str]]:
        """(file key, a, b) of the recorded variant links from each of *ids* (both ways are recorded)."""
        return self._in("SELECT path, a, b FROM links WHERE a IN ({})", ids)

    def by_rowid(self, rowids: list[int]) -> dict[int, Fragment]:
        """The fragments of these rows, read from their files."""
        rows = self._in(f"SELECT f.rowid, f.path, f.line, {_DATA} FROM frags f JOIN files s ON s.path = f.path "
                        "WHERE f.rowid IN ({})", rowids)
        # read after the queries ended: reading one may index its file again
        return {row[0]: self._fragment(row[1], row[2], row[3:]) for row in rows}

    # ------------------------------------------------------------------ search
    def _ranked(self, sql: str, params: list[Any]) -> list[tuple[int, float]]:
        """The (rowid, rank) rows of a ranking query, remembered until a library file changes.

        FTS5 scores every match before the best are kept (tens of thousands for a common
        word in a large library); a query asked again (compose after check, a writer
        refining a brief) reads the ranking back instead.
        """
        key = json.dumps([sql, params], ensure_ascii=False)
        row = self.conn.execute("SELECT rows FROM ranked WHERE key=?", (key,)).fetchone()
        if row is not None:
            return [(int(r), float(s)) for r, s in json.loads(row[0])]
        ranked = [(int(r), float(s)) for r, s in self.conn.execute(sql, params)]
        try:  # only a cache: never wait for another process's write lock, never fail for it
            self.conn.execute("PRAGMA busy_timeout=0")
            self.conn.execute("INSERT OR REPLACE INTO ranked(key, rows) VALUES(?, ?)", (key, json.dumps(ranked)))
            self.conn.execute("DELETE FROM ranked WHERE n <= (SELECT MAX(n) FROM ranked) - ?", (RANKED_KEPT,))
        except sqlite3.Error:
            pass
        finally:
            self.conn.execute("PRAGMA busy_timeout=60000")
        return ranked

    def query_tokens(self, query: str) -> list[str]:
        """The words of *query* as search sees them (for marking them in snippets)."""
        return query_words(query)

    def search(self, query: str, filters: Filters | None = None, limit: int = 10) -> list[Hit]:
        """Fragments ranked by BM25 over character bigrams (heading first); exact phrases first.

        First the fragments holding every word of the query as written; when they are
        fewer than *limit*, those holding any word whole; when none holds a word whole,
        those holding a third of the query's bigrams (checked on the candidates FTS5 ranks
        best, as FTS5 has no minimum-should-match).
        """
        plan = query_plan(query)
        if not plan:
            return []
        phrase = "".join(query.split())
        bigrams = {t for p in plan for t in p if len(t) == 2}
        need = -(-len(bigrams) // 3)  # Lucene's minimum-should-match: 基层 finds 基层减负

        def phrases(_text: str) -> bool:
            return True  # FTS5 matched the phrases themselves

        def third(text: str) -> bool:
            return sum(b in text for b in bigrams) >= need

        tiers: list[tuple[str, Callable[[str], bool]]] = [(fts5_phrase_query(plan), phrases)]
        if len(plan) > 1:
            tiers.append((" OR ".join(fts5_phrase_query([p]) for p in plan), phrases))
        tiers.append((fts5_any_query(plan), third))
        where, params = _where(filters)
        hits: dict[int, Hit] = {}
        for tier, (expr, keep) in enumerate(tiers):
            if len(hits) >= limit or (tier == len(tiers) - 1 and (hits or len(bigrams) < 2)):
                break
            ranked = self._ranked(  # the data of only the rows unpacked is read, below
                f"SELECT f.rowid, bm25(fts, {_WEIGHTS}) FROM fts "
                "JOIN frags f ON f.rowid = fts.rowid JOIN files s ON s.path = f.path "
                f"WHERE fts MATCH ? AND {where} ORDER BY bm25(fts, {_WEIGHTS}) LIMIT ?",
                [expr, *params, max(limit * 20, 200)],
            )
            # Rows come best score first; a row holding the query as typed ("exact") goes
            # before any that does not, then by score, then by rowid. Once `wanted` exact rows
            # are found, a row can reach the top only ahead of the worst of them: a lower
            # score cannot (and ends the scan), an equal score only with a smaller rowid
            # (copies of one text tie). Such rows are not unpacked.
            wanted = limit - len(hits)
            best: list[tuple[float, int]] = []  # (-score, rowid) of exact rows, best first
            found = []
            for rowid, rank in ranked:
                score = -float(rank)
                if len(best) >= wanted and self.early_stop:
                    worst = best[wanted - 1]
                    if -round(score, 9) > worst[0]:
                        break
                    if (-round(score, 9), rowid) > worst:
                        continue
                if rowid in hits:
                    continue
                row = self.conn.execute(f"SELECT f.path, f.line, {_DATA} FROM frags f "
                                        "JOIN files s ON s.path = f.path WHERE f.rowid=?", (rowid,)).fetchone()
                if row is None:  # its file was indexed again meanwhile (it changed under this search)
                    continue
                frag = self._fragment(row[0], row[1], row[2:])
                if keep("\n".join(fragment_fields(frag)).lower()):
                    found.append((Hit(frag, score), rowid))
                    if phrase in frag.full_text:
                        bisect.insort(best, (-round(score, 9), rowid))
            # ties (copies of one text) in library order
            found.sort(key=lambda t: (phrase not in t[0].fragment.full_text, -round(t[0].score, 9), t[1]))
            for hit, rowid in found:
                hits.setdefault(rowid, hit)
        return list(hits.values())[:limit]


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
    if filters.paths:
        # through the files' keys, so the frags_path index finds their rows (not a scan of every row)
        sql.append(f"f.path IN (SELECT path FROM files WHERE shown IN ({','.join('?' * len(filters.paths))}))")
        params += list(filters.paths)
    return " AND ".join(sql) or "1", params
