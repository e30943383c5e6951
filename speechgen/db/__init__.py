"""The office library in PostgreSQL: schema and migrations, import, export, ingest, edits.

Reading the database is :class:`speechgen.library.postgres.PgStore` (through
``open_store(dirs, database=…)``); this package writes it:

* :mod:`~speechgen.db.schema` — ``db init``: the schema, migrated step by step, version table;
* :mod:`~speechgen.db.transfer` — ``db import`` / ``db export`` / ``ingest --database`` /
  ``fragments edit`` / collections.
"""

from __future__ import annotations

from speechgen.db.schema import init_db
from speechgen.db.transfer import (
    ImportReport,
    edit_fragment,
    export_dir,
    import_dir,
    ingest_to_db,
    list_collections,
    set_read_only,
)
from speechgen.library.postgres import DatabaseError, mask_url

__all__ = [
    "DatabaseError",
    "ImportReport",
    "edit_fragment",
    "export_dir",
    "import_dir",
    "ingest_to_db",
    "init_db",
    "list_collections",
    "mask_url",
    "set_read_only",
]
