"""Past speeches → fragment files: find sources, clean, segment, build, write, report.

``ingest(paths, out_dir)`` is what ``speechgen ingest`` calls. A bad source gets a
message naming it while the others go on; the caller fails once at the end.
Writes are atomic, reruns byte-identical, and a file that differs from what
ingest would write (hand corrections) is kept unless ``force`` is set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from speechgen.errors import IngestError
from speechgen.ingest.build import Built, build_speech, speech_prefix
from speechgen.ingest.clean import clean_text, compile_junk, read_source
from speechgen.ingest.segment import Speech, split_speeches
from speechgen.ingest.slots import Restorer, has_raw_token
from speechgen.ingest.variants import link_texts, link_variants
from speechgen.library.evidence import anchor_evidence
from speechgen.model import Fragment
from speechgen.userfiles import MAX_SMALL, check_file, display_path

SUFFIXES = (".txt", ".docx")
#: From how many files on a progress bar is shown.
PROGRESS_FROM = 8
#: Bytes of fragment files in --out from which ingest reads the library through its cache
#: (:mod:`speechgen.ingest.nearby`) instead of parsing every file: about 3,000 fragments.
INDEXED_FROM = 4_000_000


@dataclass
class FileReport:
    """What ingest did with one source file."""

    source: str
    outputs: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)  # written / unchanged / would write / kept
    speeches: int = 0
    points: int = 0
    slots: list[str] = field(default_factory=list)
    blanks: int = 0
    review: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str = ""
    #: noise taken out of the text: {"text": …, "reason": …}
    removed: list[dict[str, str]] = field(default_factory=list)
    #: per speech: its title, salutation and closing as found (null when it has none), points
    found: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return dict(self.__dict__)


@dataclass
class Report:
    """The whole run: one :class:`FileReport` per source, and the problems met."""

    files: list[FileReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {"files": [f.to_dict() for f in self.files], "problems": list(self.problems)}


@dataclass(frozen=True)
class _Source:
    path: Path
    shown: str
    clean: str
    removed: tuple[tuple[str, str], ...] = ()


# --------------------------------------------------------------------------- finding sources


def find_sources(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Every .txt/.docx file under *paths* (files are taken as given), and problems."""
    found: dict[Path, None] = {}
    problems = []
    for p in paths:
        if p.is_dir():
            inside = sorted(
                f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith((".", "~$"))
            )
            if not inside:
                problems.append(f"{display_path(p)}/: no .txt or .docx speeches found — check the folder")
            found.update(dict.fromkeys(inside))
        elif p.is_file() or os.path.lexists(p):  # a FIFO or a looping link: named when read
            found[p] = None
        else:
            problems.append(f"{display_path(p)}: no such file or folder — check the path")
    return list(found), problems


#: Characters of one speech beyond any real one (the longest run to about 100,000): a file
#: over it is refused before cleaning and slot scanning, with a message, not minutes of work.
MAX_SPEECH_CHARS = 2_000_000


def _too_long(shown: str, size: str) -> IngestError:
    return IngestError(
        f"{shown}: {size} — a speech is rarely over 100,000 characters; more than "
        f"{MAX_SPEECH_CHARS:,} characters is refused (is this one speech? split it)"
    )


def _read(paths: list[Path], junk: list[re.Pattern[str]], report: Report, tick: Callable[[], None]) -> list[_Source]:
    out = []
    for path in paths:
        shown = display_path(path)
        try:
            try:
                size = path.stat().st_size if path.suffix.lower() != ".docx" else 0
            except OSError:  # a link that loops, a file gone: read_source says which
                size = 0
            if size > 4 * MAX_SPEECH_CHARS:
                raise _too_long(shown, f"{size:,} bytes")  # not even decoded
            raw = read_source(path, shown)  # refuses special files, links that loop, huge files
            if len(raw) > MAX_SPEECH_CHARS:  # (read_source caps the bytes read first)
                raise _too_long(shown, f"{len(raw):,} characters")
            removed: list[tuple[str, str]] = []
            # Word paragraphs are whole: joining "wrapped" lines would glue headings to bodies
            text = clean_text(raw, junk, removed=removed, join_wraps=path.suffix.lower() != ".docx")
            if not text.strip():
                raise IngestError(f"{shown}: nothing left after removing junk — is this a speech?")
            out.append(_Source(path, shown, text, tuple(removed)))
        except IngestError as exc:
            report.problems.append(str(exc))
            report.files.append(FileReport(shown, error=str(exc)))
        tick()
    return out


# --------------------------------------------------------------------------- the run


def ingest(
    paths: Iterable[Path],
    out_dir: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
    junk: Iterable[str] = (),
    progress: bool = False,
    use_cache: bool = True,
) -> Report:
    """Ingest speeches into fragment files under *out_dir*.

    Args:
        paths: files or folders (searched recursively for .txt and .docx).
        out_dir: where the fragment files go (created when missing).
        force: overwrite fragment files that differ from what ingest writes.
        dry_run: report only; write nothing.
        junk: extra watermark patterns (regular expressions) to remove.
        progress: show a progress bar on stderr when there are many files.
        use_cache: read a large *out_dir* through its SQLite cache (False: parse every file,
            for a folder that is read once, whose cache would be built for nothing).

    Returns:
        The report; ``report.problems`` lists every file that failed.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise IngestError(f"{display_path(out_dir)}: is a file — give --out a folder for the fragment files")
    report = Report()
    files, report.problems = find_sources(paths)
    patterns = compile_junk(junk)
    if progress and len(files) >= PROGRESS_FROM:
        from rich.console import Console
        from rich.progress import Progress

        with Progress(console=Console(stderr=True), transient=True) as bar:
            task = bar.add_task("reading", total=len(files))
            sources = _read(files, patterns, report, lambda: bar.advance(task))
    else:
        sources = _read(files, patterns, report, lambda: None)
    _check_names(sources)
    skip = {s.path.name for s in sources}
    indexed = _indexed(out_dir, skip) if use_cache else None
    if indexed is None:
        existing = _library(out_dir, skip)
        corpus: dict[str, str] = {}
        for f in existing:
            if not f.restored:  # evidence is never a phrase ingest itself restored
                corpus[f.source.file] = corpus.get(f.source.file, "") + "\n" + f.full_text
        corpus.update({s.path.name: s.clean for s in sources})
        restorer = Restorer(corpus)
    else:  # the same restorer, from what the cache keeps of each file
        evidence = indexed.evidence()
        evidence.update({s.path.name: anchor_evidence(s.clean) for s in sources})
        restorer = Restorer.from_evidence(evidence)
    plans: list[tuple[_Source, list[Speech], list[Built]]] = []
    for src in sources:
        _, speeches = split_speeches(src.clean)
        stem = src.path.stem
        built = [
            build_speech(sp, src.path.name, speech_prefix(stem, i, len(speeches)), restorer)
            for i, sp in enumerate(speeches)
        ]
        plans.append((src, speeches, built))
    built_all = [b for _, _, bs in plans for b in bs]
    if indexed is None:
        linked = iter(link_variants(built_all, existing))
    else:
        texts, known = indexed.near((f.kind, f.full_text) for b in built_all for f in b.fragments)
        linked = iter(link_texts(built_all, texts, known))
    for src, speeches, built in plans:
        mine = [next(linked) for _ in built]
        report.files.append(_emit(src, speeches, mine, out_dir, force, dry_run, report))
    report.files.sort(key=lambda f: f.source)
    return report


def _indexed(out_dir: Path, skip: set[str]) -> Any:
    """The output folder through its cache (an :class:`~speechgen.ingest.nearby.IndexedLibrary`)
    when it holds :data:`INDEXED_FROM` bytes of fragment files or more; else None."""
    from speechgen.library.files import stat_library_files

    if not out_dir.is_dir():
        return None
    if INDEXED_FROM > 0 and sum(st[3] for st in stat_library_files([out_dir]).values()) < INDEXED_FROM:
        return None
    from speechgen.ingest.nearby import IndexedLibrary

    return IndexedLibrary(out_dir, skip)


def _library(out_dir: Path, skip: set[str]) -> tuple[Fragment, ...]:
    """Fragments already in the output library from other sources (evidence, variants)."""
    from speechgen.library import find_library_files, parse_library_file

    if not out_dir.is_dir():
        return ()
    found: list[Fragment] = []
    for path in find_library_files([out_dir]):
        found += [f for f in parse_library_file(path).fragments if f.source.file and f.source.file not in skip]
    return tuple(found)


def _check_names(sources: list[_Source]) -> None:
    seen: dict[str, str] = {}
    for s in sources:
        key = s.path.stem
        if key in seen:
            raise IngestError(
                f"{s.shown}: same name as {seen[key]} — their fragment files would collide; rename one"
            )
        seen[key] = s.shown


def output_names(stem: str, count: int) -> list[str]:
    """``000_x.yaml`` for one speech, ``001_x.1.yaml``, ``001_x.2.yaml`` for several."""
    if count == 1:
        return [f"{stem}.yaml"]
    return [f"{stem}.{i}.yaml" for i in range(1, count + 1)]


def _emit(src: _Source, speeches: list[Speech], built: list[Built], out_dir: Path, force: bool, dry_run: bool, report: Report) -> FileReport:
    fr = FileReport(src.shown, speeches=len(speeches))
    fr.removed = [{"text": text, "reason": reason} for text, reason in src.removed]
    for sp in speeches:
        fr.found.append({
            "title": sp.title or None,
            "salutation": sp.salutation or None,
            "closing": sp.closing[:20] or None,
            "points": len(sp.points),
        })
    if not speeches:
        fr.error = f"{src.shown}: no speech found in the text — is this a speech?"
        report.problems.append(fr.error)
        return fr
    for name, b in zip(output_names(src.path.stem, len(built)), built, strict=True):
        target = out_dir / name
        fr.outputs.append(display_path(target))
        text = render(b, src.path.name, len(built))
        fr.points += sum(1 for f in b.fragments if f.kind == "point")
        fr.slots += [s for s in dict.fromkeys(s for f in b.fragments for s in f.slots) if s not in fr.slots]
        fr.blanks += sum(len(f.blanks) for f in b.fragments)
        fr.review += sum(1 for f in b.fragments if f.review)
        fr.warnings += [w for w in b.source.warnings if w not in fr.warnings]
        if has_raw_token(text.split("\n", 2)[-1]):  # a bug: the slot rules must leave none
            fr.warnings.append(f"{name}: a redaction token survived — check the fragments by hand")
        fr.status.append(_write(target, text, force, dry_run, report))
    return fr


def _write(target: Path, text: str, force: bool, dry_run: bool, report: Report) -> str:
    from speechgen.output import atomic_write_bytes

    data = text.encode("utf-8")
    if target.exists():
        if target.read_bytes() == data:
            return "unchanged"
        if not force:
            report.problems.append(
                f"{display_path(target)}: exists and differs (hand corrections?) — use --force to overwrite"
            )
            return "kept"
    if dry_run:
        return "would write"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        shown = display_path(target.parent)
        raise IngestError(f"{shown}: cannot create the folder ({exc.strerror}) — give --out another folder") from None
    atomic_write_bytes(target, data)
    return "written"


# --------------------------------------------------------------------------- YAML


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line text as literal blocks so hand edits are easy."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _c_dumper() -> Any:
    """:class:`_Dumper` with libyaml's emitter (six times faster), or None without libyaml."""
    base = getattr(yaml, "CSafeDumper", None)
    if base is None:
        return None
    cls: Any = type("_CDumper", (base,), {})
    cls.add_representer(str, _str)
    return cls


_CDumper = _c_dumper()
# libyaml escapes these where the pure emitter writes them as they are (or breaks the line)
_C_DIFFERS = re.compile("[\x85\u2028\u2029\ud800-\udfff\U00010000-\U0010ffff]")
_DUMP_ARGS: dict[str, Any] = {"allow_unicode": True, "sort_keys": False, "width": 100_000, "default_flow_style": False}


def dump(data: dict[str, Any], fast: bool = True) -> str:
    """The YAML of *data*: libyaml when available (and *fast*), else pure Python; the same text either way.

    libyaml writes characters outside the Basic Multilingual Plane (𠮷) and U+0085/2028/2029
    escaped, and ends a document whose last value keeps its final line breaks with ``...``;
    such data goes to the pure emitter.
    """
    if fast and _CDumper is not None:
        import json

        if not _C_DIFFERS.search(json.dumps(data, ensure_ascii=False)):
            body = _c_dump(data)
            if not body.endswith("\n...\n"):
                return body
    return yaml.dump(data, Dumper=_Dumper, **_DUMP_ARGS)


class _Shared(Exception):
    """A dict or list met twice: PyYAML writes an alias, which :func:`_node` does not."""


def _c_dump(data: dict[str, Any]) -> str:
    """``yaml.dump(data, Dumper=_CDumper, **_DUMP_ARGS)``, the node tree built by :func:`_node`."""
    import io

    stream = io.StringIO()
    dumper = _CDumper(stream, **_DUMP_ARGS)
    try:
        try:
            node = _node(dumper, data, set())
        except _Shared:
            return str(yaml.dump(data, Dumper=_CDumper, **_DUMP_ARGS))
        dumper.open()
        dumper.serialize(node)
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()


_STR, _INT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "bool", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


def _node(dumper: Any, x: Any, seen: set[int]) -> yaml.Node:
    """The node PyYAML's SafeRepresenter (with :func:`_str`, block style) makes of *x*, sooner:
    the same tags, values and styles, without its per-object bookkeeping (which only serves
    aliases: a container met twice raises :class:`_Shared`)."""
    t = type(x)
    if t is str:
        return yaml.ScalarNode(_STR, x, style="|" if "\n" in x else None)
    if t is dict or t is list:
        if id(x) in seen:
            raise _Shared
        seen.add(id(x))
        if t is dict:
            return yaml.MappingNode(_MAP, [(_node(dumper, k, seen), _node(dumper, v, seen)) for k, v in x.items()],
                                    flow_style=False)
        return yaml.SequenceNode(_SEQ, [_node(dumper, v, seen) for v in x], flow_style=False)
    if t is bool:
        return yaml.ScalarNode(_BOOL, "true" if x else "false")
    if t is int:
        return yaml.ScalarNode(_INT, str(x))
    if x is None:
        return yaml.ScalarNode(_NULL, "null")
    return dumper.represent_data(x)  # a float (similarity), or anything else, PyYAML's way


def render(b: Built, file: str, count: int) -> str:
    """The YAML text of one speech's fragment file (stable: same input, same bytes)."""
    src = b.source
    source = {
        "file": src.file,
        "title": src.title,
        "meeting": src.meeting,
        "year": src.year,
        "date": src.date,
        "speaker": src.speaker,
        "campaign": src.campaign,
        "announced_points": src.announced_points,
        "warnings": list(src.warnings),
    }
    if src.subtitle:
        source["subtitle"] = src.subtitle
    data = {"source": source, "fragments": [f.to_dict() for f in b.fragments]}
    which = f" (speech {b.prefix[-1]} of {count})" if count > 1 else ""
    head = (
        f"# Fragments of {file}{which}, written by 'speechgen ingest'.\n"
        "# Correct by hand freely: ingest keeps a differing file unless run with --force.\n"
    )
    return head + dump(data)


# --------------------------------------------------------------------------- junk list and report


def read_junk(path: Path) -> list[str]:
    """Watermark patterns from a file: one regular expression a line, ``#`` starts a comment.

    Raises:
        IngestError: the file is missing or a line is not a valid regular expression.
    """
    shown = display_path(path)
    check_file(path, "junk list", MAX_SMALL, missing="check the --junk path", error=IngestError)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise IngestError(f"{shown}: no such file — check the --junk path") from None
    except (OSError, UnicodeDecodeError):
        raise IngestError(f"{shown}: cannot read the junk list — save it as UTF-8 text") from None
    out = []
    for no, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            re.compile(line)
        except re.error as exc:
            raise IngestError(
                f"{shown}:{no}: not a valid regular expression ({exc.msg}) — escape special "
                "characters such as ( ) [ ] * ? with a backslash"
            ) from None
        out.append(line)
    return out


def print_report(report: Report, dry_run: bool = False) -> None:
    """Print one row per source: speeches, points, slots, blanks, review flags, warnings."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    title = "ingest (dry run: nothing written)" if dry_run else "ingest"
    table = Table(title=title, title_justify="left")
    for col in ("source", "speeches", "points", "slots", "blanks", "review", "result"):
        table.add_column(col, overflow="fold")
    for f in report.files:
        if f.error:
            table.add_row(escape(f.source), "-", "-", "", "", "", "failed")
            continue
        table.add_row(
            escape(f.source), str(f.speeches), str(f.points), escape(", ".join(f.slots)),
            str(f.blanks), str(f.review), ", ".join(dict.fromkeys(f.status)),
        )
    console = Console(highlight=False)
    console.print(table)
    for f in report.files:
        for out, status in zip(f.outputs, f.status, strict=False):
            console.print(f"{escape(out)}: {status}")
        for w in f.warnings:
            console.print(f"[yellow]warning[/yellow] {escape(f.source)}: {escape(w)}")
        if f.removed:
            reasons = ", ".join(dict.fromkeys(r["reason"] for r in f.removed))
            console.print(f"{escape(f.source)}: removed {len(f.removed)} piece(s) of noise ({escape(reasons)}) — see --json")
