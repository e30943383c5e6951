"""The writer's copy of a database collection that ``ingest --database`` works in.

Ingest reads what is already in its output library (names redacted before 总书记 & co.,
near-duplicates to link, ids taken). Into a database, the collection used to be exported
to a new temporary folder at every ingest, and that folder read whole: the cost of one
speech grew with the collection. Now the collection is kept as fragment files in the
user's cache folder (``<cache>/collections/<digest of database and collection>/``) and
brought up to date at each ingest: only the sources changed since are written again, and
the folder's own SQLite cache lets ingest read just the texts near the new speech (see
docs/ingest.md, "Ingest into a large library").

What the copy holds is known from a manifest (``.speechgen-mirror.json`` beside the
folder): the database's mark (``library_state.instance``), and for each file the source's
key in the database (the imported file's digest, its fragments' count and the sum of their
edit versions: any import, edit or prune changes it) and the file's size, modification time
and inode as written (a file replaced or edited changes them; no file is read to know). A
file that is not as written (written by the last ingest, whether its import went through or
not; edited by hand) is written again from the database, and a file of no source is
removed. An ingest holds the copy locked; a second one at the same time works in
a temporary export, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from speechgen.library.postgres import GENERATION_TABLE, mask_url

MANIFEST = ".speechgen-mirror.json"


def signature(path: Path) -> list[int]:
    """What tells a file from the one before it at *path*: size, modification time and inode
    (ingest and the copy write files by an atomic rename, a new inode each time)."""
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


@contextlib.contextmanager
def collection_copy(url: str, collection: str, exists: bool, export: Any) -> Iterator[tuple[Path, bool]]:
    """(the folder to ingest into, whether it is the kept copy) for *collection* at *url*.

    The kept copy is brought up to date first; without a cache folder, or while another
    process holds the copy, the collection is exported (by ``export(folder)``) into a new
    temporary folder instead, removed afterwards. *exists*: the collection is in the
    database (a new one starts empty).
    """
    from speechgen.paths import cache_dir

    base = cache_dir()
    lock = None
    if base is not None:
        key = hashlib.sha256(f"{mask_url(url)}\0{collection}".encode()).hexdigest()[:20]
        home = base / "collections" / key
        with contextlib.suppress(OSError):
            home.mkdir(parents=True, exist_ok=True)
            lock = _try_lock(home / "lock")
    if lock is None:
        with tempfile.TemporaryDirectory(prefix="speechgen-ingest-") as tmp:
            work = Path(tmp) / collection
            work.mkdir()
            if exists:
                export(work)
            yield work, False
        return
    try:
        work = home / collection
        work.mkdir(exist_ok=True)
        yield work, True
    finally:
        os.close(lock)


def _try_lock(path: Path) -> int | None:
    """An exclusive lock on *path* (a file descriptor to close), or None when another holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no kept copy
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _manifest(work: Path) -> dict[str, Any]:
    try:
        raw = json.loads((work.parent / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return raw if isinstance(raw, dict) and isinstance(raw.get("files"), dict) else {}


def _save(work: Path, manifest: dict[str, Any]) -> None:
    from speechgen.output import atomic_write_bytes

    atomic_write_bytes(work.parent / MANIFEST, json.dumps(manifest, ensure_ascii=False).encode("utf-8"))


def bring_up_to_date(conn: Any, work: Path, collection: str,
                     export: Callable[[list[str]], list[Path]]) -> dict[str, list[int]]:
    """Make the files in *work* those of *collection* in *conn*'s snapshot, writing only what
    changed (``export(paths)`` writes those sources' files into *work*, in *conn*'s
    transaction, and returns them); returns each file's :func:`signature` (what ingest's
    output is then compared with).

    *conn* is in a repeatable-read transaction: the keys and the files written are of one
    snapshot.
    """
    from speechgen.library.files import find_library_files

    old = _manifest(work)
    state = conn.execute(f"SELECT instance FROM {GENERATION_TABLE}").fetchall()
    mark = str(state[0][0]) if len(state) == 1 else None
    # a database made again under the same name (another mark) shares nothing with the copy
    files: dict[str, Any] = old.get("files", {}) if mark is not None and old.get("instance") == mark else {}
    on_disk = {p.relative_to(work).as_posix(): p for p in find_library_files([work])}
    signatures = {rel: signature(p) for rel, p in on_disk.items()}
    keys = _keys(conn, "WHERE s.collection = %s", [collection])
    stale = sorted(rel for rel, k in keys.items() if files.get(rel) != [k, signatures.get(rel)])
    for rel in set(on_disk) - set(keys):  # gone from the database (pruned, or never imported)
        on_disk[rel].unlink()
        signatures.pop(rel)
    if stale:
        for p in export(stale):
            signatures[p.relative_to(work).as_posix()] = signature(p)
    if mark is not None:
        _save(work, {"instance": mark, "files": {rel: [k, signatures[rel]] for rel, k in keys.items() if rel in signatures}})
    return signatures


def _keys(conn: Any, where: str, params: list[Any]) -> dict[str, str]:
    """Each source's key (path → the imported file's digest, its fragments' count and the sum of
    their edit versions) among the sources passing *where*."""
    return dict(conn.execute(
        "SELECT s.path, s.sha || ':' || count(f.id) || ':' || coalesce(sum(f.version), 0) "
        f"FROM sources s LEFT JOIN fragments f ON f.source_id = s.id {where} GROUP BY s.id", params).fetchall())
