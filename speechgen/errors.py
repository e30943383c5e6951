"""Errors a user can cause. The CLI turns each into ``Error: …`` and exit status 2."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

#: Characters no document can hold: C0/C1 controls (tab and newlines aside), DEL, lone
#: surrogates (from a YAML ``"\\ud800"`` escape or undecodable bytes) and the XML non-characters.
BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SHORT = {0: "NUL", 7: "BEL", 8: "BACKSPACE", 0x1B: "ESC", 0x7F: "DEL"}


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


def char_name(ch: str) -> str:
    """``U+200B (ZERO WIDTH SPACE)``: a character as a message names it."""
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return f"U+{code:04X} (half of a surrogate pair, not a character)"
    name = _SHORT.get(code) or unicodedata.name(ch, "") or "a control character"
    return f"U+{code:04X} ({name})"


def bad_char(text: str) -> str:
    """What is wrong with the first character of *text* no document can hold ('' when none)."""
    m = BAD_CHARS.search(text)
    if m is None:
        return ""
    ch = m.group(0)
    if 0xD800 <= ord(ch) <= 0xDFFF:
        return f"holds {char_name(ch)} — remove it (a \\u{ord(ch):04x} escape?)"
    return f"holds the control character {char_name(ch)} — remove it"


def is_invisible(ch: str) -> bool:
    """True for a character that shows as nothing: zero-width and bidi marks, controls."""
    return unicodedata.category(ch) in ("Cf", "Cc", "Cs") and ch not in "\n\t"


def invisible(word: str) -> list[str]:
    """The invisible characters of *word*, each once, in order."""
    return list(dict.fromkeys(ch for ch in word if is_invisible(ch)))


def escape_invisible(text: str) -> str:
    """*text* with every invisible character written as ``\\u200b``, so a terminal shows it
    (and a bidi override cannot reorder what follows)."""
    if text.isprintable() or not any(is_invisible(ch) for ch in text):
        return text
    return "".join(f"\\u{ord(ch):04x}" if is_invisible(ch) else ch for ch in text)


def did_you_mean(word: str, choices: Iterable[str], n: int = 3) -> str:
    """`` — did you mean 'x'?`` (or 'x' or 'y'), or an empty string when nothing is close.

    Only the candidates about as close as the best one are named, so a typo in a long
    id suggests that id and not every id sharing its prefix. A name holding an invisible
    character (U+200B, a bidi mark) looks like the name it misses: the message names it.
    """
    choices = list(choices)
    hidden = invisible(word)
    if hidden:
        note = " — it holds the invisible character" + ("s " if len(hidden) > 1 else " ")
        note += ", ".join(char_name(ch) for ch in hidden)
        rest = _closest("".join(ch for ch in word if not is_invisible(ch)), choices, n)
        return note + (f"; {rest[3:]}" if rest else "")
    look_alike = [c for c in choices if invisible(c) and "".join(ch for ch in c if not is_invisible(ch)) == word]
    if look_alike:
        hidden = invisible(look_alike[0])
        return (f" — did you mean '{look_alike[0]}'? (it holds the invisible character "
                + ", ".join(char_name(ch) for ch in hidden) + ")")
    return _closest(word, choices, n)


def _closest(word: str, choices: list[str], n: int) -> str:
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
