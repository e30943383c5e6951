"""Markdown export: the draft dialect of speechgen.draft, readable and re-exportable."""

from __future__ import annotations

from pathlib import Path

from speechgen.draft import Draft, to_markdown
from speechgen.output import atomic_write_text


def write_markdown(draft: Draft, path: Path) -> None:
    """Write *draft* as Markdown to *path* (atomic)."""
    atomic_write_text(path, to_markdown(draft))
