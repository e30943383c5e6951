"""Fragment files ↔ the database: ``db import``, ``db export``, ``ingest --database``, edits.

* **import** validates every file first-to-last and writes nothing unless all are valid;
  the whole import is one transaction (a kill -9 or a dropped connection leaves the
  database as it was). A file whose text is unchanged since the last import is skipped,
  so importing twice changes nothing. Rows go in with COPY.
* **export** writes each source back as ingest writes it: its leading comments, then
  :func:`speechgen.ingest.pipeline.dump` of the mapping as read — the same bytes.
* **ingest --database** exports the collection to a temporary folder, runs the ordinary
  ingest there (so evidence, variants and "exists and differs" work as with folders) and
  imports only the files ingest wrote.
* **edit** replaces one fragment if its version is still the one the writer read.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechgen.errors import SpeechgenError
from speechgen.library.files import (
    check_fragment,
    find_library_files,
    parse_library_text,
    raise_library_problems,
)
from speechgen.library.postgres import (
    DatabaseError,
    connect,
    db_errors,
    dump_json,
    entry_links,
    fragment_tsvector_binary,
    library_changed,
    load_json,
    mask_url,
    raw_tsvector,
    schema_problem,
    shown_path,
)
from speechgen.userfiles import display_path

#: Files parsed, tokenised and copied at a time, at most (bounds memory on a large import) …
BATCH = 200
#: … and at most about this many bytes of YAML: a batch in flight holds each fragment's
#: entry JSON and tsvector text, about 3x the YAML, and two batches are held at once (the
#: one written and the one parsed meanwhile). 200 files of 146 KB made a 100,000-fragment
#: import peak at 643 MB; 8 MB batches at 232–237 MB, as fast (docs/performance.md).
BATCH_BYTES = 8 << 20


@dataclass
class ImportReport:
    """What ``db import`` did."""

    collection: str
    files: int = 0
    imported: int = 0
    unchanged: int = 0
    fragments: int = 0
    seconds: float = 0.0
    paths: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return dict(self.__dict__)


def _json(value: Any) -> str:
    return dump_json(value)


def _header(text: str) -> str:
    """The leading comment lines of a file, as written."""
    out = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("#"):
            break
        out.append(line)
    return "".join(out)


def _open(url: str) -> Any:
    conn = connect(url)
    with db_errors(url, "opening the database"):
        problem = schema_problem(conn)
        conn.rollback()
    if problem:
        conn.close()
        raise DatabaseError(f"database {mask_url(url)}: {problem}")
    return conn


def collection_name(name: str) -> str:
    """*name* if it can name a collection, that is serve as a folder name (``ingest --database``
    and ``db export`` make folders of it); else a SpeechgenError saying what to use."""
    if name in ("", ".", "..") or any(ch in name for ch in "/\\") or not name.isprintable() or len(name) > 200:
        raise SpeechgenError(f"collection name {name!r}: it must serve as a folder name (at most 200 characters, "
                             "no '/' or '\\', not '.' or '..', no control characters), such as 办公室 or office — "
                             "give another with --collection NAME")
    return name


def _collection(conn: Any, name: str, read_only: bool | None) -> None:
    """Make sure collection *name* exists and may be written; set its flag when given."""
    conn.execute("INSERT INTO collections(name) VALUES (%s) ON CONFLICT DO NOTHING", (name,))
    ro = conn.execute("SELECT read_only FROM collections WHERE name = %s FOR UPDATE", (name,)).fetchone()[0]
    if read_only is None and ro:
        raise DatabaseError(
            f"collection '{name}' is read-only — import into it with --read-only (admins updating a "
            "shared collection), or run 'speechgen db collection {name} --writable' first".replace("{name}", name)
        )
    if read_only is not None and read_only != ro:
        conn.execute("UPDATE collections SET read_only = %s WHERE name = %s", (read_only, name))


def import_dir(
    url: str,
    folder: Path,
    collection: str | None = None,
    *,
    read_only: bool | None = None,
    only: Iterable[Path] | None = None,
    prune: bool = False,
    workers: int | None = None,
) -> ImportReport:
    """Import the fragment files under *folder* into *collection* (default: the folder's name).

    Files are read, validated and cut into search terms by a pool of processes (large
    imports) in file order, and go into the database in batches by COPY, all in one
    transaction.

    Args:
        only: import just these files of *folder* (ingest --database: what it wrote).
        read_only: set the collection read-only (True) or writable (False); None keeps it
            and refuses a read-only collection.
        prune: also remove from the collection the sources whose file is no longer in
            *folder* (the folder is the whole collection); not with *only*.
        workers: processes that parse files (default: one a core, none for a few files).

    Raises:
        LibraryError: listing every problem in the files (nothing is written).
        DatabaseError: the database refused or dropped (nothing is written).
    """
    start = time.perf_counter()
    name = collection_name(collection or folder.resolve().name)
    if prune and only is not None:
        raise SpeechgenError("--prune removes what is not in the folder: it needs the whole folder, not some files")
    files = list(only) if only is not None else find_library_files([folder])
    report = ImportReport(name, files=len(files))
    base = (folder if folder.is_dir() else folder.parent).resolve()
    rels = [p.resolve().relative_to(base).as_posix() for p in files]
    pool = _pool(len(files), workers)  # before connecting: forked workers never hold the connection
    conn = None
    try:
        conn = _open(url)
        with db_errors(url, f"importing {display_path(folder)}"), conn.transaction():
            conn.execute("SET LOCAL work_mem = '64MB'")  # the GIN index takes its new entries in bulk
            _collection(conn, name, read_only)
            known = dict(conn.execute("SELECT path, sha FROM sources WHERE collection = %s", (name,)).fetchall())
            jobs = [(p, rel, known.get(rel)) for p, rel in zip(files, rels, strict=True)]
            bulk = _bulk_start(conn, sum(rel not in known for rel in rels))
            alone = False
            if bulk:  # no one else writes fragments until this import ends (its DROP INDEX
                # locked the table already); when the table is empty too, no id of the import
                # can be in the database but those the import itself brings
                conn.execute("LOCK TABLE fragments IN EXCLUSIVE MODE")
                alone = bool(conn.execute("SELECT NOT EXISTS (SELECT 1 FROM fragments)").fetchone()[0])
            problems: list[str] = []
            seen = _Seen()
            for parsed in _parsed_batches(pool, jobs):
                batch = [item for item in parsed if not item.unchanged]
                report.unchanged += len(parsed) - len(batch)
                if batch:
                    problems += _import_batch(conn, name, batch, seen, report, known, alone)
            if problems:
                raise_library_problems(problems)  # rolls the transaction back
            if bulk:
                _bulk_end(conn)
            if prune:
                gone = conn.execute(
                    "DELETE FROM sources WHERE collection = %s AND NOT (path = ANY(%s)) RETURNING path",
                    (name, rels),
                ).fetchall()
                report.pruned = sorted(r[0] for r in gone)
            if report.imported or report.pruned:
                library_changed(conn)  # last: its row lock lasts while the import commits
        if bulk:
            if pool:
                pool.terminate()
                pool = None
            _after_bulk(url, conn)
    finally:
        if pool:
            pool.terminate()
        if conn is not None:
            conn.close()
    report.seconds = time.perf_counter() - start
    return report


#: A bulk import brings at least this many new files, and at least as many as the database
#: holds: its rows go in without the search and kind indexes, which are built again at the end.
BULK_FILES = 100
#: The indexes a bulk import drops and builds again (name, definition).
_BULK_INDEXES = (
    ("fragments_tsv", "fragments USING gin(tsv)"),
    ("fragments_kind", "fragments(kind)"),
    ("fragments_kind_source", "fragments(kind, source_id, ord)"),
)


def _bulk_start(conn: Any, new_files: int) -> bool:
    """Drop the search and kind indexes when *new_files* at least doubles the library.

    Building a GIN index once over every row is several times faster than keeping it up
    row by row. The drop is part of the import's transaction: an import that fails or is
    killed leaves the indexes as they were. Until the import commits, others wait for the
    fragments table (a first import, before the office uses the database, is the case).
    """
    if new_files < BULK_FILES:
        return False
    if new_files < conn.execute("SELECT count(*) FROM sources").fetchone()[0]:
        return False
    for index, _ in _BULK_INDEXES:
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    return True


def _bulk_end(conn: Any) -> None:
    """Build the indexes :func:`_bulk_start` dropped (same names and definitions). Building
    one also gives the planner each partition's row and page counts; the columns'
    statistics come after the commit (:func:`_after_bulk`)."""
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")  # the GIN build sorts in memory
    for index, definition in _BULK_INDEXES:
        conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {definition}")


def _after_bulk(url: str, conn: Any) -> None:
    """After a bulk import committed: each partition of the fragments VACUUMed and ANALYZEd
    (its pages marked all-visible, so a count by kind reads the index alone instead of every
    row the import wrote; the planner's statistics of the new rows), and the sources
    ANALYZEd. Not the rows' TOASTed texts, which autovacuum gets to.

    On two connections at once, half the partitions each: by now the import's processes are
    done and the server's work would leave a core idle (at 1,000,000 fragments ANALYZE alone
    took 12.9 s in one statement, 5.9 s in two). Not the partitioned table's own statistics
    (``ANALYZE fragments`` makes those by sampling every partition again, 3 s more at
    1,000,000): searches and lists plan the same without them (docs/performance.md).

    Outside the import's transaction: a failure here leaves a complete import, and is not
    reported as a failed one (autovacuum does the same later: its count of rows changed
    since the last ANALYZE includes the import's).
    """
    import contextlib
    import threading

    from speechgen.db.schema import partition_names

    how = "VACUUM (ANALYZE, PROCESS_TOAST FALSE)" if conn.info.server_version >= 140000 else "VACUUM (ANALYZE)"

    def run(c: Any, statements: list[str]) -> None:
        with contextlib.suppress(DatabaseError), db_errors(url, "vacuuming after the import"):
            c.autocommit = True
            for statement in statements:
                c.execute(statement)

    parts = ["fragments"]  # (the whole table, if its partitions cannot be listed)
    with contextlib.suppress(DatabaseError), db_errors(url, "vacuuming after the import"):
        conn.autocommit = True
        parts = partition_names(conn, "fragments") or parts
    statements = [f"{how} {part}" for part in parts] + ["ANALYZE sources"]
    other = None
    with contextlib.suppress(DatabaseError):
        other = _open(url)
    if other is None:  # no second connection (the server's limit): all of it on this one
        run(conn, statements)
        return
    try:
        helper = threading.Thread(target=run, args=(other, statements[1::2]), daemon=True)
        helper.start()
        run(conn, statements[0::2])
        helper.join()
    finally:
        other.close()


def _parsed_batches(pool: Any, jobs: list[tuple[Path, str, str | None]]) -> Iterator[list[_Parsed]]:
    """The files of *jobs* parsed a batch at a time (:data:`BATCH` files, about :data:`BATCH_BYTES`
    of YAML; a larger file is a batch of its own), in order. With a pool the next batch is
    parsed while the caller writes this one; no more than that is held in memory."""
    chunks: list[list[tuple[Path, str, str | None]]] = []
    size = 0
    for job in jobs:
        try:
            nbytes = job[0].stat().st_size
        except OSError:  # reading it says what is wrong
            nbytes = 0
        if not chunks or size + nbytes > BATCH_BYTES or len(chunks[-1]) >= BATCH:
            chunks.append([])
            size = 0
        chunks[-1].append(job)
        size += nbytes
    if pool is None:
        for chunk in chunks:
            yield [_parse_file(job) for job in chunk]
        return
    ahead = pool.map_async(_parse_file, chunks[0], chunksize=4) if chunks else None
    for k in range(len(chunks)):
        assert ahead is not None
        done = ahead.get()
        ahead = pool.map_async(_parse_file, chunks[k + 1], chunksize=4) if k + 1 < len(chunks) else None
        yield done


#: Below this many files the import parses them itself (a pool costs more than it saves).
POOL_FROM = 40


def _pool(files: int, workers: int | None) -> Any:
    import multiprocessing
    import os

    n = workers if workers is not None else min(os.cpu_count() or 1, 4)
    if n < 2 or files < POOL_FROM:
        return None
    try:
        return multiprocessing.get_context("fork").Pool(n, initializer=_die_with_parent)
    except (ValueError, OSError):  # no fork (or no processes) here: parse in this process
        return None


def _die_with_parent() -> None:
    """A worker ends when the import does, even a killed one (kill -9 leaves no stray parsers)."""
    import contextlib
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)


@dataclass
class _Parsed:
    """One file, read and validated, as the rows it becomes (what a worker sends back)."""

    path: Path
    rel: str
    sha: str = ""
    unchanged: bool = False
    shown: str = ""  # the file as messages name it
    header: str = ""
    top: str = ""
    meeting: str = ""
    year: int | None = None
    sfile: str = ""
    problems: list[str] = field(default_factory=list)
    ok: bool = False
    #: (id, "path:line", line, kind, review, tags, entry JSON, tsvector text, variant links)
    frags: list[tuple[Any, ...]] = field(default_factory=list)


def _parse_file(job: tuple[Path, str, str | None]) -> _Parsed:
    path, rel, known = job
    data = path.read_bytes()
    out = _Parsed(path, rel, hashlib.sha256(data).hexdigest())
    if out.sha == known:
        out.unchanged = True
        return out
    shown = out.shown = display_path(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        out.problems.append(f"{shown}: not UTF-8 text — save it as UTF-8")
        return out
    lf, raw = parse_library_text(text, shown)
    out.problems = list(lf.problems)
    if not isinstance(raw, dict) or not isinstance(raw.get("fragments"), list):
        return out
    out.ok = True
    out.header = _header(text)
    out.top = _json({k: (None if k == "fragments" else v) for k, v in raw.items()})
    out.meeting, out.year, out.sfile = lf.source.meeting, lf.source.year, lf.source.file
    entries = {str(e.get("id")): e for e in raw["fragments"] if isinstance(e, dict)}
    for frag in lf.fragments:
        out.frags.append((frag.id, f"{frag.path}:{frag.line}", frag.line, frag.kind, frag.review, list(frag.tags),
                          _json(entries[frag.id]), fragment_tsvector_binary(frag), entry_links(frag.id, entries[frag.id])))
    return out


#: Binary COPY (PostgreSQL's ``COPY … (FORMAT BINARY)``): the signature, no flags, no header
#: extension; a row's field count; the end of the data.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_TEXT_OID = 25
_ROW_HEAD = struct.Struct(">hi")  # the number of fields, the first field's length
_NUMBERS = struct.Struct(">iqiiii")  # source_id bigint, ord int, line int (each with its length)
_INT = struct.Struct(">ii")
_BOOL = (b"\x00\x00\x00\x01\x00", b"\x00\x00\x00\x01\x01")
_EMPTY_ARRAY = struct.pack(">iiiI", 12, 0, 0, _TEXT_OID)
_ARRAY_HEAD = struct.Struct(">iiiIii")  # size, 1 dimension, no NULLs, text, elements, lower bound 1
_LENGTH = struct.Struct(">i")


def _binary_text(value: str) -> bytes:
    b = value.encode("utf-8")
    return _LENGTH.pack(len(b)) + b


def _binary_array(values: list[str]) -> bytes:
    """A text[] value of binary COPY (``array_recv``'s format: one dimension, no NULLs)."""
    if not values:
        return _EMPTY_ARRAY
    elems = b"".join(map(_binary_text, values))
    return _ARRAY_HEAD.pack(20 + len(elems), 1, 0, _TEXT_OID, len(values), 1) + elems


def _binary_row(row: tuple[Any, ...]) -> bytes:
    """One fragments row of binary COPY, in the COPY's column order. Binary because the
    tsvector comes made (:func:`~speechgen.library.postgres.tsvector_binary`): the server
    copies it in instead of parsing, sorting and merging tsvector text."""
    fid, sid, ord_, line, kind, review, tags, js, version, tsv, links = row
    b = fid.encode("utf-8")
    return b"".join((_ROW_HEAD.pack(11, len(b)), b, _NUMBERS.pack(8, sid, 4, ord_, 4, line), _binary_text(kind),
                     _BOOL[bool(review)], _binary_array(tags), _binary_text(js), _INT.pack(4, version),
                     _LENGTH.pack(len(tsv)), tsv, _binary_array(links)))


class _Seen:
    """Where each fragment id of an import was first met, kept small: a million ids at
    "file:line" strings each were a fifth of a large import's memory."""

    def __init__(self) -> None:
        self.at: dict[str, int] = {}  # id → file number << 32 | line
        self.files: list[str] = []  # the files met, as messages show them

    def __contains__(self, fid: str) -> bool:
        return fid in self.at

    def add(self, fid: str, shown: str, line: int) -> None:
        if not self.files or self.files[-1] != shown:
            self.files.append(shown)
        self.at[fid] = (len(self.files) - 1) << 32 | line

    def where(self, fid: str) -> str:
        """``file:line`` of *fid*'s first definition."""
        at = self.at[fid]
        return f"{self.files[at >> 32]}:{at & 0xFFFFFFFF}"


def _import_batch(conn: Any, collection: str, batch: list[_Parsed], seen: _Seen,
                  report: ImportReport, known: dict[str, str], alone: bool = False) -> list[str]:
    """Write *batch* into *collection*, replacing what its files held before.

    Args:
        known: the collection's files (path → sha) when the import began: only those hold
            fragments to replace (and whose versions to carry on).
        alone: the fragments table was empty and is locked by this import, so no id of the
            batch can be in the database but those :class:`_Seen` already knows.
    """
    problems: list[str] = []
    rows: list[tuple[Any, ...]] = []
    olds: dict[str, tuple[str, int]] = {}
    rels = [item.rel for item in batch if item.rel in known]
    if rels:
        for fid, data, version in conn.execute(
            "SELECT f.id, f.data, f.version FROM fragments f JOIN sources s ON s.id = f.source_id "
            "WHERE s.collection = %s AND s.path = ANY(%s)", (collection, rels)
        ):
            olds[fid] = (data, version)
        conn.execute(
            "DELETE FROM fragments f USING sources s WHERE s.id = f.source_id AND s.collection = %s "
            "AND s.path = ANY(%s)", (collection, rels),
        )
        conn.execute(
            "DELETE FROM source_counts c USING sources s WHERE s.id = c.source_id AND s.collection = %s "
            "AND s.path = ANY(%s)", (collection, rels),
        )
    for item in batch:
        problems += item.problems
        if not item.ok:
            continue
        sid = conn.execute(
            "INSERT INTO sources(collection, path, header, source, meeting, year, sfile, sha) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (collection, path) DO UPDATE SET "
            "header = EXCLUDED.header, source = EXCLUDED.source, meeting = EXCLUDED.meeting, "
            "year = EXCLUDED.year, sfile = EXCLUDED.sfile, sha = EXCLUDED.sha RETURNING id",
            (collection, item.rel, item.header, item.top, item.meeting, item.year, item.sfile, item.sha),
        ).fetchone()[0]
        for ord_, (fid, where, line, kind, review, tags, js, tsv, links) in enumerate(item.frags):
            if fid in seen:
                problems.append(f"{where}: duplicate id '{fid}' (first defined at {seen.where(fid)}) — rename one of them")
                continue
            seen.add(fid, item.shown, line)
            old = olds.get(fid)
            version = 1 if old is None else old[1] + (old[0] != js)
            rows.append((fid, sid, ord_, line, kind, review, tags, js, version, tsv, links))
        report.imported += 1
        report.paths.append(item.rel)
    if rows and not alone:
        for fid, coll, path in conn.execute(
            "SELECT f.id, s.collection, s.path FROM fragments f JOIN sources s ON s.id = f.source_id "
            "WHERE f.id = ANY(%s)", ([r[0] for r in rows],),
        ):
            problems.append(f"{seen.where(fid)}: duplicate id '{fid}' (already in the database at "
                            f"{shown_path(coll, path)}) — rename one of them")
    if problems:
        return problems
    # straight into the table: each tsvector comes made (tsvector_binary, what speechgen_tsv()
    # would make of the fields' terms), so the server only copies it in
    with conn.cursor().copy(
        "COPY fragments(id, source_id, ord, line, kind, review, tags, data, version, tsv, variants) "
        "FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.write(_COPY_SIGNATURE)
        for i in range(0, len(rows), 1000):
            copy.write(b"".join(map(_binary_row, rows[i : i + 1000])))
        copy.write(_COPY_TRAILER)
    # how many of each kind each source now holds (fragments list counts with them)
    counts = Counter((r[1], r[4], bool(r[5])) for r in rows)
    if counts:
        with conn.cursor().copy("COPY source_counts(source_id, kind, review, n) FROM STDIN") as copy:
            for key, n in counts.items():
                copy.write_row((*key, n))
    report.fragments += len(rows)
    return problems


# --------------------------------------------------------------------------- export


def export_dir(url: str, out: Path, collections: list[str] | None = None) -> list[Path]:
    """Write every source (of *collections*) as a fragment file under *out*.

    With exactly one collection named, its files go straight into *out*; otherwise each
    collection gets its own folder ``out/<collection>/``. Reads one snapshot.
    """
    conn = _open(url)
    flat = bool(collections) and len(collections or []) == 1
    try:
        with db_errors(url, "exporting"):
            conn.isolation_level = _isolation()
            conn.read_only = True
            where, params = ("WHERE s.collection = ANY(%s)", [collections]) if collections else ("", [])
            written = export_sources(conn, out, where, params, flat)
            conn.rollback()
    finally:
        conn.close()
    return written


def export_sources(conn: Any, out: Path, where: str, params: list[Any], flat: bool) -> list[Path]:
    """Write the sources passing *where* (over ``sources s``) as fragment files under *out*, in
    *conn*'s transaction: ``out/<path>`` when *flat*, else ``out/<collection>/<path>``."""
    from speechgen.ingest.pipeline import dump
    from speechgen.output import atomic_write_bytes

    written: list[Path] = []
    sources = conn.execute(
        f"SELECT s.id, s.collection, s.path, s.header, s.source FROM sources s {where} ORDER BY s.id",
        params,
    ).fetchall()

    def write(k: int, datas: list[str]) -> None:
        _, coll, path, header, top = sources[k]
        mapping = load_json(top)
        mapping["fragments"] = [load_json(d) for d in datas]
        target = (out / path) if flat else (out / coll / path)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, (header + dump(mapping)).encode("utf-8"))
        written.append(target)

    # one source's fragments in memory at a time (a whole library of a million
    # fragments was gigabytes): the rows come in source order, as the sources do
    k = 0  # the next source to write
    datas: list[str] = []
    with conn.cursor(name="export") as cur:
        cur.itersize = 2000
        cur.execute(
            f"SELECT f.source_id, f.data FROM fragments f JOIN sources s ON s.id = f.source_id {where} "
            "ORDER BY f.source_id, f.ord", params)
        for sid, data in cur:
            while k < len(sources) and sources[k][0] != sid:  # the sources before it are written (empty ones too)
                write(k, datas)
                datas, k = [], k + 1
            datas.append(data)
    while k < len(sources):
        write(k, datas)
        datas, k = [], k + 1
    return written


def _isolation() -> Any:
    import psycopg

    return psycopg.IsolationLevel.REPEATABLE_READ


# --------------------------------------------------------------------------- ingest


def ingest_to_db(url: str, paths: list[Path], collection: str, **options: Any) -> Any:
    """``ingest`` into *collection* of the database; the same report as into a folder.

    Ingest runs in a copy of the collection as fragment files, as it would on the writer's
    own folder, and only the files it wrote are imported (one transaction), so a concurrent
    ingest of other speeches is never overwritten. The copy is kept in the user's cache
    folder and brought up to date at each ingest (:mod:`speechgen.db.mirror`: only what
    changed in the database since is written again); without a cache folder, or while
    another ingest of the same user holds it, the collection is exported to a temporary
    folder instead.
    """
    from speechgen.db import mirror
    from speechgen.ingest import ingest

    collection_name(collection)
    conn = _open(url)
    try:
        with db_errors(url, "reading the collection"):
            exists = conn.execute("SELECT read_only FROM collections WHERE name = %s", (collection,)).fetchone()
    finally:
        conn.close()
    if exists and exists[0]:
        raise DatabaseError(f"collection '{collection}' is read-only — ingest into your own collection "
                            "with --collection NAME")
    with mirror.collection_copy(url, collection, bool(exists), lambda w: export_dir(url, w, [collection])) as (work, kept):
        if kept:
            conn = _open(url)
            try:
                with db_errors(url, "reading the collection"):
                    conn.isolation_level = _isolation()
                    conn.read_only = True
                    before = mirror.bring_up_to_date(conn, work, collection, lambda rels: export_sources(
                        conn, work, "WHERE s.collection = %s AND s.path = ANY(%s)", [collection, rels], True))
                    conn.rollback()
            finally:
                conn.close()
        else:
            before = {p.relative_to(work).as_posix(): mirror.signature(p) for p in find_library_files([work])}
        # (a temporary folder's cache would be built, and left behind, on every run)
        report = ingest(paths, work, use_cache=kept, **options)
        # ingest writes a file only when its bytes change, by an atomic rename
        changed = [p for p in find_library_files([work])
                   if before.get(p.relative_to(work).as_posix()) != mirror.signature(p)]
        shown = display_path(work)
        for fr in report.files:
            fr.outputs = [_rename(o, shown, collection) for o in fr.outputs]
        report.problems = [_rename(p, shown, collection) for p in report.problems]
        if changed and not options.get("dry_run"):
            try:
                import_dir(url, work, collection, only=changed)
            except SpeechgenError as exc:
                exc.args = (_rename(str(exc.args[0]), shown, collection), *exc.args[1:])
                exc.problems = [_rename(p, shown, collection) for p in exc.problems]
                raise
        return report


def _rename(text: str, tmp: str, collection: str) -> str:
    return text.replace(tmp + "/", f"{collection}/").replace(tmp, collection)


# --------------------------------------------------------------------------- edits and collections


def edit_fragment(url: str, raw: Any, expected_version: int) -> int:
    """Replace the fragment ``raw['id']`` with *raw* if it is still at *expected_version*.

    Returns the new version. Raises a SpeechgenError naming the fragment when the entry is
    invalid, unknown, in a read-only collection, or was changed since that version.
    """
    fid = raw.get("id") if isinstance(raw, dict) else None
    problems = check_fragment(raw, f"fragment {fid or '?'}")
    if problems:
        raise SpeechgenError(f"{len(problems)} problem(s) in the edited fragment:", problems)
    assert isinstance(raw, dict)
    conn = _open(url)
    try:
        with db_errors(url, f"saving fragment {fid}"), conn.transaction():
            row = conn.execute(
                "SELECT f.version, c.read_only, s.collection, f.source_id, f.kind, f.review FROM fragments f "
                "JOIN sources s ON s.id = f.source_id JOIN collections c ON c.name = s.collection "
                "WHERE f.id = %s FOR UPDATE OF f", (fid,)
            ).fetchone()
            if row is None:
                raise SpeechgenError(f"unknown fragment id '{fid}' — run 'speechgen fragments list --database …'")
            version, ro, coll, sid, old_kind, old_review = row
            if ro:
                raise SpeechgenError(f"fragment '{fid}' is in the read-only collection '{coll}' — it cannot be edited")
            if version != expected_version:
                raise SpeechgenError(
                    f"fragment '{fid}' was changed by someone else since you read it (it is at version "
                    f"{version}, your edit started from version {expected_version}) — nothing was saved; "
                    f"show it again, redo your change on version {version} and save with --version {version}"
                )
            kind, review = str(raw["kind"]), bool(raw.get("review", False))
            if (kind, review) != (old_kind, old_review):  # moved to another count
                conn.execute("UPDATE source_counts SET n = n - 1 WHERE source_id = %s AND kind = %s AND review = %s",
                             (sid, old_kind, old_review))
                conn.execute("DELETE FROM source_counts WHERE source_id = %s AND n = 0", (sid,))
                conn.execute("INSERT INTO source_counts VALUES (%s, %s, %s, 1) ON CONFLICT (source_id, kind, review) "
                             "DO UPDATE SET n = source_counts.n + 1", (sid, kind, review))
            conn.execute(
                "UPDATE fragments SET data = %s, kind = %s, review = %s, tags = %s, "
                "tsv = CAST(%s AS tsvector), variants = %s, version = version + 1 WHERE id = %s",
                (_json(raw), kind, review,
                 [str(t) for t in raw.get("tags") or ()], raw_tsvector(raw), entry_links(str(fid), raw), fid),
            )
            library_changed(conn)
        return int(version) + 1
    finally:
        conn.close()


def set_read_only(url: str, collection: str, read_only: bool) -> None:
    """Mark *collection* read-only (shared) or writable."""
    conn = _open(url)
    try:
        with db_errors(url, "changing a collection"), conn.transaction():
            cur = conn.execute("UPDATE collections SET read_only = %s WHERE name = %s", (read_only, collection))
            if cur.rowcount == 0:
                raise SpeechgenError(f"no collection '{collection}' — 'speechgen db collections' lists them")
    finally:
        conn.close()


def list_collections(url: str) -> list[dict[str, Any]]:
    """Every collection: name, read_only, sources, fragments."""
    conn = _open(url)
    try:
        with db_errors(url, "listing collections"):
            rows = conn.execute(
                "SELECT c.name, c.read_only, count(DISTINCT s.id), count(f.id) FROM collections c "
                "LEFT JOIN sources s ON s.collection = c.name LEFT JOIN fragments f ON f.source_id = s.id "
                "GROUP BY c.name, c.read_only ORDER BY c.name"
            ).fetchall()
    finally:
        conn.close()
    return [{"name": n, "read_only": ro, "sources": s, "fragments": f} for n, ro, s, f in rows]
