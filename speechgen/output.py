"""Safe writing: a temporary file in the target folder, then an atomic rename."""

from __future__ import annotations

import errno
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
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(
                f"{shown}: is a symbolic link that loops — remove it (rm '{shown}') or give -o another file"
            ) from None
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


# --------------------------------------------------------------------------- protection
# An output is replaced only when it is what speechgen last wrote there: its SHA-256 is
# kept beside it in a hidden file (.讲话稿.docx.speechgen). A file edited since, or one
# speechgen never wrote, is refused unless --force, which first copies it to 讲话稿.docx~.

_STAMP_SUFFIX = ".speechgen"


def stamp_path(path: Path) -> Path:
    """The hidden file beside *path* holding the SHA-256 of what speechgen wrote there."""
    return path.with_name(f".{path.name}{_STAMP_SUFFIX}")


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def written_by_us(path: Path) -> bool | None:
    """True when *path* is byte-identical to what speechgen last wrote; None when never written."""
    try:
        stamp = stamp_path(path).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    if len(stamp) != 2 or stamp[0] != "sha256":
        return None
    try:
        return _sha256(path) == stamp[1]
    except OSError:
        return False


def protect(path: Path, force: bool) -> Path | None:
    """Refuse to replace a file the writer may have edited; with *force*, back it up first.

    Returns:
        The backup made (``讲话稿.docx~``, then ``讲话稿.docx.~1~``, …), or None.

    Raises:
        OutputError: *path* exists, is not what speechgen last wrote there, and not *force*.
    """
    if not path.is_file():
        return None
    state = written_by_us(path)
    if state:
        return None
    shown = display_path(path)
    backup = _backup_name(path)
    if not force:
        why = "was not written by speechgen" if state is None else "changed since speechgen wrote it"
        raise OutputError(
            f"{shown}: {why} (edited by hand?) — give -o another file, or use --force to "
            f"replace it (the old file is kept as {display_path(backup)})"
        )
    try:
        import shutil

        shutil.copy2(path, backup)
    except OSError as exc:
        raise _cannot_write(backup, exc) from None
    return backup


def _backup_name(path: Path) -> Path:
    first = path.with_name(path.name + "~")
    if not first.exists():
        return first
    n = 1
    while path.with_name(f"{path.name}.~{n}~").exists():
        n += 1
    return path.with_name(f"{path.name}.~{n}~")


def stamp(path: Path) -> None:
    """Record that *path* is what speechgen wrote (after a successful write)."""
    target = stamp_path(path)
    try:
        atomic_write(target, lambda tmp: tmp.write_text(f"sha256 {_sha256(path)}\n", encoding="ascii"))
    except OutputError:
        target.unlink(missing_ok=True)  # no stamp: the next run refuses rather than overwrites
        raise


def refuse_inputs(path: Path, inputs: list[tuple[str, Path]]) -> None:
    """Refuse an output that is one of the run's inputs (same resolved path or same inode).

    Args:
        path: the output about to be written.
        inputs: (what, path) of every file the run reads: ("brief", b.yaml), …
    """
    try:
        out = path.resolve()
        out_stat = os.stat(path) if path.exists() else None
    except (OSError, RuntimeError):
        return  # check_target names a path that cannot be resolved
    for what, inp in inputs:
        # One stat an input (a large library is thousands of files): an input that exists
        # is the output exactly when it is the same inode, whichever links lead to it; only
        # an input that cannot be stat'ed is compared by resolved path.
        try:
            st = os.stat(inp)
        except (OSError, ValueError):
            st = None
        try:
            if st is not None:
                same = out_stat is not None and (st.st_dev, st.st_ino) == (out_stat.st_dev, out_stat.st_ino)
            else:
                same = inp.resolve() == out
        except (OSError, RuntimeError):
            continue
        if same:
            shown = str(path) if not path.is_absolute() else display_path(path)  # the link's own name
            raise OutputError(
                f"{shown}: is the {what} '{display_path(inp)}' — writing the draft "
                "there would destroy it; give -o another file"
            )
