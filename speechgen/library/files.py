"""fragments/*.yaml ↔ Fragment objects: parse, validate, list, filter, look up."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from speechgen.errors import (
    LibraryError,
    SpeechgenError,
    bad_char,
    char_name,
    did_you_mean,
    invisible,
    raise_problems,
)
from speechgen.library.textcheck import jinja_names
from speechgen.model import KINDS, Fact, Fragment, Source, Subpoint, Variant
from speechgen.paths import path_order
from speechgen.userfiles import (
    MAX_FRAGMENT_FILE,
    check_file,
    display_path,
    parse_yaml,
    read_checked,
    special_kind,
)

#: Names a fragment text may call that are not slots.
TEXT_FUNCTIONS = frozenset({"blank"})


# --------------------------------------------------------------------------- parsing


def _id_lines(text: str) -> dict[str, list[int]]:
    """The lines of each ``id:``, in order (an id written twice has two)."""
    lines: dict[str, list[int]] = {}
    for no, line in enumerate(text.splitlines(), 1):
        m = _ID_LINE.match(line) if "id:" in line else None  # no match without "id:"
        if m:
            lines.setdefault(m.group(1), []).append(no)
    return lines


_ID_LINE = re.compile(r"\s*-?\s*id:\s*['\"]?([^'\"#\s]+)")


def _source(raw: Any) -> Source:
    if not isinstance(raw, dict):
        return Source()
    year = raw.get("year")
    ann = raw.get("announced_points")

    def text(key: str) -> str:  # metadata only: a list or mapping here is ignored, not str()'d
        value = raw.get(key)
        return str(value) if isinstance(value, (str, int, float)) else ""

    return Source(
        file=text("file"),
        title=text("title"),
        meeting=text("meeting"),
        year=year if isinstance(year, int) else None,
        date=text("date"),
        speaker=text("speaker"),
        campaign=text("campaign"),
        announced_points=ann if isinstance(ann, int) else None,
        warnings=_strs(raw.get("warnings")) if _is_words(raw.get("warnings")) else (),
    )


def source_of(raw: Any) -> Source:
    """The :class:`Source` of a ``source:`` mapping as read from YAML (anything else: empty)."""
    return _source(raw)


def _strs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return (str(value),)


def fragment_from_dict(raw: dict[str, Any], source: Source, path: str, line: int) -> Fragment:
    """Build a Fragment from one entry of a library file (already validated)."""
    subs = tuple(
        Subpoint(lead=str(s.get("lead") or ""), text=str(s.get("text") or ""))
        for s in raw.get("subpoints") or ()
        if isinstance(s, dict)
    )
    variants = tuple(
        Variant(
            source=str(v.get("source") or ""),
            id=str(v.get("id") or ""),
            similarity=float(v.get("similarity") or 1.0),
        )
        for v in raw.get("variants") or ()
        if isinstance(v, dict)
    )
    number = raw.get("number")
    return Fragment(
        id=str(raw["id"]),
        kind=str(raw["kind"]),
        text=str(raw.get("text") or ""),
        heading=str(raw.get("heading") or ""),
        number=number if isinstance(number, int) else None,
        tags=_strs(raw.get("tags")),
        slots=_strs(raw.get("slots")),
        blanks=_strs(raw.get("blanks")),
        subpoints=subs,
        tail=str(raw.get("tail") or ""),
        review=bool(raw.get("review", False)),
        truncated=bool(raw.get("truncated", False)),
        variants=variants,
        restored=_strs(raw.get("restored")),
        source=source,
        campaign=str(raw.get("campaign") or ""),
        facts=tuple(Fact(str(f.get("kind") or ""), str(f.get("text") or ""))
                    for f in raw.get("facts") or () if isinstance(f, dict)),
        phase=str(raw.get("phase") or ""),
        path=path,
        line=line,
    )


def _is_words(value: Any) -> bool:
    scalar = (str, int, float)
    return value is None or isinstance(value, scalar) or (
        isinstance(value, list) and all(isinstance(v, scalar) for v in value)
    )


def _shape_problems(raw: dict[str, Any]) -> list[str]:
    """Fields of the wrong type: texts that are lists, word lists that nest, bad variants."""
    out = []
    phase = raw.get("phase")
    if phase and phase not in ("筹备", "启动", "推进", "总结"):
        out.append(f"'phase' is 筹备, 启动, 推进 or 总结, not '{phase}' — or leave it out")
    for key in ("heading", "text", "tail", "campaign"):
        if isinstance(raw.get(key), (list, dict)):
            out.append(f"'{key}' must be text, not a list or mapping — write it as one (quoted) text")
    for key in ("tags", "slots", "blanks", "restored"):
        if not _is_words(raw.get(key)):
            out.append(f"'{key}' must be a list of words, e.g. [a, b]")
    subpoints = raw.get("subpoints")
    if subpoints is not None and not isinstance(subpoints, list):
        out.append("'subpoints' must be a list of {lead: …, text: …}")
    elif any(isinstance(sp, dict) and isinstance(sp.get(k), (list, dict)) for sp in subpoints or () for k in ("lead", "text")):
        out.append("a subpoint's 'lead' and 'text' must be text, not a list or mapping — quote them")
    facts = raw.get("facts")
    if facts is not None and not (isinstance(facts, list) and all(
            isinstance(f, dict) and all(isinstance(f.get(k), str) for k in ("kind", "text")) for f in facts)):
        out.append("'facts' must be a list of {kind: 地方, text: …}")
    variants = raw.get("variants")
    if variants is not None and not (
        isinstance(variants, list)
        and all(isinstance(v, dict) and isinstance(v.get("similarity", 1.0), (int, float))
                and not any(isinstance(v.get(k), (list, dict)) for k in ("source", "id")) for v in variants)
    ):
        out.append("'variants' must be a list of {source: …, id: …, similarity: 0.97}")
    return out


def check_fragment(raw: Any, where: str) -> list[str]:
    """Every problem with one fragment entry, each prefixed by *where* (file:line)."""
    if not isinstance(raw, dict):
        return [f"{where}: a fragment must be a mapping with id, kind and text"]
    out: list[str] = []
    fid = raw.get("id")
    if not isinstance(fid, str) or not fid.strip():
        out.append(f"{where}: fragment without an id — add 'id: <source>.<kind>.<n>'")
        fid = "?"
    elif not fid.isprintable() and invisible(fid):  # an invisible character is never printable
        out.append(f"{where}: fragment id '{fid}' holds the invisible character "
                   f"{', '.join(char_name(ch) for ch in invisible(fid))} — remove it")
    kind = raw.get("kind")
    if isinstance(kind, (list, dict)):
        out.append(f"{where}: fragment '{fid}': 'kind' must be one word — one of: {', '.join(KINDS)}")
    elif kind not in KINDS:
        hint = did_you_mean(str(kind), KINDS) or f" — use one of: {', '.join(KINDS)}"
        out.append(f"{where}: fragment '{fid}' has unknown kind '{kind}'{hint}")
    has_body = bool(raw.get("text")) or bool(raw.get("subpoints"))
    if kind == "point" and not raw.get("heading"):
        out.append(f"{where}: point '{fid}' has no heading — add 'heading:'")
    if not has_body:
        out.append(f"{where}: fragment '{fid}' has no text — add 'text:'")
    out += [f"{where}: fragment '{fid}': {p}" for p in _shape_problems(raw)]
    parts = [raw.get("heading"), raw.get("text"), raw.get("tail")]
    subpoints = raw.get("subpoints")
    for sp in subpoints if isinstance(subpoints, list) else ():
        if isinstance(sp, dict):
            parts += [sp.get("lead"), sp.get("text")]
        else:
            out.append(f"{where}: fragment '{fid}': each subpoint needs 'lead' and 'text'")
    used: set[str] = set()
    for part in parts:
        if isinstance(part, (list, dict)):  # reported above; str() of shared aliases can explode
            continue
        if bad_char(str(part or "")):
            out.append(f"{where}: fragment '{fid}': its text {bad_char(str(part))}")
            continue
        names, problems = jinja_names(str(part or ""))
        used |= names
        out += [f"{where}: fragment '{fid}': {p}" for p in problems]
    used -= TEXT_FUNCTIONS
    declared = set(_strs(raw.get("slots"))) if _is_words(raw.get("slots")) else used
    for name in sorted(used - declared):
        out.append(
            f"{where}: fragment '{fid}' uses slot '{name}' but does not declare it — "
            f"add it to 'slots:'"
        )
    for name in sorted(declared - used):
        out.append(
            f"{where}: fragment '{fid}' declares slot '{name}' but its text never uses it — "
            f"remove it from 'slots:'"
        )
    return out


@dataclass(frozen=True)
class LibraryFile:
    """One parsed fragment file: its source block, fragments and problems."""

    path: str
    source: Source
    fragments: tuple[Fragment, ...]
    problems: tuple[str, ...]


def parse_library_file(path: Path) -> LibraryFile:
    """Read and validate one fragment file; problems are collected, not raised."""
    shown = display_path(path)
    try:
        check_file(path, "fragment file", MAX_FRAGMENT_FILE, shown=shown)
        text = read_checked(path, "fragment file", MAX_FRAGMENT_FILE, SpeechgenError, shown).decode("utf-8-sig")
    except UnicodeDecodeError:
        return LibraryFile(shown, Source(), (), (f"{shown}: not UTF-8 text — save it as UTF-8",))
    except SpeechgenError as exc:
        return LibraryFile(shown, Source(), (), (str(exc),))
    except OSError as exc:
        return LibraryFile(shown, Source(), (), (f"{shown}: cannot read ({exc.strerror})",))
    return parse_library_text(text, shown)[0]


_NO_KEY = object()


class _Mapping:
    """A mapping being read, and its key waiting for a value."""

    __slots__ = ("items", "key")

    def __init__(self) -> None:
        self.items: dict[Any, Any] = {}
        self.key: Any = _NO_KEY


class _Marks:
    """Where each entry of a fragment file's ``fragments:`` list stands in its text.

    Filled by :func:`_plain_yaml`: ``spans`` holds, for each mapping of that list, the
    mapping (the very dict), its start and end as character offsets, its start column and
    the anchors defined before it that it uses; ``anchors`` every anchor's value.
    """

    __slots__ = ("anchors", "spans")

    def __init__(self) -> None:
        self.spans: list[tuple[dict[Any, Any], int, int, int, set[str]]] = []
        self.anchors: dict[str, Any] = {}


#: Plain scalars as each loader resolves them (short ones only: keys, tags, numbers).
_PLAIN: dict[Any, dict[str, Any]] = {}


def _resolve_plain(loader_class: Any, value: str) -> Any:
    """The value of the plain scalar *value* as *loader_class* resolves it; ``_NO_KEY`` for a
    merge key or ``=`` (only the full loader reads those)."""
    import yaml

    resolvers = loader_class.yaml_implicit_resolvers
    for tag, regexp in resolvers.get(value[:1], []) + resolvers.get(None, []):
        if regexp.match(value):
            if tag == "tag:yaml.org,2002:null":
                return None
            if tag in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
                return loader_class.yaml_constructors[tag](loader_class(""), yaml.ScalarNode(tag, value))
            return _NO_KEY
    return value


def _plain_yaml(text: str, marks: _Marks | None = None, seeds: dict[str, Any] | None = None) -> Any:
    """*text* read as :func:`~speechgen.userfiles.parse_yaml` reads it, built straight from
    libyaml's events; None when the text has anything but one document of mappings, lists,
    untagged scalars and aliases (tags, merge keys, errors), which the full loader then
    reads (and reports).

    PyYAML's composer resolves every scalar's tag in Python and builds a node tree before
    the constructor walks it: two thirds of reading a library file. Fragment files are
    plain; this reads them in one pass, resolving plain scalars with the loader's own
    rules (so 2023 is an int, true a bool, ~ None) and constructing the rare non-text ones
    with its own constructors.

    With *marks*, also notes where each fragment entry stands (:class:`_Marks`); *seeds*
    are anchors defined outside *text* (a fragment read alone that uses one).
    """
    import yaml

    from speechgen.userfiles import _loader

    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML built without libyaml
        return None
    loader_class = _loader()
    if not issubclass(loader_class, CParser):
        return None
    plain = _PLAIN.get(loader_class)
    if plain is None:
        plain = _PLAIN[loader_class] = {}
    events = CParser(text)
    stack: list[Any] = []  # the lists and mappings being read
    anchors: dict[str, Any] = dict(seeds) if seeds else {}  # an alias is the very object its anchor named
    seeded = set(anchors)  # names from outside the text: the text may define them again
    defined: dict[str, int] = {}  # where each anchor was defined (with marks)
    span: Any = None  # the fragment entry being read (with marks): [dict, start, column, anchors used]
    result: Any = None
    documents = 0
    try:
        while True:
            event: Any = events.get_event()
            kind = type(event)
            if kind is yaml.ScalarEvent:
                if event.tag is not None:
                    return None
                value: Any = event.value
                if event.implicit[0]:  # plain: resolved as the loader resolves it
                    known = plain.get(value, _NO_KEY)
                    if known is _NO_KEY:
                        known = _resolve_plain(loader_class, value)
                        if known is _NO_KEY:  # merge keys, '=': the full loader
                            return None
                        if len(value) <= 64 and len(plain) < 65536:  # keys and tags repeat in every entry
                            plain[value] = known
                    value = known
                if event.anchor is not None:
                    if event.anchor in anchors and event.anchor not in seeded:
                        return None  # an anchor defined twice: the full loader's error
                    seeded.discard(event.anchor)
                    anchors[event.anchor] = value
                    if marks is not None:
                        defined[event.anchor] = event.start_mark.index
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if event.tag is not None:
                    return None
                frame: Any = _Mapping() if kind is yaml.MappingStartEvent else []
                if event.anchor is not None:
                    if event.anchor in anchors and event.anchor not in seeded:
                        return None
                    seeded.discard(event.anchor)
                    anchors[event.anchor] = frame.items if kind is yaml.MappingStartEvent else frame
                    if marks is not None:
                        defined[event.anchor] = event.start_mark.index
                if (marks is not None and len(stack) == 2 and kind is yaml.MappingStartEvent
                        and stack[1].__class__ is list and stack[0].key == "fragments"):
                    span = [frame.items, event.start_mark.index, event.start_mark.column, set()]
                stack.append(frame)
                if len(stack) > 64:  # deeper than any fragment file: the full loader (and its limit) decides
                    return None
                continue
            elif kind is yaml.MappingEndEvent:
                value = stack.pop().items
                if span is not None and value is span[0]:
                    marks.spans.append((value, span[1], event.end_mark.index, span[2], span[3]))  # type: ignore[union-attr]
                    span = None
            elif kind is yaml.SequenceEndEvent:
                value = stack.pop()
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    return None
                continue
            elif kind is yaml.StreamEndEvent:
                if marks is not None:
                    marks.anchors = anchors
                return result if documents == 1 else None
            elif kind in (yaml.StreamStartEvent, yaml.DocumentEndEvent):
                continue
            elif kind is yaml.AliasEvent and event.anchor in anchors:
                value = anchors[event.anchor]
                if span is not None and defined.get(event.anchor, -1) < span[1]:
                    span[3].add(event.anchor)  # defined before the entry: it cannot be read alone
            else:
                return None
            if not stack:
                result = value
                continue
            top = stack[-1]
            if top.__class__ is list:
                top.append(value)
            elif top.key is _NO_KEY:
                if isinstance(value, (list, dict)):
                    return None  # an unhashable key: the full loader says so
                top.key = value
            else:
                top.items[top.key] = value  # a key written twice: the last value, as PyYAML
                top.key = _NO_KEY
    except Exception:  # a syntax error, a number past Python's digit limit…: the full loader reports it
        return None


def parse_library_text(text: str, shown: str) -> tuple[LibraryFile, Any]:
    """Parse and validate the text of one fragment file named *shown*: the file, and the
    YAML data as read (for stores that keep each entry as it was written)."""
    lf, data, _ = _parse_text(text, shown, None)
    return lf, data


def _parse_text(text: str, shown: str, marks: _Marks | None) -> tuple[LibraryFile, Any, list[int]]:
    """:func:`parse_library_text`, and the index in ``fragments:`` of each valid fragment."""
    data = _plain_yaml(text, marks)
    if data is None:  # not plain YAML, or not YAML at all: the full loader reads it, or says what is wrong
        if marks is not None:
            marks.spans.clear()
        try:
            data = parse_yaml(text, shown)
        except SpeechgenError as exc:
            return LibraryFile(shown, Source(), (), (str(exc),)), None, []
    if not isinstance(data, dict) or not isinstance(data.get("fragments"), list):
        problem = f"{shown}: not a fragment file — it needs a 'fragments:' list (see docs/fragments.md)"
        return LibraryFile(shown, Source(), (), (problem,)), data, []
    source = _source(data.get("source"))
    lines = _id_lines(text)
    seen: dict[str, int] = {}
    frags: list[Fragment] = []
    entries: list[int] = []
    problems: list[str] = []
    for index, raw in enumerate(data["fragments"], 1):
        fid = str(raw.get("id") if isinstance(raw, dict) else None)
        at = lines.get(fid, [])
        nth = seen[fid] = seen.get(fid, -1) + 1  # the second fragment with an id sits at its second line
        line = at[nth] if nth < len(at) else (at[0] if at else 0)
        where = f"{shown}:{line}" if line else f"{shown} (fragment {index})"
        found = check_fragment(raw, where)
        problems += found
        if not found:
            frags.append(fragment_from_dict(raw, source, shown, line))
            entries.append(index - 1)
    return LibraryFile(shown, source, tuple(frags), tuple(problems)), data, entries


class Slice(NamedTuple):
    """Where one fragment's YAML mapping stands in its file, to read it alone again.

    ``at`` and ``size`` are bytes of the file; ``column`` is where the mapping starts on its
    first line (what came before it there, ``- ``, is read as spaces); ``seeded`` is True
    when it uses anchors defined before it (their values are the file's *seeds*, below).
    """

    at: int
    size: int
    column: int
    seeded: bool


def read_library_file(path: Path) -> tuple[LibraryFile, list[Slice | None], str]:
    """:func:`parse_library_file`, where each of its fragments stands in the file, and the
    *seeds*: the JSON of every anchor that a fragment uses but does not define (``""``: none).

    A fragment's :class:`Slice` is None when it cannot be read alone: the file needs the
    full loader (tags, merge keys), an entry is an alias, an anchor it uses holds what
    JSON cannot carry exactly, or libyaml counts its marks in bytes.
    """
    shown = display_path(path)
    try:
        check_file(path, "fragment file", MAX_FRAGMENT_FILE, shown=shown)
        raw = read_checked(path, "fragment file", MAX_FRAGMENT_FILE, SpeechgenError, shown)
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return LibraryFile(shown, Source(), (), (f"{shown}: not UTF-8 text — save it as UTF-8",)), [], ""
    except SpeechgenError as exc:
        return LibraryFile(shown, Source(), (), (str(exc),)), [], ""
    except OSError as exc:
        return LibraryFile(shown, Source(), (), (f"{shown}: cannot read ({exc.strerror})",)), [], ""
    marks = _Marks() if _marks_count_characters() else None
    lf, data, entries = _parse_text(text, shown, marks)
    if marks is None or not marks.spans or not lf.fragments:
        return lf, [None] * len(lf.fragments), ""
    where = {id(span[0]): span for span in marks.spans}
    items = data["fragments"]
    chosen: list[Any] = []
    used: set[int] = set()
    for index in entries:
        span = where.get(id(items[index]))
        if span is None or id(span[0]) in used:  # an alias of another entry, or a mapping met twice
            chosen.append(None)
            continue
        used.add(id(span[0]))
        chosen.append(span)
    # character offsets to bytes of the file: one pass over the text, in order
    bom = len(raw) - len(text.encode("utf-8"))
    ascii_only = len(text) == len(raw) - bom
    slices: list[Slice | None] = []
    exact: dict[str, bool] = {}  # each anchor used from outside an entry: can JSON carry it?
    last_char = last_byte = 0
    for span in chosen:
        if span is None:
            slices.append(None)
            continue
        _, start, end, column, outside = span
        for name in outside:
            if name not in exact:  # each anchor once a file, however many entries use it
                exact[name] = _json_exact(marks.anchors.get(name))
        if not all(exact[name] for name in outside):
            slices.append(None)
            continue
        if ascii_only:
            at, size = start, end - start
        else:
            last_byte += len(text[last_char:start].encode("utf-8"))
            last_char = start
            at = last_byte
            size = len(text[start:end].encode("utf-8"))
        slices.append(Slice(bom + at, size, column, bool(outside)))
    seeds = {name: marks.anchors.get(name) for name in sorted(exact) if exact[name]}
    return lf, slices, json.dumps(seeds, ensure_ascii=False) if seeds else ""


def _json_exact(value: Any, depth: int = 0) -> bool:
    """True when JSON gives *value* back as it is (str keys, finite numbers, no sharing loops)."""
    if depth > 64:
        return False
    if value is None or isinstance(value, (str, bool, int)):
        return True
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    if isinstance(value, list):
        return all(_json_exact(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_exact(v, depth + 1) for k, v in value.items())
    return False


_COUNTS_CHARACTERS: list[bool] = []


def _marks_count_characters() -> bool:
    """True when libyaml's marks count characters (its 0.2.5 does), so slices can be cut by them."""
    if not _COUNTS_CHARACTERS:
        try:
            from yaml._yaml import CParser

            events = CParser("é: 1\n")
            while True:
                event: Any = events.get_event()
                if getattr(event, "value", None) == "1":
                    _COUNTS_CHARACTERS.append(event.start_mark.index == 3)
                    break
        except Exception:  # no libyaml, or an unexpected stream: no slices
            _COUNTS_CHARACTERS.append(False)
    return _COUNTS_CHARACTERS[0]


def fragment_at(data: bytes, where: Slice, fid: str, source: Source, path: str, line: int,
                seeds: dict[str, Any] | None = None) -> Fragment | None:
    """The fragment *fid* read alone from *data* (its file's bytes) at *where*, with the
    file's *seeds* (anchors defined before it); None when what stands there is not that
    fragment (the file changed) or cannot be read."""
    try:
        text = data[where.at : where.at + where.size].decode("utf-8")
    except UnicodeDecodeError:
        return None
    raw = _plain_yaml(" " * where.column + text, seeds=seeds if where.seeded else None)
    if not isinstance(raw, dict) or raw.get("id") != fid or raw.get("kind") not in KINDS:
        return None
    try:
        return fragment_from_dict(raw, source, path, line)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def check_dirs(dirs: Iterable[Path]) -> None:
    """Fail when a library path is a FIFO, a device or a symbolic link that loops."""
    for d in dirs:
        kind = special_kind(d)
        if kind:
            raise LibraryError(
                f"{display_path(d)}: is {kind}, not a folder or a fragment file — check --library / SPEECHGEN_LIBRARY"
            )


def find_library_files(dirs: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml``/``*.yml`` file under *dirs*, sorted, each once."""
    found: dict[Path, None] = {}
    for d in dirs:
        if d.is_file():
            found[d] = None
            continue
        if not d.is_dir():
            check_dirs([d])
            raise LibraryError(
                f"{display_path(d)}: library folder does not exist — check --library / SPEECHGEN_LIBRARY"
            )
        for p in sorted(d.rglob("*.y*ml")):
            if p.suffix in (".yaml", ".yml") and p.is_file():
                found[p] = None
        unreadable: list[OSError] = []
        for _ in os.walk(d, onerror=unreadable.append):  # rglob skips such folders silently
            pass
        if unreadable:
            raise_library_problems([
                f"{display_path(Path(e.filename))}: cannot read this folder ({e.strerror}) — "
                "make it readable, or move it out of the library folder"
                for e in unreadable
            ])
    return list(found)


def _path_order(f: tuple[str, str, os.stat_result]) -> list[str]:
    return path_order(f[0])


def stat_library_files(dirs: Iterable[Path],
                       inodes: dict[tuple[int, int], str] | None = None) -> dict[str, tuple[str, int, int, int]]:
    """The files :func:`find_library_files` finds, keyed by resolved path, with the path as
    found (a string: the few read make it a ``Path``), mtime, ctime and size; and in
    *inodes*, when given, each file's path as found by its (device, inode).

    What the cache checks on every command, so it walks each folder once with
    ``os.scandir`` and stats each file once, resolving only symbolic links (a library of
    100,000 fragments is 1,000 files: one stat each, not a ``resolve()`` or a ``Path`` each).
    Same files, same errors as :func:`find_library_files`, in the same order.
    """
    found: dict[str, tuple[str, int, int, int]] = {}
    for d in dirs:
        if not d.is_dir():
            for p in find_library_files([d]):  # a file given as the library, or the error for a missing folder
                st = p.stat()
                found[str(p.resolve())] = (str(p), st.st_mtime_ns, st.st_ctime_ns, st.st_size)
                if inodes is not None:
                    inodes[(st.st_dev, st.st_ino)] = str(p)
            continue
        unreadable: list[OSError] = []
        files: list[tuple[str, str, os.stat_result]] = []  # (path as rglob gives it, resolved, stat)
        todo = [(str(d), str(d.resolve()))]
        while todo:
            shown, real = todo.pop()
            try:
                with os.scandir(shown) as it:
                    entries = list(it)
            except OSError as exc:
                unreadable.append(exc)
                continue
            subdirs = []
            for e in entries:
                name = e.name
                try:
                    link = e.is_symlink()
                    if e.is_dir():  # as rglob: into real folders only, not through links
                        if not link:
                            subdirs.append((e.path, os.path.join(real, name)))
                        continue
                    if os.path.splitext(name)[1] not in (".yaml", ".yml") or not e.is_file():
                        continue
                    st = e.stat()
                except OSError:
                    continue
                files.append((e.path, os.path.realpath(e.path) if link else os.path.join(real, name), st))
            todo += reversed(subdirs)  # folders in os.walk's order, so problems are listed as before
        if unreadable:
            raise_library_problems([
                f"{display_path(Path(e.filename))}: cannot read this folder ({e.strerror}) — "
                "make it readable, or move it out of the library folder"
                for e in unreadable
            ])
        for path, key, st in sorted(files, key=_path_order):
            found[key] = (path, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
            if inodes is not None:
                inodes[(st.st_dev, st.st_ino)] = path
    return found


def duplicate_problems(fragments: Iterable[Fragment]) -> list[str]:
    """One problem per id defined twice across the library."""
    first: dict[str, Fragment] = {}
    out = []
    for f in fragments:
        if f.id in first:
            a = first[f.id]
            out.append(
                f"{f.path}:{f.line}: duplicate id '{f.id}' (first defined at {a.path}:{a.line}) — "
                "rename one of them"
            )
        else:
            first[f.id] = f
    return out


def raise_library_problems(problems: list[str]) -> None:
    """Fail once with every library problem listed."""
    raise_problems(
        problems,
        error=LibraryError,
        prefix="fragment library: ",
        heading="{n} problems in the fragment library:",
    )


# --------------------------------------------------------------------------- the library


@dataclass(frozen=True)
class Filters:
    """What ``fragments list`` and ``search`` narrow by; empty means any."""

    kind: str = ""
    tag: str = ""
    meeting: str = ""
    year: int | None = None
    source: str = ""
    needs_review: bool = False
    paths: tuple[str, ...] = ()  # only the fragments of these files (as shown: Fragment.path)

    def match(self, f: Fragment) -> bool:
        """True when *f* passes every filter that is set."""
        return (
            (not self.kind or f.kind == self.kind)
            and (not self.tag or self.tag in f.tags)
            and (not self.meeting or self.meeting in f.source.meeting)
            and (self.year is None or f.source.year == self.year)
            and (not self.source or self.source in f.source.file or self.source in f.path)
            and (not self.needs_review or f.review)
            and (not self.paths or f.path in self.paths)
        )


#: How many ids did-you-mean compares a mistyped id with, at most (those sharing its longest prefix).
DID_YOU_MEAN_CANDIDATES = 2000


def near_ids(fid: str, with_prefix: Callable[[str, int], list[str]]) -> list[str]:
    """Ids sharing the longest prefix of *fid* that any id has, for did-you-mean.

    *with_prefix(prefix, limit)* lists at most *limit* ids starting with *prefix* (a store's
    id index): the longest such prefix is found by bisection, since a prefix of a prefix
    matches too, so the whole library is never read.
    """
    lo, hi = 0, len(fid)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if with_prefix(fid[:mid], 1):
            lo = mid
        else:
            hi = mid - 1
    return with_prefix(fid[:lo], DID_YOU_MEAN_CANDIDATES) if lo else []


class Head(NamedTuple):
    """What compose ranks a fragment by, read without its texts (:meth:`Library.heads`).

    ``id``, ``path``, ``tags`` and ``source`` are those of the :class:`Fragment` (a tuple:
    a store makes one for each candidate of a kind, tens of thousands in a large library).
    """

    id: str
    path: str
    tags: tuple[str, ...]
    source: Source


class Row(NamedTuple):
    """One line of ``fragments list``: what its table shows, read without the texts (:meth:`Store.rows`)."""

    id: str
    kind: str
    label: str
    chars: int
    review: bool
    tags: tuple[str, ...]
    source: str  # the source file it was ingested from, else its library file

    @classmethod
    def of(cls, f: Fragment) -> Row:
        """The row of a fragment already read."""
        return cls(f.id, f.kind, f.label, f.chars, f.review, f.tags, f.source.file or f.path)


class Library:
    """All fragments of the library folders, validated, in a stable order."""

    def __init__(self, fragments: Iterable[Fragment], dirs: Iterable[Path] = ()) -> None:
        self.fragments: tuple[Fragment, ...] = tuple(fragments)
        self.dirs = tuple(dirs)
        self._by_id = {f.id: f for f in self.fragments}
        self._linked: dict[str, set[str]] | None = None

    def __len__(self) -> int:
        return len(self.fragments)

    def ids(self) -> list[str]:
        """Every fragment id, in library order."""
        return [f.id for f in self.fragments]

    def get(self, fid: str) -> Fragment:
        """The fragment with id *fid*; a SpeechgenError with a did-you-mean otherwise."""
        try:
            return self._by_id[fid]
        except KeyError:
            hint = did_you_mean(fid, self._by_id) or " — run 'speechgen fragments list' to see the ids"
            raise SpeechgenError(f"unknown fragment id '{fid}'{hint}") from None

    def has(self, fid: str) -> bool:
        """True when *fid* is in the library."""
        return fid in self._by_id

    def select(self, filters: Filters) -> list[Fragment]:
        """Fragments passing *filters*, in library order."""
        return [f for f in self.fragments if filters.match(f)]

    def heads(self, filters: Filters) -> list[Head]:
        """The :class:`Head` of each fragment passing *filters*, in library order."""
        return [Head(f.id, f.path, f.tags, f.source) for f in self.select(filters)]

    def variants_of(self, frag: Fragment) -> list[Fragment]:
        """Every fragment of the library in *frag*'s family of near-duplicates.

        Links are followed in both directions and through the whole family: with three
        copies linked to one canonical fragment, each copy's variants are the other two
        and the canonical one.
        """
        if self._linked is None:
            linked: dict[str, set[str]] = {}
            for f in self.fragments:
                for v in f.variants:
                    if v.id and v.id != f.id:
                        linked.setdefault(f.id, set()).add(v.id)
                        linked.setdefault(v.id, set()).add(f.id)
            self._linked = linked
        seen = {frag.id}
        todo = [frag.id]
        while todo:
            for nxt in self._linked.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return [f for f in self.fragments if f.id in seen and f.id != frag.id]
