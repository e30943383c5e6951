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

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speechgen.errors import BriefError, SpeechgenError

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


def read_user_text(
    path: Path,
    what: str,
    *,
    missing: str = "check the path",
    folder: str = "",
    error: type[SpeechgenError] = SpeechgenError,
) -> str:
    """The UTF-8 text of a file the user named; each way it cannot be read is a clear *error*.

    *what* names the file in messages ("brief", "draft"); *missing* and *folder* are the
    fixes offered when the path does not exist or is a folder.
    """
    shown = display_path(path)
    try:
        data = path.read_bytes()
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


def load_yaml(path: Path, what: str = "YAML file") -> Any:
    """Safe-load a YAML file, turning every YAML problem into a SpeechgenError with file:line:col."""
    return parse_yaml(read_user_text(path, what), display_path(path))


def parse_yaml(text: str, shown: str) -> Any:
    """Safe-load YAML text; *shown* names its file in messages."""
    import yaml

    try:
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader
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
            return LineMap((self.value(k), self.value(v), k.start_mark.line + 1) for k, v in node.value)
        if isinstance(node, yaml.SequenceNode):
            return LineList((self.value(v), v.start_mark.line + 1) for v in node.value)
        if node.tag.endswith((":timestamp", ":str")) or not node.tag.startswith("tag:yaml.org"):
            return str(node.value)
        try:
            return self._ctor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError):
            return str(node.value)


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


def compose_yaml(text: str, shown: str) -> tuple[Any, list[str]]:
    """Data of YAML *text* (see the module docstring) and the problems found (refused tags).

    Raises:
        SpeechgenError: for a YAML syntax error, with file:line:col.
    """
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None, []
        tree = _Tree(shown)
        return tree.value(node), tree.problems
    except yaml.YAMLError:
        parse_yaml(text, shown)  # raises the formatted syntax error
        raise BriefError(f"{shown}: not valid YAML — check the indentation and quoting") from None
    except RecursionError:
        raise BriefError(
            f"{shown}: lists or mappings nested too deeply to read — a brief needs only a few levels"
        ) from None
