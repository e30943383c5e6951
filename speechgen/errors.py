"""Errors a user can cause. The CLI turns each into ``Error: …`` and exit status 2."""

from __future__ import annotations


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
