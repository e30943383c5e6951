"""Errors a user can cause. The CLI turns each into ``Error: …`` and exit status 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SpeechgenError(Exception):
    """A mistake in the user's input: the message names the file, the problem and the fix."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        head = self.args[0] if self.args else ""
        if not self.problems:
            return str(head)
        return "\n".join([str(head), *("  " + p for p in self.problems)])


class LibraryError(SpeechgenError):
    """A fragment file under a library folder is broken."""


class BriefError(SpeechgenError):
    """A brief is broken or asks for something the library cannot give."""


class TemplateError(SpeechgenError):
    """A template is missing, broken or reaches outside the sandbox."""


class IngestError(SpeechgenError):
    """A source speech cannot be read."""


class OutputError(SpeechgenError):
    """An output path cannot be written."""


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """`` — did you mean 'x'?`` (or 'x' or 'y'), or an empty string when nothing is close.

    Only the candidates about as close as the best one are named, so a typo in a long
    id suggests that id and not every id sharing its prefix.
    """
    scored = []
    for choice in choices:
        ratio = difflib.SequenceMatcher(None, word, choice).ratio()
        if ratio >= 0.6:
            scored.append((ratio, choice))
    if not scored:
        return ""
    scored.sort(key=lambda rc: (-rc[0], rc[1]))
    best = scored[0][0]
    close = [c for r, c in scored[:n] if r >= best - 0.05]
    return " — did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def raise_problems(
    problems: list[str],
    *,
    error: type[SpeechgenError] = SpeechgenError,
    heading: str = "{n} problems:",
    prefix: str = "",
) -> None:
    """Fail once: the one problem (after *prefix*), or *heading* and one problem a line."""
    if not problems:
        return
    if len(problems) == 1:
        raise error(prefix + problems[0])
    raise error(heading.format(n=len(problems)), problems)
