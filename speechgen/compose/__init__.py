"""Compose: a brief → a :class:`~speechgen.draft.Draft`.

* :mod:`~speechgen.compose.brief` — read and check a brief (every problem with its line);
* :mod:`~speechgen.compose.templates` — find and load templates (``templates/*.j2``);
* :mod:`~speechgen.compose.selection` — pick fragments for the brief's points;
* :mod:`~speechgen.compose.render` — renumber, fill slots, render in the Jinja sandbox;
* :mod:`~speechgen.compose.starter` — ``brief init``: a commented brief to start from;
* :mod:`~speechgen.compose.pipeline` — :func:`compose` and the summary it prints.
"""

from __future__ import annotations

from speechgen.compose.pipeline import (
    Composed,
    Summary,
    compose,
    compose_file,
    draft_summary,
    format_summary,
    missing_slots_message,
)
from speechgen.compose.starter import brief_text
from speechgen.compose.templates import template_dirs

__all__ = [
    "Composed",
    "Summary",
    "brief_text",
    "compose",
    "compose_file",
    "draft_summary",
    "format_summary",
    "missing_slots_message",
    "template_dirs",
]
