"""The library in a PostgreSQL database shared by an office (psycopg 3).

The same :class:`~speechgen.library.store.Store` as the folder library: fragments, one
by id, filtered, ranked search. Each fragment is kept as the entry was written (ordered
JSON, so ``db export`` gives the file back byte for byte) next to columns for the filters
and a ``tsvector`` for search: ``to_tsvector('simple', …)`` of the SQLite store's terms
(:func:`speechgen.library.terms.index_text`), heading weighted A, tags B, body C, in a GIN
index, ranked with ``ts_rank_cd``. Writing (``db init/import/export``, ``ingest --database``,
edits) lives in :mod:`speechgen.db`; this module only reads, plus the helpers both share:
the schema version, the fields a fragment's tsvector is made of, and connecting with every
error turned into one clear message whose URL has its password masked.

A store reads inside one REPEATABLE READ, read-only transaction: a compose that asks for
the library, then searches, sees one snapshot even while an ingest commits.
"""

from __future__ import annotations

import json
import logging
import re
import struct
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from speechgen.errors import SpeechgenError
from speechgen.library.files import (
    Filters,
    Head,
    Library,
    Row,
    fragment_from_dict,
    near_ids,
    source_of,
)
from speechgen.library.sqlite import Hit
from speechgen.model import Fragment, Source

#: The schema this speechgen reads and writes; :mod:`speechgen.db.schema` migrates to it.
SCHEMA_VERSION = 8
VERSION_TABLE = "speechgen_schema"
#: One row: a number every write of speechgen's moves on, in the writing transaction
#: (schema 7), and a mark of this database's own. A reader that sees the same two sees the
#: same library.
GENERATION_TABLE = "library_state"


class DatabaseError(SpeechgenError):
    """The database cannot be reached, is of another schema, or refused a change."""


# --------------------------------------------------------------------------- credentials


def mask_url(url: str) -> str:
    """*url* with any password replaced by ``***`` (in the netloc and in ``password=``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<database URL>"
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        if ":" in user:
            user = user.split(":", 1)[0] + ":***"
        netloc = f"{user}@{host}"
    query = re.sub(r"(?i)(password=)[^&]*", r"\1***", parts.query)
    masked = urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    return re.sub(r"(?i)(password\s*=\s*)\S+", r"\1***", masked)


def _secrets(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [p for p in [parts.password or ""] if len(p) >= 3]
    found += [m for m in re.findall(r"(?i)password=([^&\s]+)", url) if len(m) >= 3]
    return found


def scrub(text: str, url: str) -> str:
    """*text* with the URL masked and its password removed wherever it appears."""
    text = text.replace(url, mask_url(url))
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def is_database_url(value: str) -> bool:
    """True for ``postgresql://…`` / ``postgres://…``."""
    return value.startswith(("postgresql://", "postgres://"))


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError:
        raise DatabaseError(
            "--database needs the PostgreSQL driver — install it with: pip install 'speechgen[postgres]'"
        ) from None
    # psycopg logs "error ignored terminating Copy" when the connection drops mid-COPY:
    # the user gets one message from db_errors, not Python's last-resort log line too.
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    return psycopg


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextmanager
def db_errors(url: str, doing: str) -> Iterator[None]:
    """Turn any psycopg error met while *doing* into one DatabaseError, password masked."""
    psycopg = _psycopg()
    try:
        yield
    except psycopg.OperationalError as exc:
        raise DatabaseError(
            f"database {mask_url(url)}: {scrub(_first_line(exc), url)} while {doing} — "
            "nothing was changed; check that the server is running and reachable, then run "
            "the command again"
        ) from None
    except psycopg.Error as exc:
        raise DatabaseError(
            f"database {mask_url(url)}: {scrub(_first_line(exc), url)} while {doing}"
        ) from None


def connect(url: str, *, autocommit: bool = False) -> Any:
    """A psycopg connection to *url* (password from the URL, ``PGPASSWORD`` or ``.pgpass``)."""
    if not is_database_url(url):
        raise DatabaseError(
            f"--database: '{mask_url(url)}' is not a PostgreSQL URL — write postgresql://user@host/dbname"
        )
    psycopg = _psycopg()
    with db_errors(url, "connecting"):
        # application_name shows admins which sessions are speechgen's (pg_stat_activity)
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=10, application_name="speechgen")


def schema_problem(conn: Any) -> str:
    """Why this database cannot be used as it is ('' when its schema is current)."""
    row = conn.execute("SELECT to_regclass(%s)", (VERSION_TABLE,)).fetchone()
    if row[0] is None:
        other = conn.execute(
            "SELECT string_agg(tablename, ', ' ORDER BY tablename) FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename IN ('fragments', 'sources', 'collections')"
        ).fetchone()[0]
        if other:
            return (f"the database holds tables ({other}) without speechgen's version table — "
                    "an old or foreign schema; use an empty database, or export and drop them")
        return "the database has no speechgen schema yet — run 'speechgen db init --database …' first"
    version = conn.execute(f"SELECT max(version) FROM {VERSION_TABLE}").fetchone()[0] or 0
    if version < SCHEMA_VERSION:
        return (f"the database schema is version {version}, this speechgen needs {SCHEMA_VERSION} — "
                "run 'speechgen db init --database …' to upgrade it (back it up with pg_dump first)")
    if version > SCHEMA_VERSION:
        return (f"the database schema is version {version}, newer than this speechgen knows "
                f"({SCHEMA_VERSION}) — upgrade speechgen")
    return ""


# --------------------------------------------------------------------------- entries as JSON

def dump_json(value: Any) -> str:
    """*value* (a mapping as read from a fragment file) as the JSON the database keeps, keys in
    their order. Fragment files are read with dates kept as text (:func:`speechgen.userfiles.parse_yaml`),
    so every value is JSON's own; ``db export`` gives the same text back, as ingest writes it."""
    return json.dumps(value, ensure_ascii=False)


def load_json(text: str) -> Any:
    """The mapping :func:`dump_json` wrote."""
    return json.loads(text)


def entry_links(fid: str, raw: dict[str, Any]) -> list[str]:
    """The ids a fragment entry names under ``variants:`` (its own id and empty ones left
    out), as :meth:`speechgen.library.files.Library.variants_of` links them."""
    out = []
    for v in raw.get("variants") or ():
        if isinstance(v, dict):
            vid = str(v.get("id") or "")
            if vid and vid != fid and vid not in out:
                out.append(vid)
    return out


# --------------------------------------------------------------------------- tokens

#: The SQL function (schema version 3) that makes a fragment's tsvector from its fields'
#: terms: ``to_tsvector('simple', …)`` of each, heading weight A, tags B, body C.
TSV_FUNCTION = "speechgen_tsv"


def search_fields(frag: Fragment) -> tuple[str, str, str]:
    """(heading, tags, body) of *frag* as :func:`~speechgen.library.terms.index_text` gives
    them: the terms the SQLite index holds, joined by spaces, for ``speechgen_tsv()``.

    The 'simple' configuration only lower-cases what PostgreSQL's parser cuts at the
    spaces, so each lexeme is one of the SQLite store's terms (tests/db check it).
    """
    from speechgen.library.sqlite import fragment_fields
    from speechgen.library.terms import index_text

    heading, body, tags = fragment_fields(frag)
    return index_text(heading), index_text(tags), index_text(body)


def raw_search_fields(raw: dict[str, Any]) -> tuple[str, str, str]:
    """:func:`search_fields` of a validated fragment entry (a mapping as in a file)."""
    return search_fields(fragment_from_dict(raw, source_of(None), "", 0))


#: PostgreSQL's limits on a tsvector (tsearch/ts_type.h): positions stop at MAXENTRYPOS - 1,
#: a lexeme keeps at most MAXNUMPOS positions, and a lexeme is shorter than 2 KB.
_MAXENTRYPOS = 1 << 14
_MAXNUMPOS = 256
_MAXLEXEME = 2047


def _field_positions(terms: list[str]) -> dict[str, list[int]]:
    """What ``to_tsvector('simple', ' '.join(terms))`` keeps of one field: each term's
    positions, counting from 1, clamped at 16383, at most 255 of them (make_tsvector)."""
    out: dict[str, list[int]] = {}
    top = _MAXENTRYPOS - 1
    i = 0
    for term in terms:
        ps = out.get(term)
        if ps is None:
            if len(term) * 4 > _MAXLEXEME and len(term.encode("utf-8")) > _MAXLEXEME:
                continue  # to_tsvector skips a longer word, and gives it no position
            i += 1
            out[term] = [i if i < top else top]
        else:
            i += 1
            if len(ps) < _MAXNUMPOS - 1 and ps[-1] != top:
                ps.append(i if i < top else top)
    return out


def tsvector_text(heading: str, tags: str, body: str) -> str:
    """The tsvector ``speechgen_tsv(heading, tags, body)`` makes, as tsvector input text,
    made here instead of on the server (``db import`` sends it through COPY: parsing text
    with ``to_tsvector`` was most of an import's time in PostgreSQL).

    *heading*, *tags*, *body* are :func:`~speechgen.library.terms.index_text` strings. As
    ``setweight(to_tsvector('simple', …), w) || …`` does: each field's terms numbered from 1
    and shifted past the previous fields' highest position, weights A, B, C. One difference:
    PostgreSQL's parser drops symbols it does not count as letters (①, ㊀) that
    ``index_text`` keeps; here they are kept, as the SQLite index keeps them.
    """
    texts = (heading, tags, body)
    fields = [(heading.split(), "A"), (tags.split(), "B"), (body.split(), "C")]
    if _needs_caps(texts, fields):
        return _tsvector_capped(fields)
    # no limit reached (as in nearly every fragment): each term at its position, one entry
    # each ('term':7A), PostgreSQL's tsvector input merging a lexeme's entries. Built as one
    # join of the terms interleaved with their positions' ready-made suffixes (':7A ') —
    # formatting each entry was a third of an import's client time.
    parts: list[str] = []
    pos = 1
    for fterms, weight in fields:
        if fterms:
            m = len(fterms)
            assert pos + m <= _MAXENTRYPOS  # positions stay below 16,383 here (else capped above)
            chunk = [""] * (2 * m)
            chunk[0::2] = fterms
            chunk[1::2] = _suffixes(weight)[pos : pos + m]
            parts += chunk
            pos += m
    return ("'" + "".join(parts))[:-2] if parts else ""


def _most_repeated(fields: list[tuple[list[str], str]]) -> int:
    """How often the most frequent term of *fields* occurs, or a bound on it when the bound
    is below 255 (PostgreSQL's positions a lexeme keeps): a term can occur at most once more
    than there are repeats in all."""
    lists = [f for f, _ in fields]
    bound = sum(map(len, lists)) - len(set().union(*lists)) + 1
    return bound if bound < _MAXNUMPOS - 1 else max(Counter(chain.from_iterable(lists)).values())


@lru_cache(maxsize=4)
def _suffixes(weight: str) -> list[str]:
    """What follows a term in a tsvector entry at each position, with the opening quote of the
    next entry: ``':7A '``, for positions 0-16383."""
    return [f"':{i}{weight} '" for i in range(_MAXENTRYPOS)]


def _capped_lexemes(fields: list[tuple[list[str], str]]) -> dict[str, list[tuple[list[int], str]]]:
    """Each lexeme's positions, a (positions, weight) run a field, where PostgreSQL's limits
    apply: what ``setweight(to_tsvector('simple', …), w) || …`` keeps, field by field."""
    lexemes: dict[str, list[tuple[list[int], str]]] = {}
    counts: dict[str, int] = {}  # positions a lexeme holds
    lasts: dict[str, int] = {}  # its last position
    top = _MAXENTRYPOS - 1
    shift = 0  # the highest position of the fields so far (tsvector_concat's maxpos)
    for fterms, weight in fields:
        fieldpos = _field_positions(fterms)
        highest = shift
        for term, ps in fieldpos.items():
            if shift:
                ps = [p + shift if p + shift < top else top for p in ps]
            have = counts.get(term, 0)
            if have:  # tsvector_concat appends while under 256 and not past the last position
                if have >= _MAXNUMPOS or lasts[term] == top:
                    continue
                ps = ps[: _MAXNUMPOS - have]
            if ps[-1] == top:
                ps = ps[: ps.index(top) + 1]
            if have:
                lexemes[term].append((ps, weight))
            else:
                lexemes[term] = [(ps, weight)]
            counts[term] = have + len(ps)
            lasts[term] = ps[-1]
            if ps[-1] > highest:
                highest = ps[-1]
        shift = highest
    return lexemes


def _tsvector_capped(fields: list[tuple[list[str], str]]) -> str:
    """:func:`tsvector_text` of fields where PostgreSQL's limits apply, entry by entry."""
    return " ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "':"
                    + ",".join((w + ",").join(map(str, ps)) + w for ps, w in runs)
                    for t, runs in _capped_lexemes(fields).items())


def _needs_caps(texts: tuple[str, str, str], fields: list[tuple[list[str], str]]) -> bool:
    """Whether one of PostgreSQL's tsvector limits may apply to *fields* (a word of 2 KB, 255
    positions of a lexeme, position 16,383), or a term needs quoting in tsvector text."""
    n = len(fields[0][0]) + len(fields[1][0]) + len(fields[2][0])
    return bool(n) and (
        any(len(t) * 4 > _MAXLEXEME and max(map(len, f), default=0) * 4 > _MAXLEXEME
            for t, (f, _) in zip(texts, fields, strict=True))
        or any("'" in t or "\\" in t for t in texts)
        or (n >= _MAXNUMPOS - 1 and (n >= _MAXENTRYPOS - 1 or _most_repeated(fields) >= _MAXNUMPOS - 1))
    )


#: A position's weight bits in PostgreSQL's WordEntryPos (tsearch/ts_type.h: A 3 … D 0).
_WEIGHT_BITS = {"A": 3 << 14, "B": 2 << 14, "C": 1 << 14, "D": 0}
_INT32 = struct.Struct(">i")


@lru_cache(maxsize=1)
def _one_position() -> list[bytes]:
    """A lexeme's end in binary tsvector when it holds one position, by the position (with its
    weight): NUL, 1, the position. Most lexemes of a fragment hold one."""
    return [b"\0\x00\x01" + wep.to_bytes(2, "big") for wep in range(1 << 16)]


@lru_cache(maxsize=512)
def _positions_struct(n: int) -> struct.Struct:
    """A lexeme's end in binary tsvector: its NUL, how many positions, the positions."""
    return struct.Struct(f">xH{n}H")


def tsvector_binary(heading: str, tags: str, body: str) -> bytes:
    """The tsvector of :func:`tsvector_text` in PostgreSQL's binary format (``tsvectorsend``'s),
    for ``db import``'s binary COPY: the lexemes merged and in the server's order, each with
    its positions in order, so the server only copies them in (parsing tsvector text, then
    sorting and merging its entries, was a third of an import's server time).

    The format: the number of lexemes (int32); then each lexeme's UTF-8 bytes, a NUL, its
    number of positions (uint16) and each position (uint16, the weight in the top two bits).
    The server's order is the bytes' (``tsCompareString``: memcmp, then the shorter first),
    which is the order of the strings' code points.
    """
    return terms_tsvector_binary(heading.split(), tags.split(), body.split())


def _utf8_names(keys: list[str]) -> tuple[int, list[bytes]]:
    """The UTF-8 bytes of *keys* together, and of each (encoded in one call, not one a key)."""
    joined = "\0".join(keys).encode("utf-8")
    names = joined.split(b"\0") if keys else []
    return len(joined) - max(len(names) - 1, 0), names


def terms_tsvector_binary(heading: list[str], tags: list[str], body: list[str]) -> bytes:
    """:func:`tsvector_binary` of the fields' terms (``index_text(…).split()`` each, or
    :func:`~speechgen.library.terms.index_term_list`)."""
    fields = [(heading, "A"), (tags, "B"), (body, "C")]
    lexemes: dict[str, list[int]] = {}
    n = len(heading) + len(tags) + len(body)
    capped = n >= _MAXENTRYPOS - 1
    if not capped:  # positions 1, 2, … across the fields, as tsvector_text numbers them
        add = lexemes.setdefault
        pos = 1
        for fterms, weight in fields:
            bits = _WEIGHT_BITS[weight] | pos
            for term, wep in zip(fterms, range(bits, bits + len(fterms)), strict=True):
                add(term, []).append(wep)
            pos += len(fterms)
        # a lexeme at 255 positions needs 254 terms repeating the others (n - lexemes ≥ 254)
        capped = (n - len(lexemes) >= _MAXNUMPOS - 2 and max(map(len, lexemes.values())) >= _MAXNUMPOS - 1)
    if not capped:
        keys = sorted(lexemes)
        total, names = _utf8_names(keys)
        # a lexeme past 2 KB (only possible when all of them together are)
        capped = total > _MAXLEXEME and max(map(len, names)) > _MAXLEXEME
    if capped:  # a limit may apply (position 16,383, a lexeme at 255 positions, a word of 2 KB)
        lexemes = {term: [_WEIGHT_BITS[w] | p for ps, w in runs for p in ps]
                   for term, runs in _capped_lexemes(fields).items()}
        keys = sorted(lexemes)
        names = _utf8_names(keys)[1]
    one = _one_position()
    tails = [one[ps[0]] if len(ps) == 1 else _positions_struct(len(ps)).pack(len(ps), *ps)
             for ps in map(lexemes.__getitem__, keys)]
    return b"".join([_INT32.pack(len(keys)), *chain.from_iterable(zip(names, tails, strict=True))])


def fragment_tsvector(frag: Fragment) -> str:
    """:func:`tsvector_text` of *frag*'s fields (what ``db import`` and edits store)."""
    return tsvector_text(*search_fields(frag))


def search_terms(frag: Fragment) -> tuple[list[str], list[str], list[str]]:
    """The terms of :func:`search_fields`, each field's as a list (``….split()``)."""
    from speechgen.library.sqlite import fragment_fields
    from speechgen.library.terms import index_term_list

    heading, body, tags = fragment_fields(frag)
    return index_term_list(heading), index_term_list(tags), index_term_list(body)


def fragment_tsvector_binary(frag: Fragment) -> bytes:
    """:func:`tsvector_binary` of *frag*'s fields (what ``db import`` copies in)."""
    return terms_tsvector_binary(*search_terms(frag))


def raw_tsvector(raw: dict[str, Any]) -> str:
    """:func:`fragment_tsvector` of a validated fragment entry (a mapping as in a file)."""
    return tsvector_text(*raw_search_fields(raw))


def rank_weights() -> str:
    """ts_rank_cd's weights {D, C, B, A}: body, tags and heading in the SQLite store's
    BM25 proportions (:data:`speechgen.library.terms.FIELDS`, heading 8 : tags 4 : body 1)."""
    from speechgen.library.terms import FIELDS

    w = dict(FIELDS)
    top = w["heading"]
    return "{" + ", ".join(f"{x:g}" for x in (0.1, w["body"] / top, w["tags"] / top, 1.0)) + "}"


def _tsquote(word: str) -> str:
    return "'" + word.lower().replace("\\", "\\\\").replace("'", "\\'") + "'"


# --------------------------------------------------------------------------- the store

#: ts_rank_cd normalisation 2: divide by the document length, as BM25 damps long texts (of 0, 1, 2,
#: 4, 8 and their sums, 2 ranked closest to SQLite's bm25 on tests/db/test_search_parity.py).
RANK_NORMALISATION = 2

_COLUMNS = "s.id, f.line, f.data"

#: Matches of one search tier that are ranked (docs/team.md, "Search"): a tier matching more
#: ranks the first this many the index gives. Far above what a writer reads, and what keeps a
#: word found in most of a million fragments from reading and ranking every one of them.
CANDIDATES = 1000
_FROM = "fragments f JOIN sources s ON s.id = f.source_id"
#: Rows :meth:`PgStore.page` fetches at a time from its server-side cursor.
PAGE_BATCH = 2000
_ORDER = "s.collection, s.path, f.ord"


def shown_path(collection: str, path: str) -> str:
    """How a fragment's file is named in messages: collection/relative path."""
    return f"{collection}/{path}"


def source_from_row(raw: str) -> Source:
    """The :class:`Source` of a ``sources.source`` text: the file's top-level mapping as JSON."""
    top = load_json(raw) if raw else {}
    return source_of(top.get("source") if isinstance(top, dict) else None)


def library_changed(conn: Any) -> None:
    """Move the library's generation on, in *conn*'s transaction: the last statement of every
    write (import, edit), so its row lock is held only while the transaction commits.

    Searches remembered by a reader (:class:`Remembered`) are of one generation; once this
    commits, every reader sees the new number and searches again.
    """
    conn.execute(f"UPDATE {GENERATION_TABLE} SET generation = generation + 1")


class Remembered:
    """Search results of this process, each of one library generation, at most *hits* in all.

    ``serve`` answers every writer of an office from one process; writers search for the same
    words (the campaign of the month, the meeting being prepared), and a search ranks up to a
    thousand matches on the server. A result is kept under the query, the filters, the limit,
    the database, the collections and the generation it was read at: a store whose snapshot
    shows that generation sees the library it was computed on, so the result is the one it
    would compute. Writers asking the same new query at once wait for one search of it
    instead of each running it. Least recently used results go first.
    """

    def __init__(self, hits: int = 5_000) -> None:
        import threading

        self.hits = hits
        self._results: dict[tuple[Any, ...], list[Hit]] = {}
        self._held = 0
        self._lock = threading.Lock()
        self._running: dict[tuple[Any, ...], Any] = {}  # key → threading.Event of the search running

    def clear(self) -> None:
        """Forget every result."""
        with self._lock:
            self._results.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._results)

    def get(self, key: tuple[Any, ...], compute: Callable[[], list[Hit]]) -> list[Hit]:
        """The result under *key*, computed by *compute* when no one has it or is computing it."""
        import threading

        while True:
            with self._lock:
                found = self._results.pop(key, None)
                if found is not None:
                    self._results[key] = found  # the most recently used last
                    return list(found)
                running = self._running.get(key)
                if running is None:
                    mine = self._running[key] = threading.Event()
                    break
            running.wait()  # then look again (the search may have failed: then it runs here)
        try:
            result = compute()
            with self._lock:
                if len(result) <= self.hits:
                    self._results[key] = list(result)
                    self._held += len(result)
                    while self._held > self.hits:
                        self._held -= len(self._results.pop(next(iter(self._results))))
            return result
        finally:
            with self._lock:
                del self._running[key]
            mine.set()


#: The searches this process remembers (every PgStore of it shares them).
REMEMBERED = Remembered()


class SearchSlots:
    """At most *n* database searches of this process at once; the others wait their turn.

    ``serve`` answers every writer from one process, each request in a worker thread with its
    own connection. Twenty writers typing twenty new words at once would otherwise be
    twenty searches on the server side by side, each slowed by all the others, so none
    answers before the last one could: on two cores a burst of fourteen 50 ms searches
    answered every writer after about 350 ms. Taken in turns, a few at a time, the first
    writers have their results after one search's time and only the last wait as long as
    before (a connection pool a few times the server's cores, as pools are sized for the
    same reason). A search answered from :data:`REMEMBERED` takes no slot.
    """

    def __init__(self, n: int) -> None:
        import threading

        if n < 1:
            raise ValueError("at least one search at a time")
        self.n = n
        self._slots = threading.BoundedSemaphore(n)

    def __enter__(self) -> SearchSlots:
        self._slots.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()


def default_search_slots() -> int:
    """Searches ``serve`` runs at once unless told: twice this machine's cores (at least 2)."""
    import os

    return max(2, 2 * (os.cpu_count() or 1))


class PgStore:
    """The library of a PostgreSQL database, optionally narrowed to some collections."""

    #: Stop unpacking search rows once the rest cannot reach the top (False: unpack every row).
    early_stop = True
    #: Answer a search asked before, of the same library generation, from :data:`REMEMBERED`
    #: (False: always ask the database).
    remember = True
    #: Bound on the database searches this process runs at once (None: none); ``serve`` sets it.
    slots: SearchSlots | None = None

    def __init__(self, url: str, collections: list[str] | None = None, dirs: list[Path] | None = None) -> None:
        self.url = url
        self.dirs = list(dirs or [])
        self.collections = list(collections or [])
        self.conn = connect(url)
        self._sources: dict[int, tuple[str, Source]] = {}
        self._cursors = 0  # server-side cursors opened, for their names
        with self._errors("opening the library"):
            problem = schema_problem(self.conn)
            if problem:
                raise DatabaseError(f"database {mask_url(url)}: {problem}")
            self.conn.rollback()
            self.conn.isolation_level = _psycopg().IsolationLevel.REPEATABLE_READ
            self.conn.read_only = True
            if self.collections:
                known = {r[0] for r in self.conn.execute("SELECT name FROM collections")}
                unknown = [c for c in self.collections if c not in known]
                if unknown:
                    from speechgen.errors import did_you_mean

                    hint = did_you_mean(unknown[0], known) or (
                        f" — the database has: {', '.join(sorted(known)) or 'none yet'}")
                    raise DatabaseError(f"--collection: no collection '{unknown[0]}'{hint}")

    def _errors(self, doing: str) -> Any:
        return db_errors(self.url, doing)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def refresh(self) -> None:
        """End this store's snapshot: the next read sees everything committed since.

        A long-lived reader (``serve``) calls it between requests; one compose keeps one
        snapshot (a held snapshot also holds back PostgreSQL's cleanup of old rows).
        """
        with self._errors("refreshing"):
            self.conn.rollback()
        self._sources.clear()

    def __repr__(self) -> str:
        return f"PgStore({mask_url(self.url)!r}, collections={self.collections!r})"

    # ------------------------------------------------------------------ reading
    def _where(self, filters: Filters | None) -> tuple[str, list[Any]]:
        sql, params = where_sql(filters)
        if self.collections:
            sql.append("s.collection = ANY(%s)")
            params.append(self.collections)
        return " AND ".join(sql) or "TRUE", params

    def _load_sources(self, ids: list[int] | None = None) -> None:
        """Cache the sources *ids* (None: all of them)."""
        sql, params = "SELECT id, collection, path, source FROM sources", []
        if ids is not None:
            sql, params = sql + " WHERE id = ANY(%s)", [ids]
        for sid, coll, path, source in self._rows(sql, params, "reading sources"):
            self._sources[sid] = (shown_path(coll, path), source_from_row(source))

    def _source(self, sid: int) -> tuple[str, Source]:
        if sid not in self._sources:
            self._load_sources()
        return self._sources[sid]

    def _fragment(self, sid: int, line: int, data: str) -> Fragment:
        shown, source = self._source(sid)
        return fragment_from_dict(load_json(data), source, shown, line)

    def _rows(self, sql: str, params: list[Any], doing: str, prepare: bool | None = None) -> list[Any]:
        with self._errors(doing):
            return self.conn.execute(sql, params, prepare=prepare).fetchall()

    def library(self) -> Library:
        """Every fragment (of the chosen collections), in collection, file and entry order."""
        where, params = self._where(None)
        rows = self._rows(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY {_ORDER}", params,
                          "reading the library")
        return Library((self._fragment(*r) for r in rows), self.dirs)

    def get(self, fid: str) -> Fragment:
        """One fragment by id; a did-you-mean error when there is none."""
        where, params = self._where(None)
        rows = self._rows(f"SELECT {_COLUMNS} FROM {_FROM} WHERE f.id = %s AND {where}", [fid, *params],
                          "reading a fragment")
        if not rows:
            from speechgen.errors import did_you_mean

            hint = did_you_mean(fid, self._near_ids(fid)) or " — run 'speechgen fragments list' to see the ids"
            raise SpeechgenError(f"unknown fragment id '{fid}'{hint}")
        return self._fragment(*rows[0])

    def _near_ids(self, fid: str) -> list[str]:
        """Ids sharing the longest prefix of *fid* that any id has, through the id index, as the
        SQLite cache finds them (:func:`~speechgen.library.files.near_ids`): never the whole library."""
        return near_ids(fid, self._with_prefix)

    def _with_prefix(self, prefix: str, limit: int) -> list[str]:
        where, params = self._where(None)
        # the range walks the primary key; starts_with keeps it exact under any collation
        rows = self._rows(
            f"SELECT f.id FROM {_FROM} WHERE f.id >= %s AND f.id < %s AND starts_with(f.id, %s) AND {where} "
            "ORDER BY f.id LIMIT %s",
            [prefix, prefix + "\U0010ffff", prefix, *params, limit], "reading fragment ids")
        return [r[0] for r in rows]

    def has(self, fid: str) -> bool:
        """True when *fid* is in the chosen collections."""
        where, params = self._where(None)
        return bool(self._rows(f"SELECT 1 FROM {_FROM} WHERE f.id = %s AND {where} LIMIT 1", [fid, *params],
                               "reading a fragment"))

    def variants_of(self, frag: Fragment) -> list[Fragment]:
        """Every fragment in *frag*'s family of near-duplicates (see Library.variants_of): the
        links of the chosen collections' fragments followed both ways, through the indexed
        ``variants`` column, in library order."""
        where, params = self._where(None)
        seen = {frag.id}
        todo = [frag.id]
        while todo:
            rows = self._rows(
                f"SELECT unnest(f.variants) FROM {_FROM} WHERE f.id = ANY(%s) AND {where} "
                f"UNION SELECT f.id FROM {_FROM} WHERE f.variants && %s::text[] AND {where}",
                [todo, *params, todo, *params], "reading variants")
            todo = [r[0] for r in rows if r[0] not in seen]
            seen.update(todo)
        seen.discard(frag.id)
        if not seen:
            return []
        rows = self._rows(f"SELECT {_COLUMNS} FROM {_FROM} WHERE f.id = ANY(%s) AND {where} ORDER BY {_ORDER}",
                          [sorted(seen), *params], "reading variants")
        return [self._fragment(*r) for r in rows]

    def page(self, filters: Filters, limit: int | None = None, offset: int = 0) -> Iterator[Fragment]:
        """Fragments passing *filters*, in library order, *offset* skipped, at most *limit*."""
        where, params = self._where(filters)
        sql = f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY {_ORDER}"
        if limit is not None:
            sql += " LIMIT %s"
            params = [*params, limit]
        if offset:
            sql += " OFFSET %s"
            params = [*params, offset]
        # a server-side cursor, a batch at a time: a long list streams in bounded memory, and
        # each batch reads only the sources it needs
        self._cursors += 1
        with self._errors("listing fragments"):
            cur = self.conn.cursor(name=f"speechgen_page_{self._cursors}")
        try:
            with self._errors("listing fragments"):
                cur.execute(sql, params)
            while True:
                with self._errors("listing fragments"):
                    rows = cur.fetchmany(PAGE_BATCH)
                if not rows:
                    break
                wanted = {r[0] for r in rows} - set(self._sources)
                if wanted:
                    self._load_sources(sorted(wanted))
                for r in rows:
                    yield self._fragment(*r)
        finally:
            if not self.conn.closed and not self.conn.broken:
                with self._errors("listing fragments"):
                    cur.close()

    def rows(self, filters: Filters, limit: int | None = None, offset: int = 0) -> list[Row]:
        """The :class:`Row` of each fragment :meth:`page` gives (read through the fragments)."""
        return [Row.of(f) for f in self.page(filters, limit, offset)]

    def heads(self, filters: Filters) -> list[Head]:
        """Id, path, tags and source of the fragments passing *filters*, in library order (no data read)."""
        where, params = self._where(filters)
        rows = self._rows(f"SELECT f.id, s.id, f.tags FROM {_FROM} WHERE {where} ORDER BY {_ORDER}", params,
                          "listing fragments")
        heads = []
        for fid, sid, tags in rows:
            shown, source = self._source(sid)
            heads.append(Head(fid, shown, tuple(tags or ()), source))
        return heads

    def facets(self, tags: int = 200) -> dict[str, list[Any]]:
        """The values the library's filters can take (:mod:`speechgen.library.facets`), counted
        in SQL from the sources and the tags column: no fragment is read."""
        from speechgen.library.facets import facet_lists

        where, params = self._where(None)
        sources = self._rows(
            "SELECT DISTINCT s.meeting, s.year, s.sfile FROM sources s "
            f"WHERE EXISTS (SELECT 1 FROM fragments f WHERE f.source_id = s.id) AND {where}", params,
            "reading the filters")
        counts = self._rows(f"SELECT t, count(*) FROM {_FROM}, unnest(f.tags) t WHERE {where} GROUP BY t",
                            params, "counting tags")
        return facet_lists(sources, dict(counts), tags)

    def count(self, filters: Filters) -> int:
        """How many fragments pass *filters*."""
        sql, params = self._count_sql(filters)
        return int(self._rows(sql, params, "counting fragments")[0][0])

    def _count_sql(self, filters: Filters) -> tuple[str, list[Any]]:
        """The query counting the fragments passing *filters*: the sum of the sources' counts
        by kind and review (``source_counts``, schema 6) unless a filter is on the fragments'
        tags, which only the fragments hold."""
        where, params = self._where(filters)
        if filters.tag:
            return f"SELECT count(*) FROM {_FROM} WHERE {where}", params
        # the counts' columns are named as the fragments' are: the same conditions apply
        return ("SELECT coalesce(sum(f.n), 0) FROM source_counts f JOIN sources s ON s.id = f.source_id "
                f"WHERE {where}"), params

    def count_soon(self, filters: Filters) -> Callable[[], int]:
        """:meth:`count`, on a second connection in this store's snapshot, while this one goes on.

        ``fragments list`` reads and lays out its page meanwhile: a count of a large library
        (100-150 ms at a million fragments) no longer comes before the page. The snapshot is
        shared as ``pg_dump -j`` shares it (``pg_export_snapshot``), so the count is of the
        library the page was read from. Returns a function that waits for the count; when the
        second connection could not count (a multi-host URL led it to another server, which
        does not know the snapshot; no connection left), it counts on this one then.
        """
        import threading

        sql, params = self._count_sql(filters)
        with self._errors("counting fragments"):
            snapshot = self.conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        box: list[Any] = []

        def count() -> None:
            try:
                with connect(self.url) as conn:
                    conn.isolation_level = _psycopg().IsolationLevel.REPEATABLE_READ
                    conn.read_only = True
                    conn.execute(_psycopg().sql.SQL("SET TRANSACTION SNAPSHOT {}").format(snapshot))
                    box.append(int(conn.execute(sql, params).fetchone()[0]))
            except Exception:  # counted on the store's own connection instead
                box.append(None)

        worker = threading.Thread(target=count, name="speechgen-count", daemon=True)
        worker.start()

        def result() -> int:
            worker.join()
            return self.count(filters) if not box or box[0] is None else int(box[0])

        return result

    def version(self, fid: str) -> int:
        """The edit version of fragment *fid* (``fragments edit --version`` checks it)."""
        rows = self._rows("SELECT version FROM fragments WHERE id = %s", [fid], "reading a version")
        if not rows:
            self.get(fid)
        return int(rows[0][0])

    def select(self, filters: Filters) -> list[Fragment]:
        """Fragments passing *filters*, in library order; the filtering happens in SQL."""
        where, params = self._where(filters)
        rows = self._rows(f"SELECT {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY {_ORDER}", params,
                          "listing fragments")
        return [self._fragment(*r) for r in rows]

    # ------------------------------------------------------------------ search
    def query_tokens(self, query: str) -> list[str]:
        """The words of *query* as search sees them (for marking them in snippets)."""
        from speechgen.library.terms import query_words

        return query_words(query)

    def search(self, query: str, filters: Filters | None = None, limit: int = 10) -> list[Hit]:
        """Fragments ranked by ts_rank_cd over the SQLite store's bigram terms (heading, tags
        and body weighted as its BM25 weighs them), in the same tiers as :meth:`speechgen.library.sqlite.Index.search`:
        every phrase of the query; then any phrase whole; when none holds a phrase whole,
        those holding a third of the query's bigrams. Exact query first within a tier.

        A query asked before in this process, of the library generation this store's snapshot
        shows, is answered from :data:`REMEMBERED` (see :class:`Remembered`)."""
        rows = (self._rows(f"SELECT instance, generation FROM {GENERATION_TABLE}", [], "searching")
                if self.remember else [])
        if len(rows) != 1:
            return self._in_turn(query, filters, limit)
        key = (self.url, tuple(self.collections), query, filters, limit, *rows[0])
        return REMEMBERED.get(key, lambda: self._in_turn(query, filters, limit))

    def _in_turn(self, query: str, filters: Filters | None, limit: int) -> list[Hit]:
        """:meth:`_search` once a slot is free (:attr:`slots`)."""
        slots = PgStore.slots
        if slots is None:
            return self._search(query, filters, limit)
        with slots:
            return self._search(query, filters, limit)

    def _search(self, query: str, filters: Filters | None, limit: int) -> list[Hit]:
        """:meth:`search`, asking the database."""
        from speechgen.library.terms import query_plan

        plan = [p for p in query_plan(query) if p]
        if not plan:
            return []
        phrase = "".join(query.split())
        bigrams = {t for p in plan for t in p if len(t) == 2}
        need = -(-len(bigrams) // 3)

        def tsphrase(p: list[str]) -> str:
            return "(" + " <-> ".join(_tsquote(t) for t in p) + ")"

        tiers: list[tuple[str, bool]] = [(" & ".join(tsphrase(p) for p in plan), False)]
        if len(plan) > 1:
            tiers.append((" | ".join(tsphrase(p) for p in plan), False))
        tiers.append((" | ".join(_tsquote(t) for t in dict.fromkeys(t for p in plan for t in p)), True))
        where, params = self._where(filters)
        hits: dict[str, Hit] = {}
        for tier, (expr, third) in enumerate(tiers):
            if len(hits) >= limit or (tier == len(tiers) - 1 and (hits or len(bigrams) < 2)):
                break
            # ranked among at most CANDIDATES matches (ranked_sql), never as a prepared
            # statement: a generic plan cannot know how many fragments a tsquery matches (once
            # psycopg prepared it, after five searches, some words took 3-5x as long)
            top, chunk = max(limit * 20, 200), max(limit * 2, 40)
            rows = self._rows(ranked_sql(where, chunk), [expr, *params, CANDIDATES, expr, top, top], "searching",
                              prepare=False)
            entry_of = self._entries(rows, chunk)
            # sorted on the entries' texts; a Fragment is built only for what is returned. A
            # row holding the query as typed ("exact") goes before any that does not, then by
            # rank, then in the rows' order: the rows come best rank first, so once `room`
            # exact rows are found no later row can reach the top, and none is unpacked (as
            # the SQLite store stops; a serve search unpacked 600 entries, most of its time)
            found = []
            room, exact = limit - len(hits), 0
            for n, (sid, line, _, rank, fid) in enumerate(rows):
                if exact >= room and self.early_stop:
                    break
                if fid in hits:
                    continue
                entry = entry_of(n)
                full, fields = _entry_texts(entry)
                if third and sum(b in fields.lower() for b in bigrams) < need:
                    continue
                found.append((phrase not in full, -round(float(rank), 9), n, sid, line, entry, float(rank)))
                exact += phrase in full
            found.sort(key=lambda t: t[:3])
            # the sources of what can be returned, not every source (serve ends its snapshot,
            # and so this cache, at each request)
            wanted = {t[3] for t in found[: limit + len(hits)]} - set(self._sources)
            if wanted:
                self._load_sources(sorted(wanted))
            for _, _, _, sid, line, entry, rank in found:
                if len(hits) >= limit:
                    break
                if str(entry["id"]) not in hits:
                    shown, source = self._source(sid)
                    hits[str(entry["id"])] = Hit(fragment_from_dict(entry, source, shown, line), rank)
        return list(hits.values())[:limit]

    def _entries(self, rows: list[Any], chunk: int) -> Callable[[int], dict[str, Any]]:
        """The entry of a tier's row *n*, for rows (source id, line, entry or None, rank, id).

        The first *chunk* rows carry their entries; a later one is read with the next *chunk*
        rows lacking theirs when first asked for: most searches are settled within the first
        rows, and each entry sent is read from the TOAST table (a fifth of a search's time
        on the server when all 600 were sent)."""
        fetched: dict[str, str] = {}

        def entry(n: int) -> dict[str, Any]:
            data, fid = rows[n][2], rows[n][4]
            if data is None:
                if fid not in fetched:
                    ids = [r[4] for r in rows[n:n + chunk] if r[2] is None]
                    fetched.clear()
                    fetched.update(self._rows("SELECT id, data FROM fragments WHERE id = ANY(%s)", [ids],
                                              "searching"))
                data = fetched[fid]
            found: dict[str, Any] = load_json(data)
            return found

        return entry


def ranked_sql(where: str, with_entries: int | None = None) -> str:
    """The query of one search tier: (source id, line, entry, rank, id) of the best-ranked
    matches; with *with_entries*, only that many first rows carry their entry (NULL after).

    Parameters: the tier's tsquery, *where*'s parameters, how many matches to rank
    (:data:`CANDIDATES`), the tsquery again, and twice how many rows to return. At most that
    many matches are ranked, in the order the index gives them (a word in nearly every
    fragment of a large library would otherwise have each one's tsvector read and ranked).
    The rows come in rank order, ties in library order (collection, path, entry); sources are
    joined only to the matches ranked at least as high as the last row returned (ties
    included), not to all of them, unless *where* names a source's columns.
    """
    entry = "c.data" if with_entries is None else f"CASE WHEN row_number() OVER w <= {int(with_entries)} THEN c.data END"
    return (
        "WITH c AS MATERIALIZED ("
        f" SELECT id, source_id, ord, line, data, ts_rank_cd('{rank_weights()}', tsv, q, {RANK_NORMALISATION}) AS r"
        " FROM (SELECT f.id, f.source_id, f.ord, f.line, f.data, f.tsv"
        f"       FROM {_FROM if 's.' in where else 'fragments f'}"
        f"       WHERE f.tsv @@ CAST(%s AS tsquery) AND {where} LIMIT %s) m, CAST(%s AS tsquery) q) "
        # each row's source by its key (OFFSET 0 keeps the planner from hashing every source:
        # a sequential scan of all of them, 3-5 ms at 10,000 sources, for a few hundred rows)
        f"SELECT c.source_id, c.line, {entry}, c.r, c.id FROM c CROSS JOIN LATERAL "
        "(SELECT s.collection, s.path FROM sources s WHERE s.id = c.source_id OFFSET 0) s "
        "WHERE c.r >= (SELECT min(r) FROM (SELECT r FROM c ORDER BY r DESC LIMIT %s) t) "
        + ("" if with_entries is None else "WINDOW w AS (ORDER BY c.r DESC, s.collection, s.path, c.ord) ")
        + "ORDER BY c.r DESC, s.collection, s.path, c.ord LIMIT %s"
    )


def _entry_texts(entry: dict[str, Any]) -> tuple[str, str]:
    """(Fragment.full_text, the indexed fields joined) of a stored entry, without building the
    Fragment: what search sorts and filters its candidates on (as the SQLite store does on
    ``full_text`` and ``fragment_fields``)."""
    heading, text, tail = (str(entry.get(k) or "") for k in ("heading", "text", "tail"))
    subs = [str(sp.get("lead") or "") + str(sp.get("text") or "") for sp in entry.get("subpoints") or ()
            if isinstance(sp, dict)]
    full = "\n".join(p for p in [heading, text, *subs, tail] if p)
    tags = entry.get("tags")
    tags = [str(t) for t in tags] if isinstance(tags, list) else ([] if tags is None else [str(tags)])
    return full, "\n".join([heading, "\n".join([text, *subs, tail]), " ".join(tags)])


def where_sql(filters: Filters | None) -> tuple[list[str], list[Any]]:
    """SQL conditions over fragments f JOIN sources s: the same rules as Filters.match."""
    if filters is None:
        return [], []
    sql: list[str] = []
    params: list[Any] = []
    if filters.kind:
        sql.append("f.kind = %s")
        params.append(filters.kind)
    if filters.tag:
        sql.append("%s = ANY(f.tags)")
        params.append(filters.tag)
    if filters.meeting:
        sql.append("strpos(s.meeting, %s) > 0")
        params.append(filters.meeting)
    if filters.year is not None:
        sql.append("s.year = %s")
        params.append(filters.year)
    if filters.source:
        sql.append("(strpos(s.sfile, %s) > 0 OR strpos(s.collection || '/' || s.path, %s) > 0)")
        params += [filters.source, filters.source]
    if filters.needs_review:
        sql.append("f.review")
    if filters.paths:  # as shown_path() names them
        sql.append("(s.collection || '/' || s.path) = ANY(%s)")
        params.append(list(filters.paths))
    return sql, params

