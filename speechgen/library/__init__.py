"""The fragment library: fragment files ↔ :class:`~speechgen.model.Fragment`, validated,
stored, filtered and searched.

* :mod:`~speechgen.library.files` — parse and validate fragment YAML files; ``Library``
  and ``Filters``;
* :mod:`~speechgen.library.textcheck` — the whitelist of what a fragment's Jinja may do;
* :mod:`~speechgen.library.sqlite` — the SQLite cache and full-text index of the files;
* :mod:`~speechgen.library.postgres` — the same library in a shared PostgreSQL database;
* :mod:`~speechgen.library.store` — the ``Store`` interface and :func:`open_store`.
"""

from __future__ import annotations

from speechgen.library.files import Filters, Library, Row, find_library_files, parse_library_file
from speechgen.library.sqlite import Hit
from speechgen.library.store import Store, database_url, load_library, open_store

__all__ = [
    "Filters",
    "Hit",
    "Library",
    "Row",
    "Store",
    "database_url",
    "find_library_files",
    "load_library",
    "open_store",
    "parse_library_file",
]
