"""What the compose page asks of the library: the same calls ``speechgen compose`` makes.

:func:`run_compose` takes the form, writes it as brief text and composes that text with
``parse_brief`` and ``compose`` exactly as ``compose_file`` does for a file. When the brief
fails (an empty 市名, an unknown id) the CLI's message is kept for the fields, and the
draft is composed once more with ``allow_blanks`` so the preview still shows what there is.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechgen.compose import Composed, compose
from speechgen.compose.brief import Brief, parse_brief, raise_problems
from speechgen.errors import SpeechgenError
from speechgen.lint import Finding
from speechgen.web.briefform import DERIVED, SHOWN, BriefForm, Placed, place_errors
from speechgen.web.config import WebConfig


@dataclass
class SlotField:
    """One ``vars:`` field of the form: the slot, its value and who needs it."""

    name: str
    value: str
    needed_by: str = ""


@dataclass
class Outcome:
    """The brief text, its draft (when there is one) and every message about it."""

    form: BriefForm
    text: str
    where: dict[str, int]
    composed: Composed | None = None
    error: str = ""  # the CLI's message, "" when the brief composes as it is
    placed: Placed = field(default_factory=Placed)
    findings: list[Finding] = field(default_factory=list)
    slots: list[SlotField] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when ``speechgen compose`` would write this draft."""
        return self.composed is not None and not self.error


def compose_text(text: str, cfg: WebConfig, *, allow_blanks: bool, store: Any = None) -> tuple[Brief, Composed]:
    """Compose brief *text* as ``compose_file`` composes a file (raises the CLI's errors).

    *store*: the library the page already opened (default: ``open_store(cfg.dirs)``, as the CLI).
    """
    brief, problems = parse_brief(text, SHOWN)
    if not brief.template and not brief.points:
        raise_problems(brief.path, problems)
    return brief, compose(brief, cfg.dirs, cfg.tdirs, problems=problems, allow_blanks=allow_blanks,
                          store=store if store is not None else cfg.store())


def run_compose(form: BriefForm, cfg: WebConfig, store: Any) -> Outcome:
    """Compose the form's brief; on a mistake keep the message and preview with blanks."""
    text, where = form.to_yaml()
    out = Outcome(form, text, where)
    brief: Brief | None = None
    if not form.points:  # a new page: the brief's own check says what is missing, no draft yet
        try:
            raise_problems(SHOWN, parse_brief(text, SHOWN)[1])
        except SpeechgenError as exc:
            out.error = str(exc)
            out.placed = place_errors(out.error, where)
        return out
    try:
        brief, out.composed = compose_text(text, cfg, allow_blanks=form.allow_blanks, store=store)
    except SpeechgenError as exc:
        out.error = str(exc)
        out.placed = place_errors(out.error, where)
        if not form.allow_blanks and out.placed.slots:  # only missing slots can be left as marks
            with contextlib.suppress(SpeechgenError):  # else nothing to preview; the message says why
                brief, out.composed = compose_text(text, cfg, allow_blanks=True, store=store)
    if out.composed is not None and brief is not None:
        # compose linted the draft already, as `speechgen compose` reports it (the brief's
        # lint: ignore, the fragments' source years): the same findings, not a second pass.
        out.findings = list(out.composed.summary.findings)
    out.slots = slot_fields(form, out, store)
    return out


def slot_fields(form: BriefForm, out: Outcome, store: Any) -> list[SlotField]:
    """The vars fields to show: those the user has, those missing, those the draft uses."""
    needed: dict[str, list[str]] = {}
    if out.composed is not None:
        for used in out.composed.summary.used:
            try:
                frag = store.get(used.id)
            except SpeechgenError:
                continue
            for name in frag.slots:
                needed.setdefault(name, []).append(used.id)
    for name, users in out.placed.slots.items():
        needed[name] = [_shown_user(u) for u in users.split(", ")] + needed.get(name, [])
    names = list(form.vars) + [n for n in needed if n not in form.vars]
    return [
        SlotField(n, form.vars.get(n, ""), "、".join(dict.fromkeys(needed.get(n, []))))
        for n in names
        if n not in DERIVED
    ]


def _shown_user(user: str) -> str:
    """'the title' → 标题, 'template 推进会' → 模板 推进会; fragment ids as they are."""
    if user == "the title":
        return "标题"
    return "模板 " + user.removeprefix("template ") if user.startswith("template ") else user


def export_bytes(composed: Composed, suffix: str) -> bytes:
    """The draft as ``speechgen compose -o x<suffix>`` writes it."""
    import tempfile

    from speechgen.export import export

    with tempfile.TemporaryDirectory(prefix="speechgen-web-") as tmp:
        path = Path(tmp) / f"draft{suffix}"
        export(composed.draft, path)
        return path.read_bytes()
