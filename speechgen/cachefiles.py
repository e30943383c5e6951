"""Files in the user's cache folder that only this user can have written.

Some caches hold what speechgen would run or build into a document: compiled template
code (loading it runs it) and the pre-styled base of every Word draft. A file planted or
changed by another local user must never be read, so each lives in a subfolder of the
cache folder that is this user's and closed to others (mode 0700), is named by the SHA-256
of everything that went into it, and is read only when it is a regular file owned by this
user that no one else may write. Anything else — a missing folder, a link, a foreign or
group-writable file, a short read — is a miss: the caller builds the value again.
docs/security.md ("Cached template code") describes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path
from typing import Any

from speechgen.paths import cache_dir

#: The most a cache file of this module may hold (a compiled fragment is a few KiB).
MAX_BYTES = 4 * 1024 * 1024


def digest(*parts: str | bytes) -> str:
    """SHA-256 of *parts*, each length-prefixed so no two lists of parts collide."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def _safe(info: os.stat_result, kind: int) -> bool:
    """Owned by this user, of the expected kind, writable by no one else."""
    return (
        stat.S_IFMT(info.st_mode) == kind
        and info.st_uid == os.getuid()
        and not info.st_mode & 0o022
    )


def private_folder(name: str) -> Path | None:
    """``<cache>/<name>``, made with mode 0700; None when there is no cache or it is not safe."""
    base = cache_dir()
    if base is None:
        return None
    folder = base / name
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not _safe(info, stat.S_IFDIR) or info.st_mode & 0o077:
        return None
    return folder


def read(folder: Path, key: str) -> bytes | None:
    """The bytes stored under *key*, or None (absent, unsafe, unreadable)."""
    try:
        fd = os.open(folder / key, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not _safe(info, stat.S_IFREG) or info.st_size > MAX_BYTES:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_BYTES + 1)
        return data if len(data) == info.st_size else None
    except OSError:
        return None
    finally:
        os.close(fd)


def write(folder: Path, key: str, data: bytes) -> None:
    """Store *data* under *key* (mode 0600, replaced atomically); a failure is only a miss later."""
    if len(data) > MAX_BYTES:
        return
    try:
        import tempfile  # only to write: most runs only read

        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")  # mkstemp: mode 0600
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, folder / key)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def read_value(folder: Path, key: str) -> Any:
    """The value :func:`write_value` stored under *key*, or None (absent, unsafe, unreadable,
    or not a value marshal can read back: the caller checks its shape)."""
    import marshal

    data = read(folder, key)
    if data is None:
        return None
    try:
        return marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        return None


def write_value(folder: Path, key: str, value: Any) -> None:
    """Store *value* (what marshal can write: code, tuples, dicts, str, bytes, numbers) under *key*."""
    import marshal

    write(folder, key, marshal.dumps(value))
