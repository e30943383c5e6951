"""The speechgen command line: each command parses, calls one library function, prints.

One gate (:func:`_gate`) turns a :class:`SpeechgenError` into ``Error: …`` on stderr
and exit status 2. Anything else is a bug: one line asking for a report, and the
traceback with ``--debug``.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from speechgen.errors import SpeechgenError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    help="Draft Chinese meeting speeches (讲话稿) from a library of past ones.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
fragments_app = typer.Typer(help="List, show and search the fragment library.", no_args_is_help=True)
brief_app = typer.Typer(help="Start a brief.", no_args_is_help=True)
app.add_typer(fragments_app, name="fragments")
app.add_typer(brief_app, name="brief")

_state = {"debug": False}


def _err(message: str) -> None:
    typer.echo(message, err=True)


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
) -> None:
    """List the fragments of the library.

    Example: speechgen fragments list --kind point --tag 调查研究
    """
    from speechgen.cli.browse import fragment_json, list_table
    from speechgen.library import open_store

    frags = open_store(_dirs(library)).select(_filters(kind, tag, meeting, year, source, needs_review))
    if as_json:
        typer.echo(json.dumps([fragment_json(f) for f in frags], ensure_ascii=False, indent=1))
        return
    list_table(frags)


@fragments_app.command("show")
@_gate
def fragments_show(
    fragment_id: Annotated[str, typer.Argument(metavar="ID", help="The fragment id, e.g. s000.point.1.")],
    library: LibraryOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one whole fragment: heading, text with placeholders marked, tags, slots, variants.

    Example: speechgen fragments show s000.point.1
    """
    from speechgen.cli.browse import fragment_json, show_fragment
    from speechgen.library import load_library

    lib = load_library(_dirs(library))
    frag = lib.get(fragment_id)
    if as_json:
        data = fragment_json(frag)
        data["variants"] = [v.id for v in lib.variants_of(frag)]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    show_fragment(frag, lib.variants_of(frag))


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
) -> None:
    """Search the library, best match first (BM25 over jieba words).

    Example: speechgen fragments search 调查研究 --kind point
    """
    from speechgen.cli.browse import fragment_json, search_table
    from speechgen.library import open_store

    index = open_store(_dirs(library))
    hits = index.search(query, _filters(kind, tag, meeting, year, source, needs_review), limit)
    if as_json:
        rows = [dict(fragment_json(h.fragment), score=h.score) for h in hits]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    search_table(query, hits, index.query_tokens(query))


@fragments_app.command("slots")
@_gate
def fragments_slots(library: LibraryOpt = None, as_json: JsonOpt = False) -> None:
    """List every named slot and blank type in the library, with the fragments using each.

    Example: speechgen fragments slots
    """
    from speechgen.cli.browse import slot_table, slot_usage
    from speechgen.library import load_library

    usage = slot_usage(load_library(_dirs(library)))
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
) -> None:
    """Turn past speeches into tagged fragment files, one YAML file per speech.

    Example: speechgen ingest 讲话稿/ --out my-fragments/
    """
    from speechgen.ingest import ingest, print_report, read_junk
    from speechgen.paths import ingest_target

    target = out if out is not None else ingest_target()
    if target is None:
        raise SpeechgenError(
            "ingest: no library folder to write to — give --out DIR, or set SPEECHGEN_LIBRARY "
            "to your own library folder"
        )
    patterns = read_junk(junk) if junk is not None else []
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


def _compose(brief: Path, library: list[Path] | None, templates: list[Path] | None, allow_blanks: bool,
             rate: int | None) -> Any:
    from speechgen.compose import compose_file, template_dirs

    return compose_file(brief, _dirs(library), template_dirs(templates), allow_blanks=allow_blanks, rate=rate)


@app.command("compose")
@_gate
def compose_cmd(
    brief: BriefArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="The draft to write: .docx, .md or .txt.")],
    library: LibraryOpt = None,
    templates: TemplatesOpt = None,
    allow_blanks: AllowBlanksOpt = False,
    rate: RateOpt = None,
    reference_docx: ReferenceOpt = None,
) -> None:
    """Compose a speech draft from a brief and write it as .docx, .md or .txt.

    Example: speechgen compose examples/推进会.yaml -o 讲话稿.docx
    """
    from speechgen.compose import format_summary
    from speechgen.export import export
    from speechgen.userfiles import display_path

    _check_format(output)
    result = _compose(brief, library, templates, allow_blanks, rate)
    export(result.draft, output, reference_docx=reference_docx)
    typer.echo(f"Wrote {display_path(output)}: {format_summary(result.summary)}")


@app.command("check")
@_gate
def check_cmd(
    brief: BriefArg,
    library: LibraryOpt = None,
    templates: TemplatesOpt = None,
    allow_blanks: AllowBlanksOpt = False,
    rate: RateOpt = None,
) -> None:
    """Check a brief as compose would, without writing anything.

    Example: speechgen check examples/推进会.yaml
    """
    from speechgen.compose import format_summary
    from speechgen.userfiles import display_path

    result = _compose(brief, library, templates, allow_blanks, rate)
    typer.echo(f"{display_path(brief)}: OK — {format_summary(result.summary)}")


@app.command("export")
@_gate
def export_cmd(
    draft: Annotated[Path, typer.Argument(metavar="DRAFT", help="A Markdown draft (.md), e.g. one you edited.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write: .docx, .md or .txt.")],
    reference_docx: ReferenceOpt = None,
) -> None:
    """Export a (hand-edited) Markdown draft again, e.g. to Word.

    Example: speechgen export 讲话稿.md -o 讲话稿.docx
    """
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
    export(from_markdown(text, shown), output, reference_docx=reference_docx)
    typer.echo(f"Wrote {display_path(output)}")


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
) -> None:
    """Write a commented brief listing the template's vars and the slots its points need.

    Example: speechgen brief init --template 领导小组会议 -o 领导小组.yaml
    """
    from speechgen.compose import brief_text, template_dirs
    from speechgen.output import atomic_write_text
    from speechgen.userfiles import display_path

    if output is not None and output.exists() and not force:
        raise SpeechgenError(f"{display_path(output)}: already exists — use --force to overwrite it, or -o another.yaml")
    text = brief_text(template, template_dirs(templates), _dirs(library))
    if output is None:
        typer.echo(text, nl=False)
        return
    atomic_write_text(output, text)
    shown = display_path(output)
    typer.echo(f"Wrote {shown} — fill it in, then: speechgen compose {shown} -o 讲话稿.docx")


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
) -> None:
    """Start the writer's workbench in the browser: library, compose with live preview, ingest.

    Example: speechgen serve --library 我的素材库/ --open
    """
    try:
        from speechgen.web import serve, web_config
    except ImportError as exc:
        raise SpeechgenError(
            f"serve needs the web extra ({exc.name} is missing) — pip install 'speechgen[web]'"
        ) from None
    serve(web_config(host, list(library or []), list(templates or []), token), port, open_browser, typer.echo)


def main() -> None:
    """Entry point of the ``speechgen`` console script."""
    app(prog_name="speechgen")


if __name__ == "__main__":  # pragma: no cover
    main()
