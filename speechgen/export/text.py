"""Plain-text export: the speech as it would be read out, paragraphs indented 2 characters."""

from __future__ import annotations

from pathlib import Path

from speechgen.draft import Draft
from speechgen.output import atomic_write_text

_INDENT = "\u3000\u3000"  # two full-width spaces: the 2-character first-line indent


def to_text(draft: Draft) -> str:
    """The draft as plain text: title, speaker, date line, then the body."""
    lines = [draft.title]
    lines += [x for x in (draft.speaker, draft.date_line) if x]
    lines.append("")
    for block in draft.body:
        if block.kind == "salutation":
            lines.append(block.text)
        else:
            lines.append(_INDENT + block.text)
    return "\n".join(lines) + "\n"


def write_text(draft: Draft, path: Path) -> None:
    """Write *draft* as UTF-8 plain text to *path* (atomic)."""
    atomic_write_text(path, to_text(draft))
