"""Lint: findings a writer must see in a draft before trusting it (issue #11).

:func:`lint_draft` runs every rule over a :class:`~speechgen.draft.Draft`; the rules live
in the modules beside this one (one module a family: :mod:`.text` truncated, raw-token
and repeat; :mod:`.numbering`; :mod:`.names` deleted-name; :mod:`.campaigns`
stale-campaign and relative-date; :mod:`.level`; :mod:`.facts` source-fact). :mod:`.files` reads .md/.txt/.docx
drafts and the brief or front matter they are checked against. docs/lint.md explains
each rule and how to silence a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from speechgen.draft import Draft

#: The rules, in the order docs/lint.md explains them.
RULES = ("deleted-name", "stale-campaign", "level", "truncated", "numbering", "raw-token", "repeat", "relative-date",
         "source-fact")


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

    def to_dict(self) -> dict[str, object]:
        """The finding as ``lint --json`` prints it."""
        return {"rule": self.rule, "line": self.line, "text": self.text, "message": self.message,
                "suggestion": self.suggestion}


@dataclass(frozen=True)
class LintContext:
    """What the brief (or the draft's front matter) tells about the speech being written.

    *ignore* lists rules silenced for the whole draft (the brief's ``lint: {ignore: […]}``);
    *years* maps a fragment id to the year of its source speech (provenance, for
    ``relative-date``); *facts* to its facts (for ``source-fact``).
    """

    date: str = ""
    campaign: str = ""
    meeting: str = ""
    vars: dict[str, str] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    years: dict[str, int] = field(default_factory=dict)
    facts: dict[str, tuple[Any, ...]] = field(default_factory=dict)


def lint_draft(draft: Draft, context: LintContext | None = None, *, lines: list[int] | None = None) -> list[Finding]:
    """Every finding in *draft*, in reading order.

    *lines* gives the 1-based line (or paragraph number) of each block in the file the
    draft was read from; by default, the line the block has in the draft's Markdown form.
    """
    from speechgen.draft import markdown_lines
    from speechgen.lint import campaigns, facts, level, names, numbering, text
    from speechgen.lint.base import Para

    context = context or LintContext()
    if lines is None:
        lines = markdown_lines(draft)[1]
    paras = [
        Para(i, lines[i] if i < len(lines) else 0, b.text, b.kind, b.source, b.ignore)
        for i, b in enumerate(draft.blocks)
        if b.text.strip()
    ]
    found: list[Finding] = []
    for rule in (names.deleted_name, campaigns.stale_campaign, level.level, text.truncated,
                 numbering.numbering, text.raw_token, text.repeat, campaigns.relative_date, facts.source_fact):
        found += rule(paras, context)
    by_index = {p.index: p for p in paras}
    kept = [
        f for f in found
        if f.rule not in context.ignore
        and not {f.rule, "all"} & set(by_index[f.block].ignore if f.block in by_index else ())
    ]
    return sorted(_one_a_paragraph(kept, by_index), key=lambda f: (f.line, f.block, RULES.index(f.rule)))


MERGE_SPAN = 60  # characters: findings of one rule closer than this in a paragraph read as one


def _one_a_paragraph(found: list[Finding], paras: dict[int, Any]) -> list[Finding]:
    """One finding a rule a paragraph (two XX in one paragraph are one thing to fix); its
    words run from the first offending words to the last when they are close together."""
    groups: dict[tuple[str, int], list[Finding]] = {}
    for f in found:
        groups.setdefault((f.rule, f.block), []).append(f)
    out = []
    for (_, block), group in groups.items():
        first = group[0]
        text = paras[block].text if block in paras else ""
        spans = sorted((text.find(f.text), text.find(f.text) + len(f.text)) for f in group if f.text in text)
        if len(spans) > 1 and spans[-1][1] - spans[0][0] <= MERGE_SPAN:
            first = replace(first, text=text[spans[0][0] : max(e for _, e in spans)])
        out.append(first)
    return out


def lint_file(path: Path, brief: Path | None = None, dirs: list[Path] | None = None) -> list[Finding]:
    """Every finding in the draft file at *path* (see :func:`speechgen.lint.files.lint_file`)."""
    from speechgen.lint import files

    return files.lint_file(path, brief, dirs)


def format_findings(shown: str, findings: list[Finding]) -> str:
    """The findings as ``speechgen lint`` prints them."""
    from speechgen.lint import files

    return files.format_findings(shown, findings)
