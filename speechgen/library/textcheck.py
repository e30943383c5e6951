"""What a fragment text may hold: plain text, ``{{ slot }}``, ``{{ blank("…") }}`` and little else.

Fragment files are shared between colleagues, so their Jinja is checked before anything
renders: names starting with ``_`` (``__class__``, ``__globals__``) are refused, and so is
anything beyond slots, blanks, ``{% if %}`` and a few harmless filters — loops, macros and
includes could run for ever or reach other files; arithmetic, attribute access and other
filters could build text large enough to exhaust memory. Rendering happens in a sandbox
as well (:mod:`speechgen.compose.render`); this check makes a hostile file a named library problem.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import Any

_SIMPLE_SLOT = re.compile(r"\{\{\s*([^\W\d]\w*)\s*\}\}")
_SIMPLE_BLANK = re.compile(r"""\{\{\s*blank\(\s*(['"])[^'"{}\\]*\1\s*\)\s*\}\}""")
_JINJA_SYNTAX = re.compile(r"\{[{%#]|[}%#]\}")

#: Jinja node types a fragment text may use (calls and filters are checked by name).
SAFE_NODES = frozenset({
    "Template", "Output", "TemplateData", "Name", "Const", "If", "Not", "And", "Or", "Compare",
    "Operand", "Test", "CondExpr", "Concat", "Call", "Keyword", "Filter",
})
#: Filters that cannot grow a text much.
SAFE_FILTERS = ("default", "d", "trim", "upper", "lower")
_SHOWN = {
    "For": "{% for %}", "Macro": "{% macro %}", "CallBlock": "{% call %}", "Include": "{% include %}",
    "Import": "{% import %}", "FromImport": "{% from … import %}", "Extends": "{% extends %}",
    "Block": "{% block %}", "Assign": "{% set %}", "AssignBlock": "{% set %}", "With": "{% with %}",
    "FilterBlock": "{% filter %}", "Mul": "'*'", "Pow": "'**'", "Add": "'+'", "Sub": "'-'",
    "Div": "'/'", "FloorDiv": "'//'", "Mod": "'%'", "Getattr": "'.attribute'", "Getitem": "'[…]'",
    "List": "a list", "Tuple": "a tuple", "Dict": "a mapping", "Slice": "a slice",
}
_FIX = "a fragment text holds only text, slots, blanks and {% if %}"
#: The most ``{{ … }}`` and ``{% … %}`` one text may hold: real fragments have a few dozen;
#: hundreds of thousands of blank() calls would take minutes to render and list.
MAX_PLACEHOLDERS = 1000


@functools.lru_cache(maxsize=1)
def checks_version() -> str:
    """A digest of the code that validates fragment files.

    The index caches each file's problems; when these checks change (a new rule against
    hostile Jinja, say), every file must be checked again, not trusted from the cache.
    """
    here = Path(__file__).parent
    digest = hashlib.sha1()
    for path in (here / "files.py", here / "textcheck.py", here.parent / "model.py"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def jinja_names(text: str, what: str = "a fragment text") -> tuple[set[str], list[str]]:
    """Names a fragment text uses as variables, and its problems (syntax, internals, unsafe Jinja).

    Nearly every fragment uses only ``{{ name }}`` and ``{{ blank("…") }}``: those are read
    with a regular expression, and Jinja parses only what is left over, which keeps
    loading a large library fast. *what* names the text in the fix (a brief's title).
    """
    if "{" not in text and "}" not in text:
        return set(), []
    count = text.count("{{") + text.count("{%")
    if count > MAX_PLACEHOLDERS:
        return set(), [f"holds {count:,} placeholders ({{{{ … }}}}, {{% … %}}) — {what} holds at most "
                       f"{MAX_PLACEHOLDERS:,}; split it"]
    fix = _FIX.replace("a fragment text", what)
    rest = _SIMPLE_BLANK.sub("", text)
    names = set(_SIMPLE_SLOT.findall(rest))
    if not _JINJA_SYNTAX.search(_SIMPLE_SLOT.sub("", rest)):
        bad = sorted(n for n in names if n.startswith("_"))
        return names - set(bad), [f"reaches for Python internals ({n}) — remove it" for n in bad]
    return _parse_names(text, fix)


def _parse_names(text: str, fix: str = _FIX) -> tuple[set[str], list[str]]:
    from jinja2 import TemplateSyntaxError, meta, nodes

    try:
        ast = _parser().parse(text)
    except TemplateSyntaxError as exc:
        return set(), [f"Jinja syntax error: {exc.message} — check the {{{{ }}}} and {{% %}} in its text"]
    except RecursionError:
        return set(), ["{% if %} or brackets nested too deeply — " + fix]
    except ValueError:  # a number longer than Python reads (its int digit limit)
        return set(), ["holds a number too long to read — " + fix]
    problems = []
    for node in ast.find_all((nodes.Getattr, nodes.Name, nodes.Const)):
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Name):
            name = node.name
        else:
            value = getattr(node, "value", None)
            name = value if isinstance(value, str) else ""
        if name.startswith("_"):
            problems.append(f"reaches for Python internals ({name}) — remove it")
    # Reaching for internals says it all; otherwise name each construct a text never needs.
    # (Before find_undeclared_variables: its code generator folds constants such as 10 ** 9.)
    problems = problems or _unsafe(ast, fix)
    try:
        return set(meta.find_undeclared_variables(ast)), problems
    except RecursionError:
        return set(), ["{% if %} or brackets nested too deeply — " + fix]


def _unsafe(ast: Any, fix: str = _FIX) -> list[str]:
    from jinja2 import nodes

    from speechgen.errors import bad_char

    out: dict[str, None] = {}
    try:
        found = list(ast.find_all(nodes.Node))
    except RecursionError:
        return ["{% if %} or brackets nested too deeply — " + fix]
    for node in found:
        kind = type(node).__name__
        if kind not in SAFE_NODES:
            out[f"uses {_SHOWN.get(kind, kind)} — remove it; {fix}"] = None
        elif isinstance(node, nodes.Const) and isinstance(node.value, str) and bad_char(node.value):
            out[f"a quoted text {bad_char(node.value)}"] = None
        elif isinstance(node, nodes.Call) and not (isinstance(node.node, nodes.Name) and node.node.name == "blank"):
            out[f"calls something other than blank(\"…\") — remove it; {fix}"] = None
        elif isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            out[f"uses the filter |{node.name} — only |{', |'.join(SAFE_FILTERS)} may be used"] = None
    return list(out)


@functools.lru_cache(maxsize=1)
def _parser() -> Any:
    """A Jinja environment that parses without computing: finding a text's names runs the
    code generator, whose constant folding would otherwise build ``"x" * 10 ** 9`` or
    ``"x"|center(10 ** 9)`` while checking the text."""
    from jinja2 import pass_context
    from jinja2.sandbox import SandboxedEnvironment

    class Parser(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "+", "-", "/", "//", "%"})

    def never(*_args: Any, **_kwargs: Any) -> Any:  # pragma: no cover - texts are only parsed
        raise RuntimeError("a filter ran while checking a text")

    env = Parser()
    env.filters = {name: pass_context(never) for name in env.filters}
    return env
