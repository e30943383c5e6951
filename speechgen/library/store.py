"""The one interface every storage of the library offers, and the function that opens one.

Compose, the command line and the web app read the library only through :class:`Store`:
the fragments (all, or narrowed by :class:`~speechgen.library.files.Filters`), one
fragment by id, and ranked search. Today's store is the YAML files of the library
folders with their SQLite cache and full-text index (:mod:`speechgen.library.sqlite`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from speechgen.library.files import (
    Filters,
    Library,
    check_dirs,
    duplicate_problems,
    find_library_files,
    parse_library_file,
    raise_library_problems,
)
from speechgen.library.sqlite import Hit, Index
from speechgen.model import Fragment

__all__ = ["Store", "load_library", "open_store"]


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

    def count(self, filters: Filters) -> int:
        """How many fragments pass *filters*."""
        ...

    def select(self, filters: Filters) -> list[Fragment]:
        """The fragments passing *filters*, in library order."""
        ...

    def search(self, query: str, filters: Filters | None = None, limit: int = 10) -> list[Hit]:
        """Fragments ranked for *query*; exact-phrase matches first."""
        ...

    def query_tokens(self, query: str) -> list[str]:
        """The words of *query* as search sees them (to mark them in snippets).

        Documents and queries are tokenised only by :mod:`speechgen.library.terms`
        (``index_terms``, ``query_plan``), so every store ranks with the same terms.
        """
        ...


def open_store(dirs: list[Path]) -> Store:
    """The library of *dirs*, validated (every problem raised at once), ready to read."""
    check_dirs(dirs)  # before the cache names its database after them: a looping link crashes resolve()
    return Index(dirs)


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
