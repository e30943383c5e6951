"""YAML text → plain data that remembers the line of every key and list item.

The text is composed into a YAML node tree and turned into data by hand, so that

* each mapping (:class:`LineMap`) and list (:class:`LineList`) knows the line of each
  key and item, for ``file:line`` messages;
* a date such as ``2024-13-45`` stays the text the user wrote, instead of becoming a
  Python date (or an exception) inside the YAML loader;
* a ``!!python/...`` tag is refused with a message and builds nothing.
"""

from __future__ import annotations

from typing import Any

import yaml

from speechgen.errors import BriefError
from speechgen.library import parse_yaml

_PY_TAG = "tag:yaml.org,2002:python/"
REFUSED = object()  # a value whose YAML tag was refused (already reported)


class _Tree:
    """Plain data built from a YAML node tree, with the line of every key and item."""

    def __init__(self, shown: str) -> None:
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
