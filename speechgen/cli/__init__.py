"""The speechgen command line: each command parses, calls one library function, prints.

One gate (:func:`_gate`) turns a :class:`SpeechgenError` into ``Error: …`` on stderr
and exit status 2. Anything else is a bug: one line asking for a report, and the
traceback with ``--debug``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

from speechgen import warmstart


def _start() -> None:
    """What the console script does first: the collector's pace, and the warm file.

    The young generation is collected every 10,000 new objects instead of 700: a compose
    allocates some 300,000 while importing, nearly none of them garbage, and the collector
    walked them 85 times (about 7 ms of CPU; docs/performance.md). Older generations as before.
    """
    import gc

    gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, 10_000), gen1, gen2)
    warmstart.install()  # regular expressions and dataclass code compiled by earlier runs (~70 ms of a compose)


if warmstart.console_script():
    # Run by the ``speechgen`` script: start before typer and click are imported, so their
    # patterns come from the warm file too (about 4 ms of each command). Imported by anything
    # else (tests, another program), nothing happens until main().
    _start()

import typer  # noqa: E402

from speechgen.errors import SpeechgenError  # noqa: E402

F = TypeVar("F", bound=Callable[..., Any])

_APP_SETTINGS: dict[str, Any] = {
    "help": "Draft Chinese meeting speeches (讲话稿) from a library of past ones.",
    "no_args_is_help": True,
    "add_completion": False,
    "pretty_exceptions_enable": False,
    "rich_markup_mode": None,
}
app = typer.Typer(**_APP_SETTINGS)
fragments_app = typer.Typer(help="List, show and search the fragment library.", no_args_is_help=True)
brief_app = typer.Typer(help="Start a brief.", no_args_is_help=True)
db_app = typer.Typer(help="The shared office library in PostgreSQL: init, import, export, collections.",
                     no_args_is_help=True)
app.add_typer(fragments_app, name="fragments")
app.add_typer(brief_app, name="brief")
app.add_typer(db_app, name="db")

_state = {"debug": False}


def _err(message: str) -> None:
    from speechgen.errors import escape_invisible

    # A zero-width space or a bidi override in a name would hide in the terminal, or
    # reorder the line: every invisible character is shown as \u200b.
    typer.echo(escape_invisible(message), err=True)


def _gate(func: F) -> F:
    """Run a command; user mistakes become 'Error: …' and exit 2, bugs a short report."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SpeechgenError as exc:
            _err(f"Error: {exc}")
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if _state["debug"] or os.environ.get("SPEECHGEN_DEBUG"):
                raise
            _err(
                f"speechgen: internal error ({type(exc).__name__}: {exc}). This is a bug — "
                "please report it with the output of the same command run with --debug."
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        from speechgen import __version__

        typer.echo(f"speechgen {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an internal error.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    _state["debug"] = debug


LibraryOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--library",
        "-L",
        help="A folder of your own fragment files (repeatable); SPEECHGEN_LIBRARY adds more.",
    ),
]
KindOpt = Annotated[str, typer.Option("--kind", help="Only this kind (opening, point, closing, …).")]
TagOpt = Annotated[str, typer.Option("--tag", help="Only fragments with this tag.")]
MeetingOpt = Annotated[str, typer.Option("--meeting", help="Only this meeting type (推进会, …).")]
YearOpt = Annotated[int | None, typer.Option("--year", help="Only fragments from this year.")]
SourceOpt = Annotated[str, typer.Option("--source", help="Only fragments whose source file contains this.")]
ReviewOpt = Annotated[bool, typer.Option("--needs-review", help="Only fragments flagged for review.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Use the shared library in this PostgreSQL database "
                 "(postgresql://user@host/db; default SPEECHGEN_DATABASE) instead of the folders."),
]
CollectionOpt = Annotated[
    list[str] | None,
    typer.Option("--collection", "-C", help="Only this collection (repeatable): a database collection, "
                 "or a library folder by name."),
]


def _store(library: list[Path] | None, database: str | None = None, collection: list[str] | None = None) -> Any:
    from speechgen.library import open_store

    return open_store(_dirs(library), database=database, collections=list(collection or []))


@contextmanager
def _database_env(database: str | None) -> Iterator[None]:
    """``SPEECHGEN_DATABASE`` set to *database* (when given) while a library function runs.

    For code that opens the library itself with ``open_store(dirs)``, which reads the
    variable (lint looks up the fragments a draft names): --database means the same as
    the variable for it, as for every other command.
    """
    if database is None:
        yield
        return
    old = os.environ.get("SPEECHGEN_DATABASE")
    os.environ["SPEECHGEN_DATABASE"] = database
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SPEECHGEN_DATABASE", None)
        else:
            os.environ["SPEECHGEN_DATABASE"] = old


def _need_database(database: str | None) -> str:
    from speechgen.library import database_url

    url = database_url(database)
    if not url:
        raise SpeechgenError("no database — give --database postgresql://user@host/dbname or set SPEECHGEN_DATABASE")
    return url


def _dirs(library: list[Path] | None) -> list[Path]:
    from speechgen.paths import library_dirs

    return library_dirs(list(library or []))


def _filters(kind: str, tag: str, meeting: str, year: int | None, source: str, review: bool) -> Any:
    from speechgen.library import Filters
    from speechgen.model import KINDS

    if kind and kind not in KINDS:
        from speechgen.errors import did_you_mean

        hint = did_you_mean(kind, KINDS) or f" — use one of: {', '.join(KINDS)}"
        raise SpeechgenError(f"--kind: unknown kind '{kind}'{hint}")
    return Filters(kind, tag, meeting, year, source, review)


# --------------------------------------------------------------------------- fragments


@fragments_app.command("list")
@_gate
def fragments_list(
    library: LibraryOpt = None,
    kind: KindOpt = "",
    tag: TagOpt = "",
    meeting: MeetingOpt = "",
    year: YearOpt = None,
    source: SourceOpt = "",
    needs_review: ReviewOpt = False,
    as_json: JsonOpt = False,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", min=0, help="Show at most this many (default: all; a page of 100 in a terminal; 0 = all)."),
    ] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many first.")] = 0,
    database: DatabaseOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """List the fragments of the library.

    Example: speechgen fragments list --kind point --tag 调查研究
    """
    from speechgen.cli.listing import PAGE, list_table

    store = _store(library, database, collection)
    filters = _filters(kind, tag, meeting, year, source, needs_review)
    if as_json:  # streamed: the same text as json.dumps(list, indent=1), one fragment at a time
        from speechgen.cli.browse import fragment_json

        _stream_json(fragment_json(f) for f in store.page(filters, limit or None, offset))
        return
    if limit is None and _terminal():
        limit = PAGE
    # the database counts on a second connection while the page is read and laid out
    count_soon = getattr(store, "count_soon", None)
    total = count_soon(filters) if count_soon else store.count(filters)
    list_table(store.rows(filters, limit or None, offset), total=total, offset=offset)


def _terminal() -> bool:
    import sys

    return sys.stdout.isatty()


def _stream_json(items: Any) -> None:
    import sys

    out = sys.stdout
    first = True
    for item in items:
        text = json.dumps(item, ensure_ascii=False, indent=1).replace("\n", "\n ")
        out.write(("[\n " if first else ",\n ") + text)
        first = False
    out.write("[]\n" if first else "\n]\n")


@fragments_app.command("show")
@_gate
def fragments_show(
    fragment_id: Annotated[str, typer.Argument(metavar="ID", help="The fragment id, e.g. s000.point.1.")],
    library: LibraryOpt = None,
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Show one whole fragment: heading, text with placeholders marked, tags, slots, variants.

    Example: speechgen fragments show s000.point.1
    """
    from speechgen.cli.browse import fragment_json, show_fragment

    store = _store(library, database, collection)  # one fragment by id: never the whole library
    frag = store.get(fragment_id)
    if as_json:
        data = fragment_json(frag)
        data["variants"] = [v.id for v in store.variants_of(frag)]
        if hasattr(store, "version"):  # the database keeps an edit version (fragments edit --version)
            data["version"] = store.version(fragment_id)
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    show_fragment(frag, store.variants_of(frag))


@fragments_app.command("search")
@_gate
def fragments_search(
    query: Annotated[str, typer.Argument(help="Words to look for, e.g. 调查研究.")],
    library: LibraryOpt = None,
    kind: KindOpt = "",
    tag: TagOpt = "",
    meeting: MeetingOpt = "",
    year: YearOpt = None,
    source: SourceOpt = "",
    needs_review: ReviewOpt = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="How many hits to show.")] = 10,
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Search the library, best match first (BM25 over character pairs, headings first).

    Example: speechgen fragments search 调查研究 --kind point
    """
    from speechgen.cli.browse import fragment_json, search_table

    index = _store(library, database, collection)
    hits = index.search(query, _filters(kind, tag, meeting, year, source, needs_review), limit)
    if as_json:
        rows = [dict(fragment_json(h.fragment), score=h.score) for h in hits]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    search_table(query, hits, index.query_tokens(query))


@fragments_app.command("slots")
@_gate
def fragments_slots(library: LibraryOpt = None, as_json: JsonOpt = False, database: DatabaseOpt = None,
                    collection: CollectionOpt = None) -> None:
    """List every named slot and blank type in the library, with the fragments using each.

    Example: speechgen fragments slots
    """
    from speechgen.cli.browse import slot_table, slot_usage

    usage = slot_usage(_store(library, database, collection).library())
    if as_json:
        typer.echo(json.dumps(usage, ensure_ascii=False, indent=1))
        return
    slot_table(usage)


# --------------------------------------------------------------------------- ingest
# (section owned by the ingest work: speechgen/ingest/pipeline.py)


@app.command("ingest")
@_gate
def ingest_cmd(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...", help="Speech files or folders (.txt, .docx).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for the fragment files (default: the last SPEECHGEN_LIBRARY folder)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite fragment files that differ (hand corrections).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be written; write nothing.")] = False,
    junk: Annotated[
        Path | None, typer.Option("--junk", help="A file of extra watermark patterns, one regular expression a line.")
    ] = None,
    as_json: JsonOpt = False,
    database: DatabaseOpt = None,
    collection: Annotated[
        str, typer.Option("--collection", "-C", help="With --database: the collection to write into (default: office).")
    ] = "office",
    exact_keywords: Annotated[
        bool,
        typer.Option("--exact-keywords", help="Keywords as jieba's extract_tags gives them, tagging every word (slower)."),
    ] = False,
) -> None:
    """Turn past speeches into tagged fragment files, one YAML file per speech.

    Example: speechgen ingest 讲话稿/ --out my-fragments/
    """
    from speechgen.ingest import exact_keywords as exact
    from speechgen.ingest import ingest, print_report, read_junk
    from speechgen.library import database_url
    from speechgen.paths import ingest_target

    patterns = read_junk(junk) if junk is not None else []
    url = database_url(database) if out is None else ""
    if url:  # --database (or SPEECHGEN_DATABASE without --out): straight into the database
        from speechgen.db import ingest_to_db

        with exact(exact_keywords):
            report = ingest_to_db(url, paths, collection, force=force, dry_run=dry_run, junk=patterns,
                                  progress=not as_json)
    else:
        target = out if out is not None else ingest_target()
        if target is None:
            raise SpeechgenError(
                "ingest: no library folder to write to — give --out DIR, or set SPEECHGEN_LIBRARY "
                "to your own library folder"
            )
        with exact(exact_keywords):
            report = ingest(paths, target, force=force, dry_run=dry_run, junk=patterns, progress=not as_json)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    else:
        print_report(report, dry_run)
    if report.problems:
        n = len(report.problems)
        raise SpeechgenError(f"{n} problem{'s' if n > 1 else ''} while ingesting:", report.problems)


# --------------------------------------------------------------------------- compose
# (section owned by the compose work: speechgen/compose/brief.py, speechgen/compose/pipeline.py)

BriefArg = Annotated[Path, typer.Argument(metavar="BRIEF", help="The brief, e.g. examples/推进会.yaml.")]
TemplatesOpt = Annotated[
    list[Path] | None,
    typer.Option("--templates", "-T", help="A folder of your own templates (repeatable); they win over shipped ones."),
]
AllowBlanksOpt = Annotated[
    bool, typer.Option("--allow-blanks", help="Leave slots without a value as visible marks 【市名】 instead of failing.")
]
RateOpt = Annotated[
    int | None, typer.Option("--rate", min=1, help="Speaking rate in 字/分钟 for the time estimate (default 220).")
]
ReferenceOpt = Annotated[
    Path | None, typer.Option("--reference-docx", help="Your office's .docx whose styles and page setup to use.")
]
ForceOpt = Annotated[
    bool,
    typer.Option("--force", help="Replace an output edited since speechgen wrote it (the old one is kept as NAME~)."),
]


def _yaml_under(folder: Path) -> list[Path]:
    """``sorted(folder.rglob("*.y*ml"))`` in one ``os.scandir`` walk (a large library is thousands of files)."""
    import fnmatch

    if not folder.is_dir():
        return sorted(folder.rglob("*.y*ml"))
    from speechgen.paths import path_order

    found: list[str] = []
    todo = [str(folder)]
    while todo:
        top = todo.pop()
        try:
            with os.scandir(top) as it:
                entries = list(it)
        except OSError:  # as rglob: an unreadable folder is skipped
            continue
        for e in entries:
            if fnmatch.fnmatchcase(e.name, "*.y*ml"):
                found.append(e.path)
            try:
                if e.is_dir() and not e.is_symlink():  # as rglob: not through links
                    todo.append(e.path)
            except OSError:
                pass
    return [Path(p) for p in sorted(found, key=path_order)]


def _inputs(brief: Path, library: list[Path] | None, templates: list[Path] | None,
            output: Path, store: Any = None) -> list[tuple[str, Path]]:
    """Every file compose reads, so that -o (*output*) can never name one of them.

    The library's files only when *output* exists: a file that does not exist is none of
    them (:func:`~speechgen.output.refuse_inputs` compares an existing input by its inode),
    and a first draft need not walk a library of thousands of files. When *store* can say
    which library file *output* is (the folders' index knows the inode of each file its
    cache check walked), only that one; else every ``*.y*ml`` under the library folders."""
    from speechgen.compose import template_dirs

    found: list[tuple[str, Path]] = [("brief", brief)]
    if output.exists():
        file_of = getattr(store, "file_of", None)
        if file_of is not None:
            same = file_of(output)
            read = [same] if same is not None else []
        else:
            read = [p for d in _dirs(library) for p in _yaml_under(d)]
        found += [("fragment library file", p) for p in read]
    for d in template_dirs(templates):
        found += [("template file", p) for p in sorted(d.glob("*")) if p.suffix in (".j2", ".yaml", ".yml")]
    return found


def _wrote(output: Path, backup: Path | None, summary: str) -> None:
    from speechgen.userfiles import display_path

    typer.echo(f"Wrote {display_path(output)}: {summary}")
    if backup is not None:
        typer.echo(f"Kept the old {display_path(output)} as {display_path(backup)}")


def _check_format(output: Path) -> None:
    from speechgen.export import FORMATS
    from speechgen.output import check_target
    from speechgen.userfiles import display_path

    check_target(output)
    if output.suffix.lower() not in FORMATS:
        raise SpeechgenError(
            f"{display_path(output)}: unknown output format '{output.suffix or '(none)'}' — "
            f"end the file name with {', '.join(FORMATS)}"
        )


StrictOpt = Annotated[bool, typer.Option("--strict", help="A draft mixing campaigns is an error, not a warning.")]
AnyDateOpt = Annotated[bool, typer.Option("--any-date", help="Allow a date outside the campaign's span.")]


def _compose(brief: Path, library: list[Path] | None, templates: list[Path] | None, allow_blanks: bool,
             rate: int | None, database: str | None = None, collection: list[str] | None = None,
             store: Any = None, **options: bool) -> Any:
    from speechgen.compose import compose_file, template_dirs

    if store is None:
        store = _store(library, database, collection)
    return compose_file(brief, _dirs(library), template_dirs(templates), allow_blanks=allow_blanks, rate=rate,
                        store=store, **options)


@app.command("compose")
@_gate
def compose_cmd(
    brief: BriefArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The draft to write: .docx, .md, .txt or .pdf.")],
    library: LibraryOpt = None,
    templates: TemplatesOpt = None,
    allow_blanks: AllowBlanksOpt = False,
    rate: RateOpt = None,
    reference_docx: ReferenceOpt = None,
    strict: StrictOpt = False,
    any_date: AnyDateOpt = False,
    no_comments: Annotated[
        bool, typer.Option("--no-comments", help="Leave the lint findings out of the Word draft's comments.")
    ] = False,
    force: ForceOpt = False,
    database: DatabaseOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Compose a speech draft from a brief and write it as .docx, .md, .txt or .pdf.

    Example: speechgen compose examples/推进会.yaml -o 讲话稿.docx
    """
    from speechgen.compose import format_summary
    from speechgen.export import export

    _check_format(output)
    store = _store(library, database, collection)
    result = _compose(brief, library, templates, allow_blanks, rate, database, collection, store=store, strict=strict,
                      any_date=any_date, comments=not no_comments)
    inputs = _inputs(brief, library, templates, output, store)
    backup = export(result.draft, output, reference_docx=reference_docx, force=force, inputs=inputs)
    _wrote(output, backup, format_summary(result.summary))


@app.command("check")
@_gate
def check_cmd(
    brief: BriefArg,
    library: LibraryOpt = None,
    templates: TemplatesOpt = None,
    allow_blanks: AllowBlanksOpt = False,
    rate: RateOpt = None,
    strict: StrictOpt = False,
    any_date: AnyDateOpt = False,
    database: DatabaseOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Check a brief as compose would, without writing anything.

    Example: speechgen check examples/推进会.yaml
    """
    from speechgen.compose import format_summary
    from speechgen.userfiles import display_path

    result = _compose(brief, library, templates, allow_blanks, rate, database, collection, strict=strict, any_date=any_date)
    typer.echo(f"{display_path(brief)}: OK — {format_summary(result.summary)}")


@app.command("export")
@_gate
def export_cmd(
    draft: Annotated[Path, typer.Argument(metavar="DRAFT", help="A Markdown draft (.md), e.g. one you edited.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write: .docx, .md, .txt or .pdf.")],
    reference_docx: ReferenceOpt = None,
    rate: RateOpt = None,
    force: ForceOpt = False,
) -> None:
    """Export a (hand-edited) Markdown draft again, e.g. to Word.

    Example: speechgen export 讲话稿.md -o 讲话稿.docx
    """
    from speechgen.compose import draft_summary, format_summary
    from speechgen.draft import from_markdown
    from speechgen.export import export
    from speechgen.userfiles import display_path, read_user_text

    shown = display_path(draft)
    if draft.suffix.lower() != ".md":
        raise SpeechgenError(
            f"{shown}: export reads a Markdown draft (.md) — compose one with -o draft.md"
        )
    text = read_user_text(draft, "draft", folder="give the .md file")
    _check_format(output)
    parsed = from_markdown(text, shown)
    inputs = [("draft being exported", draft)]
    backup = export(parsed, output, reference_docx=reference_docx, force=force, inputs=inputs)
    _wrote(output, backup, format_summary(draft_summary(parsed, rate)))


@brief_app.command("init")
@_gate
def brief_init(
    template: Annotated[str, typer.Option("--template", "-t", help="The meeting template to start from.")] = "推进会",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to write the brief (default: print it).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    library: LibraryOpt = None,
    templates: TemplatesOpt = None,
    database: DatabaseOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Write a commented brief listing the template's vars and the slots its points need.

    Example: speechgen brief init --template 领导小组会议 -o 领导小组.yaml
    """
    from speechgen.compose import brief_text, template_dirs
    from speechgen.output import atomic_write_text
    from speechgen.userfiles import display_path

    if output is not None and output.exists() and not force:
        raise SpeechgenError(f"{display_path(output)}: already exists — use --force to overwrite it, or -o another.yaml")
    text = brief_text(template, template_dirs(templates), _dirs(library), store=_store(library, database, collection))
    if output is None:
        typer.echo(text, nl=False)
        return
    atomic_write_text(output, text)
    shown = display_path(output)
    typer.echo(f"Wrote {shown} — fill it in, then: speechgen compose {shown} -o 讲话稿.docx")


@app.command("lint")
@_gate
def lint_cmd(
    draft: Annotated[Path, typer.Argument(metavar="DRAFT", help="A draft: .md, .txt (a paragraph a line) or .docx.")],
    brief: Annotated[
        Path | None, typer.Option("--brief", "-b", help="The brief it was written for (date, campaign, vars).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    library: LibraryOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Report what a leader would notice in a draft: cut names, stale campaigns, wrong level, …

    Exit status 0 with no findings, 1 with findings, 2 on an error. See docs/lint.md.

    Example: speechgen lint 讲话稿.md --brief 我的简报.yaml
    """
    from speechgen.lint import format_findings, lint_file
    from speechgen.userfiles import display_path

    with _database_env(database):
        findings = lint_file(draft, brief, library)
    shown = display_path(draft)
    if as_json:
        typer.echo(json.dumps({"file": shown, "findings": [f.to_dict() for f in findings]}, ensure_ascii=False))
    else:
        typer.echo(format_findings(shown, findings))
    if findings:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- serve
# (section owned by the web work: speechgen/web/)


@app.command("serve")
@_gate
def serve_cmd(
    host: Annotated[str, typer.Option("--host", help="Address to listen on; anything but loopback needs a token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on.")] = 8765,
    library: LibraryOpt = None,
    templates: TemplatesOpt = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the workbench in the browser.")] = False,
    token: Annotated[
        str | None, typer.Option("--token", help="Access token to require (made up and printed for a non-loopback --host).")
    ] = None,
    database: DatabaseOpt = None,
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", "-C", help="With --database: only these collections (repeatable); "
                     "uploads go into the first (default: office)."),
    ] = None,
    searches_at_once: Annotated[
        int | None,
        typer.Option("--searches-at-once", min=1, help="With --database: database searches run at once, the "
                     "others waiting their turn (default: twice this machine's cores)."),
    ] = None,
) -> None:
    """Start the writer's workbench in the browser: library, compose with live preview, ingest.

    Example: speechgen serve --library 我的素材库/ --open
    Office: speechgen serve --database postgresql://speechgen@dbhost/speeches --host 0.0.0.0 --token …
    """
    try:
        from speechgen.web import serve, web_config
    except ImportError as exc:
        raise SpeechgenError(
            f"serve needs the web extra ({exc.name} is missing) — pip install 'speechgen[web]'"
        ) from None
    config = web_config(host, list(library or []), list(templates or []), token, database, list(collection or []))
    serve(config, port, open_browser, typer.echo, searches_at_once)


# --------------------------------------------------------------------------- db
# (section owned by the database work: speechgen/db/, speechgen/library/postgres.py)


@fragments_app.command("edit")
@_gate
def fragments_edit(
    fragment_id: Annotated[str, typer.Argument(metavar="ID", help="The fragment id, e.g. s000.point.1.")],
    entry: Annotated[Path, typer.Argument(metavar="FILE", help="YAML of the new entry (id, kind, heading, text, …).")],
    version: Annotated[int, typer.Option("--version", help="The version you edited (fragments show --json).")],
    database: DatabaseOpt = None,
) -> None:
    """Save an edited fragment in the database, refused if someone changed it since your version.

    Example: speechgen fragments edit s000.point.1 point.yaml --version 3 --database postgresql://…
    """
    from speechgen.db import edit_fragment
    from speechgen.userfiles import display_path, parse_yaml, read_user_text

    shown = display_path(entry)
    raw = parse_yaml(read_user_text(entry, "fragment entry"), shown)
    if not isinstance(raw, dict):
        raise SpeechgenError(f"{shown}: not a fragment entry — write it as a mapping: id:, kind:, text: …")
    raw.setdefault("id", fragment_id)
    if raw["id"] != fragment_id:
        raise SpeechgenError(f"{shown}: the entry's id is '{raw['id']}', not '{fragment_id}' — ids cannot be changed by edit")
    new = edit_fragment(_need_database(database), raw, version)
    typer.echo(f"Saved {fragment_id}: now version {new}")


@db_app.command("init")
@_gate
def db_init(database: DatabaseOpt = None) -> None:
    """Create the schema in an empty database, or upgrade an older one.

    Example: speechgen db init --database postgresql://speechgen@dbhost/speeches
    """
    from speechgen.db import init_db, mask_url

    url = _need_database(database)
    before, after = init_db(url)
    if before == after:
        typer.echo(f"{mask_url(url)}: schema up to date (version {after})")
    elif before is None:
        typer.echo(f"{mask_url(url)}: schema created (version {after})")
    else:
        typer.echo(f"{mask_url(url)}: schema upgraded from version {before} to {after}")


@db_app.command("import")
@_gate
def db_import(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A folder of fragment files.")],
    database: DatabaseOpt = None,
    collection: Annotated[str, typer.Option("--collection", "-C", help="The collection (default: the folder's name).")] = "",
    read_only: Annotated[
        bool | None, typer.Option("--read-only/--writable", help="Mark the collection shared read-only / writable.")
    ] = None,
    prune: Annotated[
        bool, typer.Option("--prune", help="Also remove from the collection the sources whose file is no longer in DIR.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a folder of fragment files into the database (all or nothing; unchanged files skipped).

    Without --prune a file deleted from the folder stays in the database; with it the
    collection ends up holding exactly the folder's files.

    Example: speechgen db import fragments/ --collection 办公室 --prune --database postgresql://…
    """
    from speechgen.db import import_dir

    report = import_dir(_need_database(database), folder, collection or None, read_only=read_only, prune=prune)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
        return
    rate = f", {report.fragments / report.seconds:,.0f} fragments/s" if report.fragments and report.seconds else ""
    pruned = f", {len(report.pruned)} removed (no longer in the folder)" if prune else ""
    typer.echo(f"collection {report.collection}: {report.imported} files imported ({report.fragments:,} fragments), "
               f"{report.unchanged} unchanged{pruned}, in {report.seconds:.1f} s{rate}")
    for path in report.pruned:
        typer.echo(f"  removed {report.collection}/{path}")


@db_app.command("export")
@_gate
def db_export(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="Where to write the fragment files.")],
    database: DatabaseOpt = None,
    collection: CollectionOpt = None,
) -> None:
    """Write the database back as fragment files, byte for byte as ingest writes them.

    One --collection: its files go into DIR; otherwise DIR/<collection>/ for each.
    Example: speechgen db export backup/ --database postgresql://…
    """
    from speechgen.db import export_dir
    from speechgen.userfiles import display_path

    written = export_dir(_need_database(database), folder, list(collection or []))
    typer.echo(f"Wrote {len(written)} fragment files under {display_path(folder)}")


@db_app.command("collections")
@_gate
def db_collections(database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """List the collections: name, read-only, sources, fragments."""
    from speechgen.db import list_collections

    rows = list_collections(_need_database(database))
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        flag = " (read-only)" if r["read_only"] else ""
        typer.echo(f"{r['name']}{flag}: {r['sources']} sources, {r['fragments']} fragments")


@db_app.command("collection")
@_gate
def db_collection(
    name: Annotated[str, typer.Argument(help="The collection.")],
    read_only: Annotated[bool, typer.Option("--read-only/--writable", help="Shared read-only, or writable.")],
    database: DatabaseOpt = None,
) -> None:
    """Mark a collection read-only (shared with other offices) or writable."""
    from speechgen.db import set_read_only

    set_read_only(_need_database(database), name, read_only)
    typer.echo(f"collection {name}: {'read-only' if read_only else 'writable'}")


def main() -> None:
    """Entry point of the ``speechgen`` console script."""
    import sys

    _start()  # done already when the speechgen script imported this module (no-op then)
    for arg in sys.argv[1:]:
        if any("\udc80" <= ch <= "\udcff" for ch in arg):  # bytes that were not UTF-8 (surrogateescape)
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            _err(f"Error: the argument '{shown}' is not UTF-8 text — speechgen reads names, words and "
                 "paths as UTF-8; retype it or rename the file")
            raise SystemExit(2)
    (_one_command(sys.argv[1:]) or app)(prog_name="speechgen")


def _one_command(args: list[str]) -> typer.Typer | None:
    """The app with only the command (or group) *args* names, or None to use the whole app.

    typer turns every command's signature into click options before running one: about
    20 ms of each run for the twenty commands, a tenth of a compose. The command runs
    the same and its help and errors read the same; without a known command name (``--help``,
    a mistyped name) the whole app answers, listing every command.
    """
    name = next((a for a in args if not a.startswith("-")), None)
    commands = [c for c in app.registered_commands if c.name == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return None
    one = typer.Typer(**_APP_SETTINGS)
    one.registered_callback = app.registered_callback
    one.registered_commands = commands
    one.registered_groups = groups
    return one


if __name__ == "__main__":  # pragma: no cover
    main()
