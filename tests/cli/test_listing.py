"""``fragments list`` drawn without rich's console is the same text rich prints (speechgen/cli/listing.py)."""

from __future__ import annotations

import contextlib
import io
import random
from collections.abc import Callable
from typing import Any

import pytest

from speechgen.cli import listing
from speechgen.library import Filters, Row, open_store
from speechgen.paths import library_dirs

WIDTHS = ["0", "10", "30", "50", "60", "79", "80", "100", "119", "120", "121", "140", "200"]
ODD = ["[", "]", "[b]", "\t", "\n", "\x07", "\r", "\x1b", "\x85", "é", "e\u0301", "👍", "\u200b", "\u3000",
       " ", "…", "—", "ｱ", "\\", "🇨🇳", "👨‍👩‍👧", "讲话"]


def _printed(fn: Callable[..., None], *args: Any, **kwargs: Any) -> str:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn(*args, **kwargs)
    return buf.getvalue()


def _rows(rng: random.Random, n: int, odd: float) -> list[Row]:
    def text(chars: str, most: int) -> str:
        pool = list(chars) + (ODD if rng.random() < odd else [])
        return "".join(rng.choice(pool) for _ in range(rng.randint(0, most)))

    return [
        Row(f"s{rng.randint(0, 999):03d}.point.{i}" if rng.random() > odd else text("ab.12", 20),
            rng.choice(["point", "opening", "closing", "salutation"]) if rng.random() > odd else text("ab", 12),
            text("讲话稿调查研究推进会，。abc ", 80), rng.choice([0, 5, 123, 10**9]), rng.random() < 0.3,
            tuple(text("调查研究ab[]", 9) for _ in range(rng.randint(0, 6))), text("fragments/讲话2023", 40))
        for i in range(n)
    ]


def _case(rng: random.Random, odd: float, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Row], int | None, int, str]:
    """A random table to draw: rows, total, offset, and the console's width (set as COLUMNS)."""
    rows = _rows(rng, rng.choice([0, 1, 3, 10, 40]), odd)
    total = rng.choice([None, len(rows), len(rows) + 250])
    offset = rng.choice([0, 0, 7])
    width = rng.choice(WIDTHS)
    monkeypatch.setenv("COLUMNS", width)
    return rows, total, offset, width


@pytest.mark.parametrize("odd", [0.0, 0.05, 0.5])
def test_the_plain_table_is_the_text_rich_prints(odd: float, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(17)
    plain = 0
    for _ in range(300):
        rows, total, offset, width = _case(rng, odd, monkeypatch)
        drawn = listing.layout(rows, int(width), total, offset)
        plain += listing.plain_table(*drawn[:4], int(width)) is not None
        assert _printed(listing.list_table, rows, total, offset) == _printed(listing.rich_list_table, rows, total, offset)
    if odd == 0.0:
        assert plain > 60  # the comparison did exercise the plain drawing


@pytest.mark.parametrize("columns", ["50", "80", "140"])
@pytest.mark.parametrize("filters", [Filters(), Filters(kind="point"), Filters(tag="调查研究"), Filters(year=2023)])
def test_the_shipped_library_is_drawn_plain_as_rich_draws_it(columns: str, filters: Filters,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    rows = open_store(library_dirs([])).rows(filters, None, 0)
    assert rows
    for limit, offset in [(None, 0), (5, 0), (5, 30)]:
        page = rows[offset:][:limit]
        assert _printed(listing.list_table, page, len(rows), offset) == _printed(listing.rich_list_table, page, len(rows), offset)
    if columns != "50":  # at 50 columns the table is wider than the console: rich squeezes it
        assert listing.plain_table(*listing.layout(rows, int(columns))[:4], int(columns)) is not None


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("env", "tty", "plain"), [
    ({}, False, True),
    ({}, True, False),
    ({"FORCE_COLOR": "1"}, False, False),
    ({"FORCE_COLOR": ""}, True, True),
    ({"FORCE_COLOR": ""}, False, True),
    ({"TTY_COMPATIBLE": "1"}, False, False),
    ({"TTY_COMPATIBLE": "0"}, True, True),
])
def test_plain_output_is_rich_consoles_is_terminal_negated(env: dict[str, str], tty: bool, plain: bool,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = _Tty() if tty else io.StringIO()
    assert listing.plain_output(out) is plain
    assert Console(file=out).is_terminal is not plain


@pytest.mark.parametrize("columns", [None, "0", "50", "x", "140"])
def test_the_console_width_is_riches(columns: str | None, monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.delenv("LINES", raising=False)
    assert listing.console_width() == Console(file=io.StringIO()).width


@pytest.mark.parametrize("term", [
    {"TERM": "xterm"}, {"TERM": "xterm-256color"}, {"TERM": "xterm-256color", "COLORTERM": "truecolor"},
    {"TERM": "xterm", "NO_COLOR": "1"}, {"TERM": "dumb"}, {"TERM": "linux", "TTY_INTERACTIVE": "0"},
    {"TERM": "unknown"}, {}, {"TERM": "screen-16color", "COLORTERM": "24bit"},
    {"TERM": "xterm", "FORCE_COLOR": "", "TTY_COMPATIBLE": "1"},
])
@pytest.mark.parametrize("odd", [0.0, 0.05])
def test_the_terminal_table_is_the_text_rich_prints_on_a_terminal(term: dict[str, str], odd: float,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal (FORCE_COLOR here), the table drawn without rich's Table is rich's, escape
    codes included, for every colour system rich may pick; rich draws what it does not cover.
    Neither rich's console nor its table is imported to draw it."""
    for name in ("TERM", "COLORTERM", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    for name, value in term.items():
        monkeypatch.setenv(name, value)
    rng = random.Random(23)
    drawn = 0
    for _ in range(120):
        rows, total, offset, _ = _case(rng, odd, monkeypatch)
        ours = _printed(listing.list_table, rows, total, offset)
        assert ours == _printed(listing.rich_list_table, rows, total, offset)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            drawn += listing.drawn_here(rows, total, offset)
    if odd == 0.0 and term.get("TERM") not in ("dumb", "unknown"):
        assert drawn > 30  # the comparison did exercise the terminal drawing
        if "NO_COLOR" not in term:
            assert "\x1b[1m" in ours or "\x1b[3m" in ours or not rows


def test_a_terminal_page_imports_neither_richs_console_nor_its_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`fragments list` on a terminal (FORCE_COLOR) draws the shipped library's table with
    rich's styles but without importing rich.console or rich.table (a tenth of the command)."""
    import os
    import subprocess
    import sys

    code = ("import sys\n"
            "from speechgen.cli import app\n"
            "try:\n    app(['fragments', 'list'])\nexcept SystemExit:\n    pass\n"
            "print('LOADED', sorted(m for m in ('rich.console', 'rich.table') if m in sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TTY_COMPATIBLE", "SPEECHGEN_LIBRARY")}
    env.update(FORCE_COLOR="1", TERM="xterm-256color", COLUMNS="140")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "\x1b[3m" in out and "\x1b[1m" in out and "┏" in out
    assert out.rstrip().endswith("LOADED []"), out[-300:]
