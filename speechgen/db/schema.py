"""The database schema and its migrations, recorded in a version table.

``db init`` applies every migration the database has not had yet, in order, each in the
transaction that records it, under an advisory lock so two ``db init`` at once do not
race. A database holding speechgen's tables without the version table (a hand-made or
foreign schema), or a schema newer than this speechgen, is refused with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from speechgen.library.postgres import (
    SCHEMA_VERSION,
    TSV_FUNCTION,
    VERSION_TABLE,
    DatabaseError,
    connect,
    db_errors,
    entry_links,
    load_json,
    mask_url,
    raw_search_fields,
)


def _search_in_postgres(conn: Any) -> None:
    """Version 3: the tsvector made in PostgreSQL with the 'simple' configuration.

    ``speechgen_tsv(heading, tags, body)`` weights the heading's terms A, the tags' B and
    the body's C (ranked 8 : 4 : 1 as the SQLite store's BM25 weighs them); every stored
    fragment's tsvector is rebuilt with it from its entry, and the index follows.
    """
    conn.execute(f"""
        CREATE FUNCTION {TSV_FUNCTION}(heading text, tags text, body text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT setweight(to_tsvector('simple'::regconfig, heading), 'A')
                || setweight(to_tsvector('simple'::regconfig, tags), 'B')
                || setweight(to_tsvector('simple'::regconfig, body), 'C')
        $$""")
    conn.execute("CREATE TEMP TABLE speechgen_retsv(id text, h text, t text, b text) ON COMMIT DROP")
    last = ""
    while True:  # a batch at a time, in id order: memory stays bounded on a large library
        rows = conn.execute("SELECT id, data FROM fragments WHERE id > %s ORDER BY id LIMIT 5000", (last,)).fetchall()
        if not rows:
            break
        with conn.cursor().copy("COPY speechgen_retsv(id, h, t, b) FROM STDIN") as copy:
            for fid, data in rows:
                copy.write_row((fid, *raw_search_fields(load_json(data))))
        conn.execute(f"UPDATE fragments f SET tsv = {TSV_FUNCTION}(r.h, r.t, r.b) FROM speechgen_retsv r "
                     "WHERE r.id = f.id")
        conn.execute("TRUNCATE speechgen_retsv")
        last = rows[-1][0]
    # lz4 (PostgreSQL 14 and later, when built with it) compresses the stored entries and
    # tsvectors several times faster than the default pglz: imports spend less time in TOAST
    if conn.info.server_version >= 140000:
        try:
            with conn.transaction():
                conn.execute("ALTER TABLE fragments ALTER COLUMN data SET COMPRESSION lz4, "
                             "ALTER COLUMN tsv SET COMPRESSION lz4")
        except Exception as exc:  # a server built without lz4 keeps pglz
            if type(exc).__module__.split(".")[0] != "psycopg":
                raise
    # `fragments list --kind …`: the fragments of one kind, by source, in file order
    conn.execute("CREATE INDEX fragments_kind_source ON fragments(kind, source_id, ord)")


def _variant_links(conn: Any) -> None:
    """Version 4: each fragment's variant links (the ids it names under ``variants:``) in a
    column with a GIN index, so a family of near-duplicates is found by its links in both
    directions without reading the library (``PgStore.variants_of``)."""
    conn.execute("ALTER TABLE fragments ADD COLUMN variants text[] NOT NULL DEFAULT '{}'")
    conn.execute("CREATE TEMP TABLE speechgen_links(id text, variants text[]) ON COMMIT DROP")
    last = ""
    while True:  # only entries that name variants, a batch at a time in id order
        rows = conn.execute("SELECT id, data FROM fragments WHERE id > %s AND strpos(data, '\"variants\"') > 0 "
                            "ORDER BY id LIMIT 5000", (last,)).fetchall()
        if not rows:
            break
        with conn.cursor().copy("COPY speechgen_links(id, variants) FROM STDIN") as copy:
            for fid, data in rows:
                copy.write_row((fid, entry_links(fid, load_json(data))))
        last = rows[-1][0]
    conn.execute("UPDATE fragments f SET variants = l.variants FROM speechgen_links l "
                 "WHERE l.id = f.id AND cardinality(l.variants) > 0")
    conn.execute("CREATE INDEX fragments_variants ON fragments USING gin(variants)")


#: Partitions of the fragments table (version 5), by a hash of the fragment id.
PARTITIONS = 16


def _partitioned(conn: Any) -> None:
    """Version 5: the fragments table split into :data:`PARTITIONS` partitions by a hash of the id.

    A search ranks the first :data:`~speechgen.library.postgres.CANDIDATES` matches the index
    gives. On one table PostgreSQL first reads the whole posting list of every term of the
    query from the GIN index, however many matches it will use: for a word found in a quarter
    of a million fragments that was 20-100 ms before the first row. Partitions are scanned one
    after the other, each with its own smaller GIN index, and the scan stops in the first
    partitions that hold enough matches. Ids stay unique across the database (the key is
    the id itself). The rows are copied, then every index is built once over them.
    """
    cols = ("id, source_id, ord, line, kind, review, tags, data, tsv, version, variants")
    conn.execute("""
        CREATE TABLE speechgen_fragments_new(
            id text NOT NULL,
            source_id bigint NOT NULL,
            ord int NOT NULL,
            line int NOT NULL,
            kind text NOT NULL,
            review boolean NOT NULL,
            tags text[] NOT NULL,
            data text NOT NULL,
            tsv tsvector NOT NULL,
            version int NOT NULL DEFAULT 1,
            variants text[] NOT NULL DEFAULT '{}'
        ) PARTITION BY HASH (id)""")
    for n in range(PARTITIONS):
        conn.execute(f"CREATE TABLE fragments_h{n:02d} PARTITION OF speechgen_fragments_new "
                     f"FOR VALUES WITH (MODULUS {PARTITIONS}, REMAINDER {n})")
    if conn.info.server_version >= 140000:  # as version 3 chose, where the server has lz4
        compression = conn.execute(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = 'fragments'::regclass AND attname = 'tsv'"
        ).fetchone()[0]
        if compression == "l":
            conn.execute("ALTER TABLE speechgen_fragments_new ALTER COLUMN data SET COMPRESSION lz4, "
                         "ALTER COLUMN tsv SET COMPRESSION lz4")
    # a search reads the tsvector of each of its 1,000 candidates twice (the phrase check and
    # the rank): kept in the row (MAIN: compressed, out of line only when the row passes a
    # page), not in the TOAST table, each read is the row's page instead of an index lookup
    # and the chunks; the entry (EXTENDED) goes out of line first
    conn.execute("ALTER TABLE speechgen_fragments_new ALTER COLUMN tsv SET STORAGE MAIN")
    conn.execute(f"INSERT INTO speechgen_fragments_new({cols}) SELECT {cols} FROM fragments")
    conn.execute("DROP TABLE fragments")
    conn.execute("ALTER TABLE speechgen_fragments_new RENAME TO fragments")
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    conn.execute("ALTER TABLE fragments ADD CONSTRAINT fragments_pkey PRIMARY KEY (id), "
                 "ADD CONSTRAINT fragments_source_id_fkey FOREIGN KEY (source_id) REFERENCES sources(id) "
                 "ON DELETE CASCADE")
    conn.execute("CREATE INDEX fragments_source ON fragments(source_id, ord)")
    conn.execute("CREATE INDEX fragments_kind ON fragments(kind)")
    conn.execute("CREATE INDEX fragments_kind_source ON fragments(kind, source_id, ord)")
    conn.execute("CREATE INDEX fragments_tsv ON fragments USING gin(tsv)")
    conn.execute("CREATE INDEX fragments_variants ON fragments USING gin(variants)")
    conn.execute("ANALYZE fragments")


def _source_counts(conn: Any) -> None:
    """Version 6: how many fragments each source holds of each kind, reviewed or not.

    ``fragments list`` shows how many fragments pass its filters; counting them at a million
    fragments read a quarter of a million index entries and joined them to their sources
    (100-150 ms, the longest wait of the command). Filters of kind, review and the source's
    fields (year, meeting, file, collection) are counted from this table instead, a row per
    source and kind. ``db import``, ``ingest --database`` and ``fragments edit`` keep it, in
    their own transactions; a deleted source takes its rows with it.
    """
    conn.execute("""
        CREATE TABLE source_counts(
            source_id bigint NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            kind text NOT NULL,
            review boolean NOT NULL,
            n int NOT NULL,
            PRIMARY KEY (source_id, kind, review))""")
    conn.execute("INSERT INTO source_counts SELECT source_id, kind, review, count(*) FROM fragments GROUP BY 1, 2, 3")
    conn.execute("ANALYZE source_counts")


def _generation(conn: Any) -> None:
    """Version 7: the library's generation, one number every write of speechgen's moves on.

    ``serve`` remembers the searches it answered (writers of one office ask for the same
    words); a remembered result is of the generation it was read at, and a reader whose
    snapshot shows another generation searches again. ``db import`` (when it changed
    something) and ``fragments edit`` move it on as their last statement. A database made
    again under the same name has another ``instance``.
    """
    # named here, not from GENERATION_TABLE: a released step never follows later code
    conn.execute("CREATE TABLE library_state(one boolean PRIMARY KEY DEFAULT true CHECK (one), "
                 "generation bigint NOT NULL, instance text NOT NULL)")
    # this database's own mark: another made under the same name (dropped and made again, a
    # test's throwaway) starts again at generation 0 with other fragments
    conn.execute("INSERT INTO library_state(generation, instance) "
                 "VALUES (0, md5(random()::text || clock_timestamp()::text))")


def _rows_kept_whole(conn: Any) -> None:
    """Version 8: a fragment's row is compressed or moved out of line only past a page.

    PostgreSQL compresses a row's long values once the row passes 2 KB, where most of a
    library's rows are (a tsvector of 4 KB, an entry of 2 KB). Each row an import wrote went
    through pglz twice: the entry, which pglz shrinks to 60 %, and the tsvector kept in the
    row for search (version 5), which it tries and gives up on. That was a quarter of the
    import backend's CPU, the one process every import waits for. With ``toast_tuple_target``
    a page, a row under a page is stored as it is; longer entries are compressed with lz4,
    several times faster than pglz, where the server has it. Searches read the same pages (a
    row of 4-8 KB fills one either way) and the tsvector is not compressed, as before; the
    database is about as large. Rows already written stay as they are.
    """
    # a page less its header and a line pointer: 8160, the most PostgreSQL takes
    target = int(conn.execute("SELECT current_setting('block_size')::int").fetchone()[0]) - 32
    lz4 = (conn.info.server_version >= 140000
           and conn.execute("SELECT attcompression FROM pg_attribute WHERE attrelid = 'fragments'::regclass "
                            "AND attname = 'data'").fetchone()[0] == "l")  # version 3 found the server has lz4
    for part in partition_names(conn, "fragments"):
        conn.execute(f"ALTER TABLE {part} SET (toast_tuple_target = {target})")
        if lz4:
            conn.execute(f"ALTER TABLE {part} ALTER COLUMN data SET COMPRESSION lz4")


def partition_names(conn: Any, table: str) -> list[str]:
    """The partitions of *table*, each name as SQL needs it (quoted where it must be), in order."""
    return [r[0] for r in conn.execute(
        "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = CAST(%s AS regclass) ORDER BY 1",
        (table,))]


#: (version, what it does, SQL or a function of the connection). Never edit a released
#: step: add the next one.
MIGRATIONS: list[tuple[int, str, str | Callable[[Any], None]]] = [
    (
        1,
        "collections, sources, fragments with a weighted tsvector and a GIN index",
        """
        CREATE TABLE collections(
            name text PRIMARY KEY);
        CREATE TABLE sources(
            id bigserial PRIMARY KEY,
            collection text NOT NULL REFERENCES collections(name),
            path text NOT NULL,          -- the file, relative to the collection's folder
            header text NOT NULL,        -- its leading comment lines, as written
            source text NOT NULL,        -- the source: mapping as ordered JSON
            meeting text NOT NULL DEFAULT '',
            year int,
            sfile text NOT NULL DEFAULT '',
            sha text NOT NULL,           -- of the file text last imported
            UNIQUE (collection, path));
        CREATE TABLE fragments(
            id text PRIMARY KEY,         -- unique across the database, as across a library
            source_id bigint NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
            ord int NOT NULL,
            line int NOT NULL,
            kind text NOT NULL,
            review boolean NOT NULL,
            tags text[] NOT NULL,
            data text NOT NULL,          -- the entry as ordered JSON
            tsv tsvector NOT NULL);
        CREATE INDEX fragments_source ON fragments(source_id, ord);
        CREATE INDEX fragments_kind ON fragments(kind);
        CREATE INDEX fragments_tsv ON fragments USING gin(tsv);
        CREATE INDEX sources_year ON sources(year);
        """,
    ),
    (
        2,
        "edit versions on fragments; read-only collections",
        """
        ALTER TABLE fragments ADD COLUMN version int NOT NULL DEFAULT 1;
        ALTER TABLE collections ADD COLUMN read_only boolean NOT NULL DEFAULT false;
        """,
    ),
    (
        3,
        "search tsvector built in PostgreSQL ('simple') from the SQLite store's terms, "
        "heading A / tags B / body C; indexes for kind and library order",
        _search_in_postgres,
    ),
    (
        4,
        "variant links of each fragment, indexed (families of near-duplicates found in SQL)",
        _variant_links,
    ),
    (
        5,
        "fragments in hash partitions by id, each with its own indexes (a search's GIN scan "
        "stops in the first partitions that hold enough matches)",
        _partitioned,
    ),
    (
        6,
        "fragments counted by source, kind and review (fragments list counts without reading them)",
        _source_counts,
    ),
    (
        7,
        "the library's generation, moved on by every write (searches remembered by serve are of one)",
        _generation,
    ),
    (
        8,
        "fragment rows kept whole up to a page (no compression tried on most rows); long entries "
        "compressed with lz4 (an import's server time)",
        _rows_kept_whole,
    ),
]

assert MIGRATIONS[-1][0] == SCHEMA_VERSION

#: Any number: the advisory lock ``db init`` holds while it migrates.
_LOCK = 0x5EEC4_0001


def current_version(conn: Any) -> int | None:
    """The schema version of the database; None when it has no version table."""
    if conn.execute("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchone()[0] is None:
        return None
    return int(conn.execute(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}").fetchone()[0])


def init_db(url: str, *, upto: int = SCHEMA_VERSION) -> tuple[int | None, int]:
    """Create or upgrade the schema; returns (version before, version after)."""
    conn = connect(url)
    try:
        with db_errors(url, "creating the schema"), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
            before = current_version(conn)
            if before is None:
                foreign = conn.execute(
                    "SELECT string_agg(tablename, ', ' ORDER BY tablename) FROM pg_tables "
                    "WHERE schemaname = current_schema() AND tablename IN ('fragments', 'sources', 'collections')"
                ).fetchone()[0]
                if foreign:
                    raise DatabaseError(
                        f"database {mask_url(url)}: it already holds tables ({foreign}) that speechgen did "
                        "not make (no version table) — refusing to change them; use an empty database"
                    )
                conn.execute(
                    f"CREATE TABLE {VERSION_TABLE}(version int PRIMARY KEY, description text NOT NULL, "
                    "applied_at timestamptz NOT NULL DEFAULT now())"
                )
            have = before or 0
            if have > SCHEMA_VERSION:
                raise DatabaseError(
                    f"database {mask_url(url)}: schema version {have} is newer than this speechgen knows "
                    f"({SCHEMA_VERSION}) — upgrade speechgen; nothing was changed"
                )
            for version, what, sql in MIGRATIONS:
                if have < version <= upto:
                    if callable(sql):
                        sql(conn)
                    else:
                        conn.execute(sql)
                    conn.execute(f"INSERT INTO {VERSION_TABLE}(version, description) VALUES (%s, %s)",
                                 (version, what))
                    have = version
        return before, have
    finally:
        conn.close()
