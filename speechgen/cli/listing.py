"""``fragments list``'s table, drawn without importing rich's console when its output is plain.

Importing ``rich.console`` and ``rich.table`` and laying out the table through them is
about 40 ms of a 0.15 s command (docs/performance.md, start-up fourth round). When rich
would write plain text — the output is not a terminal, so no styles, and every cell fits
its column — the table is the same characters written here: rich's heavy-head box, one
space of padding a side, the title left-justified over the table's width, and cell widths
measured with rich's own :func:`rich.cells.cell_len`. Anything else (a terminal, colour
forced, an encoding that is not UTF-8, a cell rich would cut, wrap or read as markup, a
table wider than the console) goes through rich as before, so the output never differs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from rich.cells import cell_len, set_cell_size

from speechgen.library import Row

#: Rows shown in a terminal when no --limit is given.
PAGE = 100

HEADERS = ("id", "kind", "heading / first words", "chars", "tags", "source")
_CAPS = (None, None, None, 8, 24, 28)  # id, kind and the label are capped by list_table itself


#: The control codes rich's ``Text`` removes (rich.control.STRIP_CONTROL_CODES).
_STRIP = dict.fromkeys((7, 8, 11, 12, 13))


def _cut(text: str, width: int) -> str:
    """``Text(text).truncate(width, overflow="ellipsis").plain``: rich's cut, with its cell widths."""
    text = text.translate(_STRIP)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…"
    return text


def _unsafe(text: str) -> bool:
    """True for text rich would not print as it is: control characters (stripped or kept
    as escapes), tabs and line breaks (expanded, or a second line)."""
    return any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in text)


def console_width(environ: Any = None) -> int:
    """The width rich's ``Console()`` finds when it is not writing to a terminal (POSIX).

    ``COLUMNS`` when it is a number, else the size of the first terminal among stdin,
    stdout and stderr (the process's own, as rich takes them), else 80
    (rich.console.Console.size).
    """
    env = os.environ if environ is None else environ
    columns = env.get("COLUMNS")
    if columns is not None and columns.isdigit():
        return int(columns)
    width = 0
    for fd in _std_fds():
        try:
            width = os.get_terminal_size(fd)[0]
        except (AttributeError, ValueError, OSError):
            continue
        break
    return width or 80


def _std_fds() -> tuple[int, int, int]:
    """The file descriptors of the process's standard streams, as rich.console takes them
    (``sys.__stdin__.fileno()`` …, else 0, 1, 2)."""
    fds = []
    for stream, default in ((sys.__stdin__, 0), (sys.__stdout__, 1), (sys.__stderr__, 2)):
        try:
            fds.append(stream.fileno())  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001 - as rich: no stream, or one without a descriptor
            fds.append(default)
    return fds[0], fds[1], fds[2]


def plain_output(out: TextIO) -> bool:
    """True when rich's ``Console()`` would write to *out* without any style or substitution."""
    return console_kind(out) == "plain"


def console_kind(out: TextIO) -> str | None:
    """What rich's ``Console()`` would take *out* for, where speechgen can tell: "plain" (no
    style or substitution) or "terminal" (a POSIX terminal with a colour system, whichever:
    bold and italics are written alike in each); None where rich decides more than that.

    rich's ``Console.is_terminal`` (``TTY_COMPATIBLE``, ``FORCE_COLOR``, then ``isatty``)
    tells the two apart. None for: an encoding other than UTF-8 (rich draws an ASCII box),
    Windows (legacy console width and box), Jupyter (another width), a rich proxy, and a dumb
    terminal (``TERM`` dumb or unknown: no styles, and rich's width is 80).
    """
    if sys.platform == "win32" or hasattr(out, "rich_proxied_file"):
        return None
    import builtins

    if hasattr(builtins, "get_ipython"):
        return None
    if not (getattr(out, "encoding", "utf-8") or "utf-8").lower().startswith("utf"):
        return None
    if not _is_terminal(out):
        return "plain"
    return None if os.environ.get("TERM", "").strip().lower() in ("dumb", "unknown") else "terminal"


def _is_terminal(out: TextIO) -> bool:
    """rich's ``Console.is_terminal`` for *out*."""
    env = os.environ
    compatible = env.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "1"
    force = env.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    isatty = getattr(out, "isatty", None)
    try:
        return isatty is not None and bool(isatty())
    except ValueError:
        return False


def layout(frags: list[Row], width: int, total: int | None = None, offset: int = 0) -> tuple[str, list[str], list[list[str]], list[int], str]:
    """The title, headers, cells (already cut), column widths and the closing line of the list."""
    # id, kind and size are never cut; the heading gives way to them, and tags and
    # source are shown only where the terminal is wide enough.
    id_w = max((len(f.id) for f in frags), default=2)
    kind_w = max((len(f.kind) for f in frags), default=4)
    wide = width >= 120
    cols = 6 if wide else 4
    fixed = id_w + kind_w + 5 + (24 + 28 if wide else 0) + 3 * cols + 1
    label_w = max(8, min(44, width - fixed))
    total = len(frags) if total is None else total
    if total == len(frags) and not offset:
        title = f"{total} fragments"
    else:
        title = f"fragments {offset + 1 if frags else offset}–{offset + len(frags)} of {total}"
    cells: list[list[str]] = []
    for f in frags:
        row = [f.id, f.kind, _cut(f.label + (" [review]" if f.review else ""), label_w), str(f.chars)]
        if wide:
            row += [_cut(", ".join(f.tags[:4]), 24), _cut(f.source, 28)]
        cells.append(row)
    headers = list(HEADERS[:cols])
    caps = [id_w, kind_w, label_w, 8, 24, 28]
    widths = []
    for i, header in enumerate(headers):
        # each column as wide as its widest cell (at most its cap), worked out here once:
        # rich would measure every cell again to lay the table out
        widest = max([cell_len(header), *(cell_len(r[i]) for r in cells)])
        widths.append(min(widest, max(caps[i], cell_len(header) if i != 2 else 0)))
    more = ""
    if offset + len(frags) < total:
        more = (f"{total - offset - len(frags)} more — --offset {offset + len(frags)} for the next page, "
                "--limit 0 for all, --json for scripts")
    return title, headers, cells, widths, more


def _same(text: str) -> str:
    return text


def plain_table(title: str, headers: list[str], cells: list[list[str]], widths: list[int], width: int,
                italic: Callable[[str], str] = _same, bold: Callable[[str], str] = _same) -> str | None:
    """The table as rich draws it for a plain console *width* wide, or None where rich
    would do more than pad cells (cut, wrap, markup, a table wider than the console).

    On a terminal rich writes the title in italics and the headers in bold: *italic* and
    *bold* give a text so styled, as rich's console renders those styles (:func:`drawn_here`).
    """
    right = [h == "chars" for h in headers]
    table_w = sum(widths) + 3 * len(widths) + 1
    if table_w > width or cell_len(title) > table_w or _unsafe(title) or "[" in title:
        return None
    lines = [italic(title + " " * (table_w - cell_len(title)))]
    lines.append("┏" + "┳".join("━" * (w + 2) for w in widths) + "┓")
    rows = [headers, *cells]
    for n, row in enumerate(rows):
        parts = []
        for i, text in enumerate(row):
            size = cell_len(text)
            if size > widths[i] or _unsafe(text) or (i != 2 and i < 4 and "[" in text):
                return None  # rich would cut it, or read it as markup: let rich draw it
            pad = " " * (widths[i] - size)
            if n == 0:  # each of the header's pieces styled on its own, as rich renders them
                parts.append(bold(" ") + bold(pad + text if right[i] else text + pad) + bold(" "))
            else:
                parts.append(f" {pad}{text} " if right[i] else f" {text}{pad} ")
        edge = "┃" if n == 0 else "│"
        lines.append(edge + edge.join(parts) + edge)
        if n == 0:
            lines.append("┡" + "╇".join("━" * (w + 2) for w in widths) + "┩")
    lines.append("└" + "┴".join("─" * (w + 2) for w in widths) + "┘")
    return "\n".join(lines) + "\n"


def list_table(frags: list[Row], total: int | Callable[[], int] | None = None, offset: int = 0) -> None:
    """Print the fragments as a table, one line a fragment (``fragments show`` has the rest).

    *total* is how many pass the filters; when it is more than shown, a last line says how
    to see the rest (--offset, --limit 0). A function giving it (a count still running) is
    called once the rows are here, as late as the table allows.
    """
    if callable(total):
        total = total()
    if not drawn_here(frags, total, offset):
        rich_list_table(frags, total, offset)


def drawn_here(frags: list[Row], total: int | None, offset: int) -> bool:
    """Print the table to stdout as rich prints it there, without rich's console or table;
    False (nothing printed) where rich would do more than pad cells and, on a terminal, write
    the title in italics and the headers in bold (:func:`console_kind`, :func:`plain_table`).

    Drawing a page of 100 rows with rich's Table took longer than the rest of ``fragments
    list`` on a small library, and importing rich's console a tenth of the command.
    """
    out = sys.stdout
    kind = console_kind(out)
    if kind is None:
        return False
    width = console_width()
    title, headers, cells, widths, more = layout(frags, width, total, offset)
    if more and cell_len(more) > width:
        return False
    styles = {"italic": _italic, "bold": _bold} if kind == "terminal" else {}
    text = plain_table(title, headers, cells, widths, width, **styles)
    if text is None:
        return False
    out.write(text + (more + "\n" if more else ""))
    out.flush()
    return True


def _italic(text: str) -> str:
    """*text* as rich's ``Style(italic=True).render`` writes it on a terminal."""
    return f"\x1b[3m{text}\x1b[0m" if text else text


def _bold(text: str) -> str:
    """*text* as rich's ``Style(bold=True).render`` writes it on a terminal."""
    return f"\x1b[1m{text}\x1b[0m" if text else text


def rich_list_table(frags: list[Row], total: int | None = None, offset: int = 0) -> None:
    """The same table laid out and printed by rich (terminals, and whatever plain_table declines)."""
    from rich.table import Table
    from rich.text import Text

    from speechgen.cli.browse import _console

    console = _console()
    title, headers, cells, widths, more = layout(frags, console.width, total, offset)
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(headers):
        table.add_column(header, no_wrap=True, width=widths[i], justify="right" if header == "chars" else "left")
    for row in cells:
        # the cut cells as rich Text (never read as markup), the others as before
        table.add_row(*(Text(c) if i in (2, 4, 5) else c for i, c in enumerate(row)))
    console.print(table)
    if more:
        console.print(more)
