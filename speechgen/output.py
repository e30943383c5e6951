"""Safe writing: a temporary file in the target folder, then an atomic rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from speechgen.errors import OutputError
from speechgen.userfiles import display_path


def check_target(path: Path) -> None:
    """Fail early, with a fix, when *path* cannot be written."""
    shown = display_path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"{shown}: is a folder — give a file name such as {shown}/讲话稿.docx")
    if parent.exists() and not parent.is_dir():
        raise OutputError(f"{shown}: '{display_path(parent)}' is a file, not a folder — choose another path")
    if not parent.is_dir():
        raise OutputError(
            f"{shown}: folder '{display_path(parent)}' does not exist — create it first "
            f"(mkdir -p '{display_path(parent)}')"
        )
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"{shown}: cannot write here (permission denied) — choose another path")


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call *write* on a temporary file beside *path*, then rename it over *path*.

    If *write* fails, *path* is left exactly as it was.
    """
    check_target(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    except OSError as exc:  # root passes os.access, yet /proc, a read-only disk … say no here
        raise _cannot_write(path, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as exc:  # the writers only write *tmp*: any OSError is about writing
        tmp.unlink(missing_ok=True)
        raise _cannot_write(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    reason = "permission denied" if isinstance(exc, PermissionError) else exc.strerror or str(exc)
    return OutputError(f"{display_path(path)}: cannot write here ({reason}) — choose another path")


def atomic_write_text(path: Path, text: str) -> None:
    """Write UTF-8 *text* to *path* atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write *data* to *path* atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))
