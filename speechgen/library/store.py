"""The one interface every storage of the library offers, and the function that opens one.

Compose, the command line and the web app read the library only through :class:`Store`:
the fragments (all, or narrowed by :class:`~speechgen.library.files.Filters`), one
fragment by id, and ranked search. Two stores exist: the YAML files of the library
folders with their SQLite cache and full-text index (:mod:`speechgen.library.sqlite`,
the default), and a shared PostgreSQL database (:mod:`speechgen.library.postgres`),
chosen by ``database=`` (``--database``) or ``SPEECHGEN_DATABASE``.

A *collection* narrows either: in the database each source belongs to one (``db import
DIR --collection NAME``, by default the folder's name); in the folder library a collection
is a library folder, named by its last part (``fragments`` for the shipped one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from speechgen.errors import LibraryError
from speechgen.library.files import (
    Filters,
    Head,
    Library,
    Row,
    check_dirs,
    duplicate_problems,
    find_library_files,
    parse_library_file,
    raise_library_problems,
)
from speechgen.library.sqlite import Hit, Index
from speechgen.model import Fragment

__all__ = ["Store", "collection_dirs", "database_url", "load_library", "open_store"]


class Store(Protocol):
    """What compose, the CLI and the web app need of a library."""

    dirs: list[Path]

    def library(self) -> Library:
        """Every fragment, validated, in library order."""
        ...

    def get(self, fid: str) -> Fragment:
        """One fragment by id; a SpeechgenError with a did-you-mean when there is none.

        Never loads the whole library: the cost does not grow with its size.
        """
        ...

    def has(self, fid: str) -> bool:
        """True when *fid* is in the library."""
        ...

    def variants_of(self, frag: Fragment) -> list[Fragment]:
        """*frag*'s family of near-duplicates (as :meth:`Library.variants_of`), in library order."""
        ...

    def page(self, filters: Filters, limit: int | None = None, offset: int = 0) -> Iterator[Fragment]:
        """The fragments passing *filters* from *offset* on, at most *limit*, read as they go."""
        ...

    def rows(self, filters: Filters, limit: int | None = None, offset: int = 0) -> list[Row]:
        """What ``fragments list`` shows of the fragments :meth:`page` gives, without their texts where the store can."""
        ...

    def count(self, filters: Filters) -> int:
        """How many fragments pass *filters*."""
        ...

    def select(self, filters: Filters) -> list[Fragment]:
        """The fragments passing *filters*, in library order."""
        ...

    def heads(self, filters: Filters) -> list[Head]:
        """Id, path, tags and source of each fragment passing *filters*, in library order.

        What compose ranks candidates by, without reading (or unpacking) their texts.
        """
        ...

    def search(self, query: str, filters: Filters | None = None, limit: int = 10) -> list[Hit]:
        """Fragments ranked for *query*; exact-phrase matches first."""
        ...

    # Optional, for stores that can answer without reading every fragment (both stores here
    # do; callers fall back to :func:`speechgen.library.facets.facets` of ``library()``):
    #
    #   def facets(self, tags: int = 200) -> dict[str, list[Any]]:
    #       """Meetings, years, source files and the commonest tags of the library."""

    def query_tokens(self, query: str) -> list[str]:
        """The words of *query* as search sees them (to mark them in snippets).

        Documents and queries are tokenised only by :mod:`speechgen.library.terms`
        (``index_terms``, ``query_plan``), so every store ranks with the same terms.
        """
        ...


def database_url(database: str | None = None) -> str:
    """The database to use: *database* when given (``""`` means none), else ``SPEECHGEN_DATABASE``."""
    if database is None:
        database = os.environ.get("SPEECHGEN_DATABASE", "")
    return database.strip()


def open_store(dirs: list[Path], database: str | None = None, collections: list[str] | None = None) -> Store:
    """The library, validated (every problem raised at once), ready to read.

    Args:
        dirs: the library folders (ignored when a database is used).
        database: a ``postgresql://`` URL; None reads ``SPEECHGEN_DATABASE``, ``""`` means
            the folders.
        collections: only these collections (empty: all).
    """
    url = database_url(database)
    if url:
        from speechgen.library.postgres import PgStore

        return PgStore(url, collections, dirs)
    if collections:
        dirs = collection_dirs(dirs, collections)
    check_dirs(dirs)  # before the cache names its database after them: a looping link crashes resolve()
    return Index(dirs)


def collection_dirs(dirs: list[Path], collections: list[str]) -> list[Path]:
    """The library folders named *collections* (a folder's collection is its last part)."""
    names = {d.resolve().name: d for d in dirs}
    unknown = [c for c in collections if c not in names]
    if unknown:
        from speechgen.errors import did_you_mean

        hint = did_you_mean(unknown[0], names) or f" — the library folders are: {', '.join(names)}"
        raise LibraryError(f"--collection: no library folder named '{unknown[0]}'{hint}")
    return [d for d in dirs if d.resolve().name in collections]


def load_library(dirs: list[Path], *, use_cache: bool = True) -> Library:
    """Load and validate every fragment file under *dirs*; fail once listing every problem."""
    if use_cache:
        return open_store(dirs).library()
    files = [parse_library_file(p) for p in find_library_files(dirs)]
    problems = [p for lf in files for p in lf.problems]
    fragments = [f for lf in files for f in lf.fragments]
    problems += duplicate_problems(fragments)
    raise_library_problems(problems)
    return Library(fragments, dirs)
