"""Exporters: one module per format, each writing from the one Draft model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from speechgen.draft import Draft
from speechgen.errors import OutputError
from speechgen.userfiles import display_path

FORMATS = (".docx", ".md", ".txt", ".pdf")


def export(
    draft: Draft,
    path: Path,
    reference_docx: Path | None = None,
    *,
    force: bool = False,
    inputs: Sequence[tuple[str, Path]] = (),
) -> Path | None:
    """Write *draft* to *path* in the format its suffix names; atomic, never destroying work.

    Args:
        draft: the speech.
        path: .docx, .md, .txt or .pdf (through LibreOffice).
        reference_docx: the writer's office document whose styles and page setup to use.
        force: replace *path* even when it is not what speechgen last wrote there (edited
            by hand); the old file is kept as ``<name>~`` (or ``<name>.~1~``, …).
        inputs: (what, path) of the files the run read (brief, draft, library files…);
            an output that is one of them is refused.

    Returns:
        The backup of the replaced file, when one was made.

    Raises:
        OutputError: the path cannot or must not be written.
    """
    from speechgen.output import check_target, protect, refuse_inputs, stamp

    suffix = path.suffix.lower()
    if reference_docx is not None and suffix in (".md", ".txt"):
        raise OutputError(
            f"{display_path(path)}: --reference-docx only shapes Word output — "
            "write a .docx, or leave the option out"
        )
    if suffix not in FORMATS:
        raise OutputError(
            f"{display_path(path)}: unknown output format '{suffix or '(none)'}' — "
            f"end the file name with {', '.join(FORMATS)}"
        )
    check_target(path)
    refuse_inputs(path, [*inputs, *((("reference document", reference_docx),) if reference_docx else ())])
    backup = protect(path, force)
    _write(draft, path, suffix, reference_docx)
    stamp(path)
    return backup


def _write(draft: Draft, path: Path, suffix: str, reference_docx: Path | None) -> None:
    if suffix == ".md":
        from speechgen.export.markdown import write_markdown

        write_markdown(draft, path)
    elif suffix == ".txt":
        from speechgen.export.text import write_text

        write_text(draft, path)
    elif suffix == ".docx":
        from speechgen.export.docx import write_docx

        write_docx(draft, path, reference_docx=reference_docx)
    else:
        from speechgen.export.pdf import write_pdf

        write_pdf(draft, path, reference_docx=reference_docx)
