"""brief.yaml → a validated, frozen :class:`Brief`.

Only the shape of the brief is checked here (keys, types, dates); whether its ids,
queries and template exist is checked by :mod:`speechgen.compose.pipeline`, which needs the
library. Both report every problem at once with ``file:line``.

The YAML is read by :mod:`speechgen.userfiles`, so every key and list item keeps its
line number and a date such as ``2024-13-45`` stays text we can report, instead of
being turned into a Python date (or an exception) by the YAML loader.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechgen.errors import BriefError, SpeechgenError, did_you_mean
from speechgen.userfiles import REFUSED, compose_yaml, display_path, key_lines, read_user_text

#: Top-level keys of a brief, in the order docs/brief.md explains them.
KEYS = (
    "template",
    "title",
    "meeting",
    "speaker",
    "date",
    "campaign",
    "phase",
    "vars",
    "salutation",
    "opening",
    "points",
    "closing",
    "blanks",
    "speaking_rate",
    "length",
    "facts",
    "lint",
)
POINT_KEYS = ("id", "subpoints", "heading", "query", "tags", "count")
_FORM_KEYS = {
    "id": ("id", "subpoints", "heading"),
    "query": ("query", "count"),
    "tags": ("tags", "count"),
}
DEFAULT_RATE = 220  # 字/分钟: a calm speaking pace for a 讲话稿
_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")


@dataclass(frozen=True)
class PointSpec:
    """One item of ``points:``: an id (with a sub-point subset), a query, or tags."""

    line: int
    id: str = ""
    subpoints: tuple[int, ...] | None = None
    heading: str = ""
    query: str = ""
    tags: tuple[str, ...] = ()
    count: int = 1

    @property
    def form(self) -> str:
        """``id``, ``query`` or ``tags``."""
        return "id" if self.id else "query" if self.query else "tags"


@dataclass(frozen=True)
class Choice:
    """``opening:`` / ``closing:``: ``auto``, ``none``, or fragment ids."""

    mode: str = "auto"  # auto | none | ids
    ids: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Brief:
    """A validated brief. ``lines`` maps each top-level key to its line."""

    path: str
    template: str = ""
    title: str = ""
    meeting: str = ""
    speaker: str = ""
    date: dt.date | None = None
    campaign: str = ""
    #: 筹备 | 启动 | 推进 | 总结 (``phase:``), else what ``meeting:`` says (see :attr:`stage`)
    phase: str = ""
    vars: dict[str, str] = field(default_factory=dict)
    salutation: str = ""
    opening: Choice = Choice()
    points: tuple[PointSpec, ...] = ()
    closing: Choice = Choice()
    blanks: dict[str, dict[int, str]] = field(default_factory=dict)
    blank_lines: dict[str, int] = field(default_factory=dict)
    speaking_rate: int = DEFAULT_RATE
    lines: dict[str, int] = field(default_factory=dict)
    #: target length in characters (``length: 20分钟`` at the speaking rate, or ``length: 5000字``); 0: none
    length: int = 0
    #: lint rules silenced for the whole draft (``lint: {ignore: [level]}``)
    lint_ignore: tuple[str, ...] = ()
    #: what compose does with facts of a source speech: mark (blank their specifics), blank, keep
    facts: str = "mark"

    @property
    def stage(self) -> str:
        """The meeting's phase: ``phase:``, else what the meeting's name says (推进会 → 推进)."""
        from speechgen.lint.phases import meeting_phase

        return self.phase or meeting_phase(self.meeting) or meeting_phase(self.template)

    def where(self, key: str = "", line: int = 0) -> str:
        """``brief.yaml:7`` for a key (or an explicit line), ``brief.yaml`` without one."""
        line = line or self.lines.get(key, 0)
        return f"{self.path}:{line}" if line else self.path


# --------------------------------------------------------------------------- checks


class _Checker:
    """Collects problems while turning the plain data into a Brief."""

    def __init__(self, shown: str, data: dict[Any, Any]) -> None:
        self.shown = shown
        self.data = data
        self.problems: list[str] = []

    def at(self, line: int, message: str) -> None:
        self.problems.append(f"{self.shown}:{line}: {message}" if line else f"{self.shown}: {message}")

    def line(self, key: str) -> int:
        return key_lines(self.data).get(key, 0)

    def text(self, key: str, required: bool = False) -> str:
        value = self.data.get(key)
        if value is None:
            if required and key not in getattr(self.data, "refused", ()):
                self.at(0, f"no '{key}:' — add it (see docs/brief.md or run speechgen brief init)")
            return ""
        if isinstance(value, (list, dict, bool)):
            self.at(self.line(key), f"'{key}' must be text, not {_kind(value)} — write it as '{key}: …' on one line")
            return ""
        return str(value).strip()


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (int, float)):
        return "a number"
    return "text"


def parse_date(value: Any) -> dt.date | None:
    """A date written 2024-03-15 (or 2024/3/15, 2024年3月15日); None when it is not one."""
    m = _DATE_RE.fullmatch(str(value).strip())
    if not m:
        return None
    try:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _date(c: _Checker) -> dt.date | None:
    value = c.data.get("date")
    if value is None or value == "":
        return None
    if isinstance(value, (list, dict, bool)):
        c.at(c.line("date"), f"'date' must be a date such as 2024-03-15, not {_kind(value)}")
        return None
    date = parse_date(value)
    if date is None:
        c.at(c.line("date"), f"date '{value}' is not a date — write it as YYYY-MM-DD, e.g. 2024-03-15")
    return date


def _vars(c: _Checker) -> dict[str, str]:
    raw = c.data.get("vars")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        c.at(c.line("vars"), f"'vars' must be a mapping of slot names to values (市名: 临江市), not {_kind(raw)}")
        return {}
    out: dict[str, str] = {}
    lines = getattr(raw, "lines", {})
    for name, value in raw.items():
        if isinstance(value, (list, dict)) or value is None:
            what = "empty" if value is None else _kind(value)
            c.at(lines.get(name, 0), f"vars: '{name}' is {what} — give it a text value ({name}: …)")
            continue
        out[str(name)] = str(value)
    return out


def _choice(c: _Checker, key: str) -> Choice:
    raw = c.data.get(key, "auto")
    line = c.line(key)
    if raw is None or raw is False or str(raw).strip().lower() in ("none", "no", "false"):
        return Choice("none", (), line)
    if isinstance(raw, str) and raw.strip().lower() == "auto":
        return Choice("auto", (), line)
    if isinstance(raw, str) and raw.strip():
        return Choice("ids", (raw.strip(),), line)
    if isinstance(raw, list) and raw and all(isinstance(x, str) and x.strip() for x in raw):
        return Choice("ids", tuple(x.strip() for x in raw), line)
    c.at(line, f"'{key}' must be auto, none, a fragment id or a list of ids")
    return Choice("none", (), line)


def _ints(c: _Checker, line: int, what: str, raw: Any) -> tuple[int, ...] | None:
    items = raw if isinstance(raw, list) else [raw]
    if not items or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in items):
        c.at(line, f"{what} must be a list of sub-point numbers such as [1, 3]")
        return None
    if len(set(items)) != len(items):
        c.at(line, f"{what} lists a sub-point twice — keep each number once")
        return None
    return tuple(items)


def _count(c: _Checker, line: int, raw: Any) -> int:
    if raw is None:
        return 1
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        c.at(line, f"count must be a whole number of points (1, 2, …), not '{raw}'")
        return 1
    return raw


def _point(c: _Checker, raw: Any, line: int, n: int) -> PointSpec | None:
    if raw is REFUSED:
        return None
    if isinstance(raw, str) and raw.strip():
        return PointSpec(line, id=raw.strip())
    if not isinstance(raw, dict):
        c.at(line, f"points item {n} must be a fragment id, {{id: …}}, {{query: …}} or {{tags: […]}}")
        return None
    forms = [k for k in ("id", "query", "tags") if k in raw]
    if len(forms) != 1:
        found = " and ".join(forms) if forms else "none of them"
        c.at(line, f"points item {n} needs exactly one of id, query or tags (found {found})")
        return None
    form = forms[0]
    ok = True
    for key in raw:
        if key not in _FORM_KEYS[form]:
            hint = did_you_mean(str(key), _FORM_KEYS[form]) or f" — with {form}: use {', '.join(_FORM_KEYS[form])}"
            c.at(key_lines(raw).get(key, line), f"unknown key '{key}' in points item {n}{hint}")
            ok = False
    value = raw[form]
    if form == "tags":
        tags = [value] if isinstance(value, str) else value
        if not isinstance(tags, list) or not tags or not all(isinstance(t, (str, int)) for t in tags):
            c.at(line, f"points item {n}: tags must be a tag or a list of tags, e.g. [形式主义]")
            return None
        spec = PointSpec(line, tags=tuple(str(t) for t in tags), count=_count(c, line, raw.get("count")))
    elif not isinstance(value, (str, int)) or not str(value).strip():
        c.at(line, f"points item {n}: {form} must be text")
        return None
    elif form == "query":
        spec = PointSpec(line, query=str(value).strip(), count=_count(c, line, raw.get("count")))
    else:
        subs = None
        if raw.get("subpoints") is not None:
            subs = _ints(c, key_lines(raw).get("subpoints", line), f"points item {n}: subpoints", raw["subpoints"])
        heading = raw.get("heading")
        hline = key_lines(raw).get("heading", line)
        if isinstance(heading, (list, dict)):
            c.at(hline, f"points item {n}: heading must be text, not {_kind(heading)} — write it on one line")
            heading = ""
        heading = str(heading or "").strip()
        for problem in plain_text_problems(heading, "a heading"):
            c.at(hline, f"points item {n}: heading: {problem}")
        spec = PointSpec(line, id=str(value).strip(), subpoints=subs, heading=heading)
    return spec if ok else None


#: More points than any speech has (they number three to ten): a brief beyond it is refused
#: before any id is looked up, so a pasted list of 60,000 items fails at once.
MAX_POINTS = 1000


def _points(c: _Checker) -> tuple[PointSpec, ...]:
    raw = c.data.get("points")
    if raw is None:
        if "points" not in getattr(c.data, "refused", ()):  # a refused tag is reported already
            c.at(0, "no 'points:' — add a list of fragment ids, {query: …} or {tags: […]} items")
        return ()
    if not isinstance(raw, list) or not raw:
        c.at(c.line("points"), "'points' must be a non-empty list (one item per point of the speech)")
        return ()
    if len(raw) > MAX_POINTS:
        c.at(c.line("points"), f"'points' has {len(raw):,} items — a speech has a handful; "
             f"more than {MAX_POINTS:,} is refused: split the brief")
        return ()
    lines = getattr(raw, "lines", [])
    specs = [_point(c, item, lines[i] if i < len(lines) else c.line("points"), i + 1) for i, item in enumerate(raw)]
    return tuple(s for s in specs if s is not None)


def _blanks(c: _Checker) -> tuple[dict[str, dict[int, str]], dict[str, int]]:
    raw = c.data.get("blanks")
    if raw is None or raw == {}:
        return {}, {}
    if not isinstance(raw, dict):
        c.at(c.line("blanks"), "'blanks' must map fragment ids to values: {s000.opening.1: [三, 五]}")
        return {}, {}
    out: dict[str, dict[int, str]] = {}
    lines: dict[str, int] = {}
    for fid, fills in raw.items():
        line = key_lines(raw).get(fid, c.line("blanks"))
        lines[str(fid)] = line
        values = fills.values() if isinstance(fills, dict) else fills if isinstance(fills, list) else []
        if any(isinstance(v, (list, dict)) for v in values):
            c.at(line, f"blanks of '{fid}': each value must be text, not a list or mapping — write [三, 五]")
        elif isinstance(fills, list):
            out[str(fid)] = {i: str(v) for i, v in enumerate(fills, 1) if v is not None}
        elif isinstance(fills, dict) and all(isinstance(k, int) and k >= 1 for k in fills):
            out[str(fid)] = {int(k): str(v) for k, v in fills.items() if v is not None}
        elif isinstance(fills, (str, int, float)):
            out[str(fid)] = {1: str(fills)}
        else:
            c.at(line, f"blanks of '{fid}' must be a list in order ([三, 五]) or positions ({{2: 五}})")
    return out, lines


def _rate(c: _Checker) -> int:
    raw = c.data.get("speaking_rate")
    if raw is None:
        return DEFAULT_RATE
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        c.at(c.line("speaking_rate"), f"speaking_rate must be characters per minute, e.g. 220, not '{raw}'")
        return DEFAULT_RATE
    return raw


_LENGTH_RE = re.compile(r"\s*(\d+)\s*(分钟|分|min|minutes?|字)\s*")
LINT_RULES = ("deleted-name", "stale-campaign", "level", "truncated", "numbering", "raw-token", "repeat", "relative-date",
              "source-fact")


def _length(c: _Checker, rate: int) -> int:
    raw = c.data.get("length")
    if raw is None:
        return 0
    m = _LENGTH_RE.fullmatch(str(raw))
    if not m or isinstance(raw, (bool, list, dict)) or int(m[1]) < 1:
        c.at(c.line("length"), f"length must be minutes or characters, e.g. 20分钟 or 5000字, not '{raw}'")
        return 0
    return int(m[1]) if m[2] == "字" else int(m[1]) * rate


def _lint(c: _Checker) -> tuple[str, ...]:
    raw = c.data.get("lint")
    if raw is None:
        return ()
    ignore = raw.get("ignore") if isinstance(raw, dict) else None
    if isinstance(ignore, str):
        ignore = [ignore]
    if not isinstance(raw, dict) or set(raw) - {"ignore"} or not isinstance(ignore, list):
        c.at(c.line("lint"), "lint must be {ignore: [rule, …]}, e.g. lint: {ignore: [level]}")
        return ()
    for rule in ignore:
        if rule not in LINT_RULES:
            hint = did_you_mean(str(rule), LINT_RULES) or f" — rules: {', '.join(LINT_RULES)}"
            c.at(c.line("lint"), f"lint: unknown rule '{rule}'{hint}")
    return tuple(str(r) for r in ignore if r in LINT_RULES)


PHASES = ("筹备", "启动", "推进", "总结")
FACT_MODES = ("mark", "blank", "keep")


def _facts(c: _Checker) -> str:
    mode = c.text("facts") or "mark"
    if mode not in FACT_MODES:
        hint = did_you_mean(mode, FACT_MODES) or ""
        c.at(c.line("facts"), f"facts must be mark, blank or keep, not '{mode}'{hint}")
        return "mark"
    return mode


def _phase(c: _Checker) -> str:
    phase = c.text("phase")
    if phase and phase not in PHASES:
        c.at(c.line("phase"), f"phase must be 筹备, 启动, 推进 or 总结, not '{phase}' — or leave it out "
                              "(the meeting's name tells: 推进会 → 推进)")
        return ""
    return phase


def _unknown_keys(c: _Checker) -> None:
    for key in c.data:
        if key not in KEYS:
            hint = did_you_mean(str(key), KEYS) or f" — known keys: {', '.join(KEYS)}"
            c.at(c.line(key), f"unknown key '{key}'{hint}")


# --------------------------------------------------------------------------- public


def parse_brief(text: str, shown: str = "brief.yaml") -> tuple[Brief, list[str]]:
    """Read brief text; return the Brief (valid parts) and every problem found.

    Raises:
        SpeechgenError: for YAML syntax errors, which leave nothing to check.
    """
    data, problems = compose_yaml(text, shown)
    if not isinstance(data, dict):
        problems.append(
            f"{shown}: a brief must be a mapping of keys (template:, points:, …) — "
            "see docs/brief.md or run speechgen brief init"
        )
        return Brief(shown), problems
    c = _Checker(shown, data)
    c.problems = problems
    _unknown_keys(c)
    template = c.text("template", required=True)
    blanks, blank_lines = _blanks(c)
    rate = _rate(c)
    title = c.text("title")
    for problem in plain_text_problems(title, "a title"):
        c.at(c.line("title"), f"title: {problem}")
    brief = Brief(
        path=shown,
        template=template,
        title=title,
        meeting=c.text("meeting") or template,
        speaker=c.text("speaker"),
        date=_date(c),
        campaign=c.text("campaign"),
        phase=_phase(c),
        vars=_vars(c),
        salutation=c.text("salutation"),
        opening=_choice(c, "opening"),
        points=_points(c),
        closing=_choice(c, "closing"),
        blanks=blanks,
        blank_lines=blank_lines,
        speaking_rate=rate,
        lines={str(k): v for k, v in key_lines(data).items()},
        length=_length(c, rate),
        lint_ignore=_lint(c),
        facts=_facts(c),
    )
    return brief, sorted(c.problems, key=line_of)


def plain_text_problems(text: str, what: str) -> list[str]:
    """What is wrong with a title or heading: like a fragment text it holds only text,
    ``{{ slot }}``, blanks and ``{% if %}`` — no filters, calls or loops to build huge text."""
    from speechgen.library.textcheck import jinja_names

    # A syntax error is reported where the title is used, with its own fix (check_title).
    return [p for p in jinja_names(text, what)[1] if not p.startswith("Jinja syntax error")]


def line_of(problem: str) -> int:
    """The line number a ``file:line: …`` problem names (0 without one), to sort problems."""
    m = re.match(r"[^\n]*?:(\d+): ", problem)
    return int(m[1]) if m else 0


def raise_problems(shown: str, problems: list[str]) -> None:
    """Fail once: the one problem, or ``N errors in brief.yaml:`` and one per line."""
    if not problems:
        return
    if len(problems) == 1:
        raise BriefError(problems[0])
    raise BriefError(f"{len(problems)} errors in {shown}:", problems)


def read_brief_text(path: Path) -> tuple[str, str]:
    """The text of a brief file and the name to show for it."""
    text = read_user_text(
        path,
        "brief",
        missing="check the path (speechgen brief init writes one)",
        folder="give a .yaml file",
        error=BriefError,
    )
    return text, display_path(path)


#: Characters of a brief beyond any real one (a page or two): refused before the YAML is read,
#: whose line-tracking parser takes about a second per 20,000 items.
MAX_BRIEF_CHARS = 200_000


def load_brief(path: Path) -> tuple[Brief, list[str]]:
    """Read and check the brief at *path*; problems are returned, YAML syntax errors raised."""
    text, shown = read_brief_text(path)
    if len(text) > MAX_BRIEF_CHARS:
        raise BriefError(
            f"{shown}: {len(text):,} characters — a brief is a page or two; more than "
            f"{MAX_BRIEF_CHARS:,} is refused: split it, or list fewer points"
        )
    try:
        return parse_brief(text, shown)
    except BriefError:
        raise
    except SpeechgenError as exc:
        raise BriefError(str(exc)) from None


def brief_from_file(path: Path) -> Brief:
    """The valid Brief at *path*, or a BriefError listing every problem of its shape."""
    brief, problems = load_brief(path)
    raise_problems(brief.path, problems)
    return brief
