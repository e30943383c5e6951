"""Lint: findings a writer must see in a draft before trusting it (issue #11).

The interface other stages build on: :class:`Finding` and :func:`lint_draft`. The rules
themselves land with the lint issue; until then :func:`lint_draft` finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from speechgen.draft import Draft


@dataclass(frozen=True)
class Finding:
    """One finding: *rule* (e.g. ``deleted-name``), the 1-based *line*, the offending
    *text* exactly as it stands, a *message* and a *suggestion*; *block* is the index in
    ``Draft.blocks`` (for anchoring a Word comment or a web underline)."""

    rule: str
    line: int
    text: str
    message: str
    suggestion: str = ""
    block: int = -1


@dataclass(frozen=True)
class LintContext:
    """What the brief (or the draft's front matter) tells about the speech being written."""

    date: str = ""
    campaign: str = ""
    meeting: str = ""
    vars: dict[str, str] = field(default_factory=dict)


def lint_draft(draft: Draft, context: LintContext | None = None) -> list[Finding]:
    """Every finding in *draft*, in reading order."""
    return []
