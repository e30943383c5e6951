"""Exporters: one module per format, each writing from the one Draft model."""

from __future__ import annotations

from pathlib import Path

from speechgen.draft import Draft
from speechgen.errors import OutputError
from speechgen.userfiles import display_path

FORMATS = (".docx", ".md", ".txt")


def export(draft: Draft, path: Path, reference_docx: Path | None = None) -> None:
    """Write *draft* to *path* in the format its suffix names; atomic."""
    suffix = path.suffix.lower()
    if reference_docx is not None and suffix in (".md", ".txt"):
        raise OutputError(
            f"{display_path(path)}: --reference-docx only shapes Word output — "
            "write a .docx, or leave the option out"
        )
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
        raise OutputError(
            f"{display_path(path)}: unknown output format '{suffix or '(none)'}' — "
            f"end the file name with {', '.join(FORMATS)}"
        )
