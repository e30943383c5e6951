"""Reading the user's own files: briefs, drafts, YAML. Every failure is a clear SpeechgenError.

YAML is read two ways: :func:`parse_yaml` (plain data, safe loader, dates kept as text)
and :func:`compose_yaml` (data that remembers the line of every key and list item):

* each mapping (:class:`LineMap`) and list (:class:`LineList`) knows the line of each
  key and item, for ``file:line`` messages;
* a date such as ``2024-13-45`` stays the text the user wrote, instead of becoming a
  Python date (or an exception) inside the YAML loader;
* a ``!!python/...`` tag is refused with a message and builds nothing.

Nothing here imports the rest of speechgen but :mod:`speechgen.errors`.
"""

from __future__ import annotations

import errno
import functools
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speechgen.errors import BriefError, SpeechgenError, bad_char

MB = 1024 * 1024
#: The largest file of each kind speechgen reads, checked before reading (docs/security.md).
MAX_BRIEF = 4 * MB
MAX_DRAFT = 16 * MB
MAX_TEMPLATE = 1 * MB  # a .j2 template, a part it includes, or its .yaml metadata
MAX_FRAGMENT_FILE = 64 * MB
MAX_SPEECH = 64 * MB  # a .txt or .docx to ingest, as stored
MAX_UNZIPPED = 256 * MB  # everything inside a .docx to ingest, unpacked
MAX_SMALL = 1 * MB  # anything else: the --junk list

if TYPE_CHECKING:  # yaml is imported where used: a warm library cache never needs it
    import yaml


@functools.lru_cache(maxsize=1)
def _loader() -> Any:
    """PyYAML's C safe loader where built (several times faster), else the Python one.

    Dates stay text: an impossible date such as 2024-13-45 would otherwise escape as a
    ValueError, and fragment files and metadata only ever show dates. yaml is imported
    here, not at the top: a warm cache never needs it.
    """
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resolvers = {
        first: [(tag, rx) for tag, rx in found if tag != "tag:yaml.org,2002:timestamp"]
        for first, found in base.yaml_implicit_resolvers.items()
    }
    return type("TextDateLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def display_path(path: Path | str) -> str:
    """A path as the user should read it: relative to the working folder when inside it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, RuntimeError, OSError):  # outside the folder; a symlink loop; cwd gone
        return str(p)


def size_text(n: int) -> str:
    """A file size as a message shows it: 4 MB, 1.5 GB, 812 bytes."""
    for unit, size in (("GB", MB * 1024), ("MB", MB), ("KB", 1024)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value >= 10 or value == int(value) else f"{value:.1f} {unit}"
    return f"{n} bytes"


_SPECIAL = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
            (stat.S_ISSOCK, "a socket"))


def special_kind(path: Path) -> str:
    """What *path* is when it is neither a regular file nor a folder ('' otherwise, or when missing)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return "a symbolic link that loops back on itself" if exc.errno == errno.ELOOP else ""
    except ValueError:
        return ""
    return next((name for test, name in _SPECIAL if test(mode)), "")


def check_file(
    path: Path,
    what: str,
    limit: int,
    *,
    missing: str = "check the path",
    folder: str = "",
    error: type[SpeechgenError] = SpeechgenError,
    shown: str = "",
) -> None:
    """Fail with a clear *error* unless *path* is a regular file of at most *limit* bytes.

    Checked before anything is read: /dev/zero, a named pipe or a socket would hang or
    fill memory, a symbolic link that loops crashes the reader, a huge file is no brief.
    """
    shown = shown or display_path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise error(f"{shown}: no such file — {missing}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(f"{shown}: a symbolic link that loops back on itself — give a real file") from None
        if exc.errno == errno.ENOTDIR:
            raise error(f"{shown}: no such file — {missing}") from None
        raise error(f"{shown}: cannot read ({exc.strerror})") from None
    except ValueError:  # a NUL in the name
        raise error(f"{shown}: no such file — {missing}") from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"{shown}: is a folder, not a {what}" + (f" — {folder}" if folder else ""))
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _SPECIAL if test(st.st_mode)), "not a regular file")
        raise error(f"{shown}: is {kind}, not a file — give the {what} as an ordinary file")
    if st.st_size > limit:
        raise error(
            f"{shown}: {size_text(st.st_size)} is too large for a {what} (at most {size_text(limit)}) "
            "— is this the right file?"
        )


def read_checked(path: Path, what: str, limit: int, error: type[SpeechgenError], shown: str = "") -> bytes:
    """The bytes of a file :func:`check_file` accepted (OSError is left to the caller)."""
    data = path.read_bytes()
    if len(data) > limit:  # it grew after the check
        shown = shown or display_path(path)
        raise error(f"{shown}: {size_text(len(data))} is too large for a {what} (at most {size_text(limit)}) "
                    "— is this the right file?")
    return data


def read_speech(path: Path, shown: str) -> bytes:
    """The bytes of a speech to ingest: a regular file of sane size, a .docx that does not
    unpack to more than :data:`MAX_UNZIPPED` (a zip bomb). OSError is left to the caller."""
    from speechgen.errors import IngestError

    check_file(path, "speech", MAX_SPEECH, error=IngestError, shown=shown)
    data = read_checked(path, "speech", MAX_SPEECH, IngestError, shown)
    if path.suffix.lower() == ".docx":
        check_unzipped(data, shown, MAX_UNZIPPED, IngestError,
                       "not a valid .docx (corrupt or not a Word file) — re-save it from Word")
    return data


def check_unzipped(data: bytes, shown: str, limit: int, error: type[SpeechgenError], corrupt: str = "") -> None:
    """Fail when the zip archive *data* unpacks to more than *limit* bytes.

    The sizes in the zip directory are summed first, before anything is unpacked. A
    directory can lie, and Python's zipfile unpacks a whole entry at once when asked to
    read it whole, so each entry is then unpacked a megabyte at a time and counted (and
    checked against its CRC), nothing kept. A damaged archive passes unless *corrupt*
    (the message for it) is given: its reader reports it.
    """
    import io
    import zipfile
    import zlib

    def too_big(total: int) -> SpeechgenError:
        return error(f"{shown}: unpacks to {size_text(total)}, more than a Word document may hold "
                     f"({size_text(limit)}) — is it really a speech?")

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            declared = sum(max(info.file_size, 0) for info in infos)
            if declared > limit:
                raise too_big(declared)
            total = 0
            for info in infos:
                with archive.open(info) as member:
                    while chunk := member.read(1 << 20):
                        total += len(chunk)
                        if total > limit:
                            raise too_big(total)
    except SpeechgenError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, KeyError):
        if corrupt:
            raise error(f"{shown}: {corrupt}") from None


def read_user_text(
    path: Path,
    what: str,
    *,
    missing: str = "check the path",
    folder: str = "",
    error: type[SpeechgenError] = SpeechgenError,
    limit: int = MAX_BRIEF,
) -> str:
    """The UTF-8 text of a file the user named; each way it cannot be read is a clear *error*.

    *what* names the file in messages ("brief", "draft"); *missing* and *folder* are the
    fixes offered when the path does not exist or is a folder; *limit* is its largest size.
    """
    shown = display_path(path)
    check_file(path, what, limit, missing=missing, folder=folder, error=error, shown=shown)
    try:
        data = read_checked(path, what, limit, error, shown)
    except FileNotFoundError:
        raise error(f"{shown}: no such file — {missing}") from None
    except IsADirectoryError:
        raise error(f"{shown}: is a folder, not a {what}" + (f" — {folder}" if folder else "")) from None
    except OSError as exc:
        raise error(f"{shown}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{shown}: not UTF-8 text — save the {what} as UTF-8") from None


def load_yaml(path: Path, what: str = "YAML file", limit: int = MAX_TEMPLATE) -> Any:
    """Safe-load a YAML file, turning every YAML problem into a SpeechgenError with file:line:col."""
    return parse_yaml(read_user_text(path, what, limit=limit), display_path(path))


def max_digits() -> int:
    """The most digits Python turns into a number (its int limit, 4,300 by default)."""
    return int(getattr(sys, "get_int_max_str_digits", lambda: 4300)() or 0)


def too_many_digits(text: str, shown: str) -> str:
    """The message for a number of more digits than Python reads, with its line."""
    import re

    m = re.search(rf"\d{{{max_digits() + 1},}}", text) if max_digits() else None
    where = f"{shown}:{text.count(chr(10), 0, m.start()) + 1}" if m else shown
    return f"{where}: a number with more than {max_digits():,} digits — no real number is this long; shorten it"


def _reader_problem(exc: Any, text: str, shown: str) -> str:
    """A character YAML refuses (a raw control character) as ``file:line: holds …``."""
    position = getattr(exc, "position", 0) or 0
    line = text.count("\n", 0, position) + 1
    problem = bad_char(chr(exc.character)) if isinstance(getattr(exc, "character", None), int) else ""
    return f"{shown}:{line}: {problem or 'holds a character YAML does not allow — remove it'}"


def parse_yaml(text: str, shown: str) -> Any:
    """Safe-load YAML text; *shown* names its file in messages."""
    import yaml

    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader
    except yaml.reader.ReaderError as exc:
        raise SpeechgenError(_reader_problem(exc, text, shown)) from None
    except ValueError as exc:  # an integer past Python's digit limit
        if "digits" not in str(exc):
            raise SpeechgenError(f"{shown}: YAML error: {exc}") from None
        raise SpeechgenError(too_many_digits(text, shown)) from None
    except RecursionError:
        raise SpeechgenError(f"{shown}: lists or mappings nested too deeply to read — a few levels are enough") from None
    except yaml.constructor.ConstructorError as exc:
        where = _mark(shown, exc.problem_mark)
        tag = str(exc.problem or "").split("'")[1] if "'" in str(exc.problem) else "?"
        tag = tag.replace("tag:yaml.org,2002:", "!!")  # as the user wrote it
        raise SpeechgenError(
            f"{where}: the YAML tag {tag} is not allowed — only plain YAML "
            "(text, numbers, lists, mappings) is read, nothing that builds Python objects"
        ) from None
    except yaml.MarkedYAMLError as exc:
        where = _mark(shown, exc.problem_mark)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and problem.startswith("but "):  # "but found another document"
            problem = f"{exc.context}, {problem}"
        raise SpeechgenError(
            f"{where}: YAML syntax error: {problem} — check the indentation and quoting near this line"
        ) from None
    except yaml.YAMLError as exc:  # pragma: no cover - errors without a mark are rare
        raise SpeechgenError(f"{shown}: YAML error: {exc}") from None


def _mark(shown: str, mark: Any) -> str:
    if mark is None:
        return shown
    return f"{shown}:{mark.line + 1}:{mark.column + 1}"


_PY_TAG = "tag:yaml.org,2002:python/"
REFUSED = object()  # a value whose YAML tag was refused (already reported)


class _Tree:
    """Plain data built from a YAML node tree, with the line of every key and item."""

    def __init__(self, shown: str) -> None:
        import yaml

        self.shown = shown
        self.problems: list[str] = []
        self._ctor = yaml.constructor.SafeConstructor()
        self._built: dict[int, Any] = {}  # node → value: an alias is built once (no "billion laughs")
        self._open: set[int] = set()  # nodes being built: an alias to one of them loops

    def value(self, node: yaml.Node) -> Any:
        key = id(node)
        if key in self._built:
            return self._built[key]
        if key in self._open:
            self.problems.append(
                f"{self.shown}:{node.start_mark.line + 1}: an alias (*name) refers to the item that "
                "contains it — a brief cannot loop; write the values out"
            )
            return REFUSED
        self._open.add(key)
        try:
            self._built[key] = self._value(node)
        finally:
            self._open.discard(key)
        return self._built[key]

    def _value(self, node: yaml.Node) -> Any:
        import yaml

        if node.tag.startswith(_PY_TAG):
            tag = "!!python/" + node.tag[len(_PY_TAG):]
            self.problems.append(
                f"{self.shown}:{node.start_mark.line + 1}: the YAML tag {tag} is not allowed — only "
                "plain YAML (text, numbers, lists, mappings) is read, nothing that builds Python objects"
            )
            return REFUSED
        if isinstance(node, yaml.MappingNode):
            return LineMap(self._items(node))
        if isinstance(node, yaml.SequenceNode):
            return LineList((self.value(v), v.start_mark.line + 1) for v in node.value)
        problem = bad_char(str(node.value))
        if problem:
            self.problems.append(f"{self.shown}:{node.start_mark.line + 1}: {problem}")
            return REFUSED
        if node.tag.endswith((":timestamp", ":str")) or not node.tag.startswith("tag:yaml.org"):
            return str(node.value)
        try:
            return self._ctor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError):
            return str(node.value)

    def _items(self, node: yaml.MappingNode) -> Any:
        """(key, value, line) of a mapping; merge keys, keys that are not text and keys
        given twice are reported (PyYAML would keep the last value without a word)."""
        seen: dict[Any, int] = {}
        for k, v in node.value:
            line = k.start_mark.line + 1
            if k.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    f"{self.shown}:{line}: the YAML merge key '<<' is not supported here — write the keys out"
                )
                continue
            key = self.value(k)
            if key is REFUSED:
                continue
            if isinstance(key, (list, dict)):
                self.problems.append(f"{self.shown}:{line}: a key must be a word, not {'a list' if isinstance(key, list) else 'a mapping'}")
                continue
            key = key if isinstance(key, (str, int)) else str(key)
            if key in seen:
                self.problems.append(
                    f"{self.shown}:{line}: '{key}' is given twice (lines {seen[key]} and {line}) — keep one of them"
                )
                continue
            seen[key] = line
            yield key, self.value(v), line


class LineMap(dict):  # type: ignore[type-arg,unused-ignore]
    """A mapping that remembers the line of each key."""

    def __init__(self, items: Any) -> None:
        super().__init__()
        self.lines: dict[Any, int] = {}
        self.refused: set[Any] = set()  # keys whose value was refused (and reported)
        for key, value, line in items:
            key = key if isinstance(key, (str, int)) else str(key)
            self.lines[key] = line
            if value is REFUSED:
                self.refused.add(key)
            else:
                self[key] = value


class LineList(list):  # type: ignore[type-arg,unused-ignore]
    """A list that remembers the line of each item."""

    def __init__(self, items: Any) -> None:
        super().__init__()
        self.lines: list[int] = []
        for value, line in items:
            self.append(value)
            self.lines.append(line)


def key_lines(value: Any) -> dict[Any, int]:
    """Key → line of a mapping read by :class:`_Tree` (empty for anything else)."""
    lines = getattr(value, "lines", None)
    return lines if isinstance(lines, dict) else {}


_FAILED = object()
_PURE_ONLY = ("\t", "\ufeff", "\u2028", "\u2029", "\x85")


def _c_compose(text: str) -> Any:
    """libyaml's node tree of *text* (the same nodes, tags and lines as PyYAML's pure parser,
    about ten times sooner), or ``_FAILED``: errors are left to the pure parser, whose marks
    and messages the user sees. Texts with a tab, a byte-order mark inside or U+0085/2028/2029
    go the pure way too: there libyaml accepts or places things otherwise (a tab after a plain
    scalar; a BOM read as part of a key). ``tests/test_userfiles.py`` compares both parsers."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None or any(c in text for c in _PURE_ONLY):
        return _FAILED
    try:
        return yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return _FAILED


def compose_yaml(text: str, shown: str) -> tuple[Any, list[str]]:
    """Data of YAML *text* (see the module docstring) and the problems found (refused tags).

    Raises:
        SpeechgenError: for a YAML syntax error, with file:line:col.
    """
    import yaml

    try:
        node = _c_compose(text)
        if node is _FAILED:  # no C parser, or the text is not valid YAML: the pure parser's message
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None, []
        tree = _Tree(shown)
        return tree.value(node), tree.problems
    except yaml.reader.ReaderError as exc:
        raise BriefError(_reader_problem(exc, text, shown)) from None
    except yaml.YAMLError:
        parse_yaml(text, shown)  # raises the formatted syntax error
        raise BriefError(f"{shown}: not valid YAML — check the indentation and quoting") from None
    except RecursionError:
        raise BriefError(
            f"{shown}: lists or mappings nested too deeply to read — a brief needs only a few levels"
        ) from None
