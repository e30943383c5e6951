"""What one running workbench serves: library and template folders, the upload folder, the token."""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Upload limits: a writer's batch of past speeches, not an archive dump.
MAX_FILES = 20
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
#: A brief loaded from a file is a few kilobytes; anything this large is not one.
MAX_BRIEF_BYTES = 256 * 1024


def is_loopback(host: str) -> bool:
    """True for localhost and any loopback address (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass
class WebConfig:
    """Folders and safety settings of one workbench.

    Attributes:
        dirs: library folders, as :func:`speechgen.paths.library_dirs` gives them.
        tdirs: template folders, the user's first.
        upload_dir: the user's own library folder that uploads are ingested into
            (None: the ingest page explains how to give one).
        token: the access token every request must carry (None: loopback only, no token).
        host: the address the server binds to.
        database: a ``postgresql://`` URL (``serve --database``): the shared library is
            read from it and uploads are ingested into it; "" reads the folders.
        collections: with a database, the collections read (empty: all); uploads go into
            the first (default ``office``, as ``ingest --database``).
    """

    dirs: list[Path]
    tdirs: list[Path]
    upload_dir: Path | None = None
    token: str | None = None
    host: str = "127.0.0.1"
    max_files: int = MAX_FILES
    max_file_bytes: int = MAX_FILE_BYTES
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    csrf_cookie: str = "speechgen_csrf"
    token_cookie: str = "speechgen_token"
    extra: dict[str, str] = field(default_factory=dict)
    database: str = ""
    collections: list[str] = field(default_factory=list)
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    @property
    def upload_collection(self) -> str:
        """The database collection uploads are ingested into."""
        return self.collections[0] if self.collections else "office"

    def store(self) -> Any:
        """The library for one request, as ``open_store(dirs, database=…, collections=…)`` gives it.

        The folders are opened afresh each time (the SQLite cache notices changed files).
        A database store is kept per thread and its snapshot ended at each request, so a
        request sees everything committed before it without a new connection each time;
        a connection the server dropped is replaced.
        """
        from speechgen.library import open_store

        if not self.database:
            return open_store(self.dirs, database="")
        store = getattr(self._local, "store", None)
        if store is not None and (store.conn.closed or store.conn.broken):
            store = None
        if store is None:
            store = self._local.store = open_store(self.dirs, database=self.database, collections=self.collections)
        else:
            store.refresh()
        return store
