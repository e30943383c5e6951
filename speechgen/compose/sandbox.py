"""The Jinja sandbox templates, fragment texts and titles render in, with hard limits.

Jinja's own sandbox keeps a template away from Python internals; it does not stop one
from exhausting memory or time. Templates come from shared folders, fragments from shared
files: a few lines of Jinja can nest loops a hundred thousand deep, double a text sixty
times through ``namespace``, ask ``"{0:>999999999}".format`` or ``|center(10**9)`` for a
gigabyte, or recurse without end. Here every way a text can grow or a render can run on
is counted against a limit (docs/security.md lists them), and an overflow is a
:class:`LimitError` the caller reports as a mistake in the file:

* **steps**: each loop iteration costs the size of the loop's body, each call one, each
  macro call the size of its body, each include the size of the included template;
* **one value**: ``*``, ``+``, ``~``, ``%``, ``.format``, string methods and the filters
  that grow text never build more than :data:`MAX_BUILT` characters or items, and
  widths, counts and precisions stay under :data:`MAX_WIDTH`;
* **all values**: everything built and written in one render adds up to at most
  :data:`MAX_WORK`; the text a render writes (and any block it captures) to :data:`MAX_OUTPUT`;
* **parsing**: nesting too deep for Jinja's parser or Python's compiler, a number longer
  than Python reads, and recursive loops are template syntax errors.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

#: The most characters or items one operation may build in a fragment or template: far more
#: than any speech, far less than would exhaust memory (``{{ "x" * 10**10 }}``).
MAX_BUILT = 1_000_000
#: The largest width, precision or count a format, ``|center``, ``|indent``, ``|batch``, … may ask for.
MAX_WIDTH = 10_000
#: The most characters one render may write (a speech has about 10,000).
MAX_OUTPUT = 20_000_000
#: The most characters and items all operations of one render may build together.
MAX_WORK = 50_000_000
#: The most template steps one render may run (loop iterations weighted by their body, calls, includes).
MAX_STEPS = 10_000_000
#: The largest whole number arithmetic may build, in bits.
MAX_INT_BITS = 4096

NESTED = "blocks or brackets nested too deeply — a template needs only a few levels"
RECURSIVE = "a recursive loop ({% for … recursive %}) is not allowed — write the levels out"


def too_big(operator: str, left: Any, right: Any) -> bool:
    """True when ``left <operator> right`` (``*`` or ``**``) would build more than :data:`MAX_BUILT`."""
    numbers = [x for x in (left, right) if isinstance(x, (int, float)) and not isinstance(x, bool)]
    if operator == "**":
        return len(numbers) == 2 and abs(left) > 1 and abs(right) * math.log2(abs(left)) > 64
    sized = [x for x in (left, right) if isinstance(x, (str, bytes, list, tuple))]
    return bool(sized and numbers) and len(sized[0]) * numbers[0] > MAX_BUILT


def rough_size(obj: Any, limit: int = MAX_BUILT) -> int:
    """About how many characters ``str(obj)`` has, counted without building it.

    Stops counting once past *limit*: ``[s] * 999999`` holds a million references to one
    text, cheap to keep and ruinous to print.
    """
    total = 0
    stack = [obj]
    while stack and total <= limit:
        x = stack.pop()
        if isinstance(x, (str, bytes)):
            total += len(x) + 2
        elif isinstance(x, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(x)
            if total <= limit:
                stack.extend(x)
        elif isinstance(x, dict):
            total += 2 + 4 * len(x)
            if total <= limit:
                stack.extend(x.keys())
                stack.extend(x.values())
        elif type(x).__name__ == "Namespace":  # jinja2's namespace(): its repr shows every value
            stack.append(object.__getattribute__(x, "_Namespace__attrs"))
        elif isinstance(x, int) and not isinstance(x, bool):
            total += x.bit_length() // 3 + 2
        else:
            total += 64
    return total


_SPEC = re.compile(r"(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?[a-zA-Z%]?\Z", re.S)
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?([a-zA-Z%])")


def limit_error(message: str) -> Exception:
    """A :class:`LimitError` (a Jinja SecurityError, so renders stop at once)."""
    return _classes()[0](message)


def _width(what: str, value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WIDTH:
        raise limit_error(f"{what} of {value:,} is over the limit of {MAX_WIDTH:,}")


def _printf_size(what: str, fmt: Any, args: Any) -> int:
    """The most characters ``fmt % args`` can build; fails on a huge or ``*`` width."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt if isinstance(fmt, str) else ""
    specs = _PRINTF.findall(text)
    widest = 0
    for width, precision, _ in specs:
        for number in (width, precision):
            if number == "*":
                raise limit_error(f"{what}: a '*' width is not allowed — write the width out")
            if number:
                _width(f"{what}: a width or precision", int(number))
                widest = max(widest, int(number))
    values = list(args.values()) if isinstance(args, dict) else list(args) if isinstance(args, tuple) else [args]
    largest = max((rough_size(v) for v in values), default=0)
    return len(text) + len(specs) * (widest + largest)


@functools.lru_cache(maxsize=1)
def _classes() -> tuple[Any, Any]:
    """(LimitError, Sandbox), built on first use: jinja2 is imported only when rendering."""
    from jinja2 import TemplateSyntaxError, nodes, pass_context
    from jinja2.compiler import CodeGenerator, Frame
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedFormatter
    from jinja2.utils import _PassArg

    class LimitError(SecurityError):
        """A template or text went past one of the limits of this module."""

    class Generator(CodeGenerator):
        """Compiles ``a ~ b`` to a join that counts what it builds."""

        def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
            self.write("environment.joined((")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class Formatter(SandboxedFormatter):
        """``str.format`` that refuses huge widths and counts what it builds."""

        def __init__(self, env: Any) -> None:
            super().__init__(env)
            self.built = 0

        def convert_field(self, value: Any, conversion: str | None) -> Any:
            if conversion and rough_size(value) > MAX_BUILT:
                raise limit_error(f"format would build text over {MAX_BUILT:,} long")
            return super().convert_field(value, conversion)

        def format_field(self, value: Any, format_spec: str) -> Any:
            m = _SPEC.match(format_spec)
            if m is None and len(format_spec) > 20:
                raise limit_error("format: a format specification this long is not allowed")
            widest = 0
            for number in m.groups() if m else ():
                if number:
                    _width("format: a width or precision", int(number[:12]) if len(number) < 12 else 10**12)
                    widest = max(widest, int(number))
            self.built += max(widest, len(value) if isinstance(value, str) else rough_size(value))
            if self.built > MAX_BUILT:
                raise limit_error(f"format would build text over {MAX_BUILT:,} long")
            return super().format_field(value, format_spec)

    class Sandbox(ImmutableSandboxedEnvironment):
        """Jinja's immutable sandbox with the limits of this module (one instance a render)."""

        intercepted_binops = frozenset({"*", "**", "+", "-", "%"})
        code_generator_class = Generator

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.steps = 0
            self.work = 0
            self.costs: dict[str | None, int] = {}
            self.finalize = self.finalized
            self.globals.pop("lipsum", None)  # lipsum(n=10**9) builds a billion paragraphs
            for name, check in FILTER_CHECKS.items():
                if name in self.filters:
                    self.filters[name] = self._guarded(name, self.filters[name], check)

        # -------------------------------------------------------------- accounting
        def charge(self, cost: int) -> str:
            """Count *cost* steps; fail past :data:`MAX_STEPS`."""
            self.steps += cost
            if self.steps > MAX_STEPS:
                raise LimitError(
                    f"runs more than {MAX_STEPS:,} template steps (loops, macro calls, includes) — "
                    "a speech needs far fewer"
                )
            return ""

        def built(self, size: int, what: str) -> None:
            """Count a value of *size* built by *what*; fail when it or the render is too big."""
            if size > MAX_BUILT:
                raise LimitError(f"{what} would build text or a list over {MAX_BUILT:,} long")
            self.work += max(size, 0)
            if self.work > MAX_WORK:
                raise LimitError(f"builds more than {MAX_WORK:,} characters in all — a speech needs far less")

        def finalized(self, value: Any) -> Any:
            """Every ``{{ … }}`` passes here before it is written: a list is not printed whole."""
            self.built(len(value) if isinstance(value, str) else rough_size(value), "writing a value")
            return value

        def joined(self, parts: tuple[Any, ...]) -> str:
            """``a ~ b ~ c``, counted."""
            self.built(sum(len(p) if isinstance(p, str) else rough_size(p) for p in parts), "'~'")
            return "".join([str(p) for p in parts])

        def concat(self, pieces: Any) -> str:
            """The text of a whole render or of a captured block, stopped past :data:`MAX_OUTPUT`."""
            out: list[str] = []
            size = 0
            for piece in pieces:
                size += len(piece)
                if size > MAX_OUTPUT:
                    raise LimitError(f"writes more than {MAX_OUTPUT:,} characters — a speech is far shorter")
                out.append(piece)
            return "".join(out)

        # -------------------------------------------------------------- parsing
        def _parse(self, source: str, name: str | None, filename: str | None) -> Any:
            try:
                tree = super()._parse(source, name, filename)
                if "{%" in source:  # no statement, no loop, macro or include to guard
                    self.costs[name] = self._guard(tree, name, filename, source)
            except RecursionError:
                raise TemplateSyntaxError(NESTED, 1, name, filename) from None
            except ValueError:  # the lexer met a number past Python's digit limit
                raise TemplateSyntaxError(
                    "a number too long to read — no real number has thousands of digits", 1, name, filename
                ) from None
            return tree

        def _generate(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super()._generate(*args, **kwargs)
            except RecursionError:
                raise TemplateSyntaxError(NESTED, 1, args[1] if len(args) > 1 else None) from None

        def _compile(self, source: str, filename: str) -> Any:
            try:
                return super()._compile(source, filename)
            except (SyntaxError, RecursionError, MemoryError):  # Python's compiler: 20 nested loops, 100 indents
                raise TemplateSyntaxError(NESTED, 1, None, filename) from None

        def _guard(self, tree: Any, name: str | None, filename: str | None, source: str = "") -> int:
            """Make every loop, macro and call block pay for its body; refuse recursive loops."""
            guarded: list[tuple[Any, int]] = []

            def size(node: Any) -> int:  # one pass: the nodes under each node, loops and macros noted
                n = 1 + sum(size(child) for child in node.iter_child_nodes())
                if isinstance(node, (nodes.For, nodes.Macro, nodes.CallBlock)):
                    guarded.append((node, n))
                return n

            size(tree)
            for node, cost in guarded:
                if isinstance(node, nodes.For):
                    if node.recursive:
                        raise TemplateSyntaxError(RECURSIVE, node.lineno, name, filename)
                    node.iter = nodes.Call(
                        nodes.EnvironmentAttribute("counted"), [node.iter, nodes.Const(cost)], [], None, None,
                        lineno=node.lineno,
                    )
                else:
                    charge = nodes.Call(nodes.EnvironmentAttribute("charge"), [nodes.Const(cost)], [], None, None,
                                        lineno=node.lineno)
                    node.body.insert(0, nodes.ExprStmt(charge, lineno=node.lineno))
            return include_cost(source) if name is not None else 0

        def _load_template(self, name: str, globals: Any) -> Any:
            template = super()._load_template(name, globals)
            self.charge(self.costs.get(name, 1))
            return template

        def counted(self, iterable: Any, cost: int) -> Any:
            """A loop's iterable that charges *cost* steps per item."""
            return _Counted(self, iterable, cost)

        # -------------------------------------------------------------- operators, calls
        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            ints = all(isinstance(x, int) and not isinstance(x, bool) for x in (left, right))
            if operator in ("*", "**") and too_big(operator, left, right):
                what = "a number over 2**64" if operator == "**" else f"text or a list over {MAX_BUILT:,} long"
                raise SecurityError(f"'{operator}' would build {what}")
            if ints and operator in ("*", "+", "-"):
                bits = left.bit_length() + right.bit_length() if operator == "*" else max(left.bit_length(), right.bit_length()) + 1
                if bits > MAX_INT_BITS:
                    raise LimitError(f"'{operator}' would build a number over {MAX_INT_BITS:,} bits")
            elif operator in ("*", "+") and isinstance(left, (str, bytes, list, tuple)):
                size = len(left) * right if operator == "*" and isinstance(right, int) else len(left) + (
                    len(right) if isinstance(right, (str, bytes, list, tuple)) else 0)
                self.built(size, f"'{operator}'")
            elif operator == "*" and isinstance(right, (str, bytes, list, tuple)) and isinstance(left, int):
                self.built(len(right) * left, "'*'")
            elif operator == "%" and isinstance(left, (str, bytes)):
                self.built(_printf_size("'%'", left, right), "'%'")
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
            __self.charge(1)
            owner = getattr(__obj, "__self__", None)
            if isinstance(owner, (str, bytes, int, float, list, tuple, dict)) and not isinstance(owner, bool):
                method = getattr(__obj, "__name__", "")
                for value in (*args, *kwargs.values()):
                    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_BUILT:
                        raise LimitError(f"'.{method}()' is given {value:,}, over the limit of {MAX_BUILT:,}")
                if isinstance(owner, (str, bytes)):
                    args = __self._str_method(owner, method, args, kwargs)
            return super().call(__context, __obj, *args, **kwargs)

        def _str_method(self, owner: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
            """Check a text method that can grow its text; return the arguments to call it with."""
            what = f"'.{method}()'"
            first = args[0] if args else next(iter(kwargs.values()), None)
            if method in ("center", "ljust", "rjust", "zfill"):
                _width(f"{what}: a width", first)
            elif method == "expandtabs":
                _width(f"{what}: a tab size", first)
                self.built(len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * int(first or 8), what)
            elif method == "replace" and len(args) >= 2:
                old, new = args[0], args[1]
                count = owner.count(old) if old else len(owner) + 1
                self.built(len(owner) + count * max(len(new) - len(old), 0), what)
            elif method == "join" and args:
                items = list(args[0])
                self.built(sum(len(i) if isinstance(i, (str, bytes)) else 0 for i in items)
                           + len(owner) * max(len(items) - 1, 0), what)
                return (items, *args[1:])
            elif method == "translate" and isinstance(first, dict):
                longest = max((len(v) for v in first.values() if isinstance(v, (str, bytes))), default=1)
                self.built(len(owner) * max(longest, 1), what)
            return args

        def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
            wrapped = super().wrap_str_format(value)
            if wrapped is None:
                return None
            owner, is_map = value.__self__, value.__name__ == "format_map"

            def format(*args: Any, **kwargs: Any) -> str:
                if is_map:
                    if kwargs or len(args) != 1:
                        return wrapped(*args, **kwargs)  # Python's own TypeError
                    mapping: Any = args[0]
                    args, kwargs = (), mapping
                text = Formatter(self).vformat(owner, args, kwargs)
                self.built(len(text), "format")
                return text

            return format

        def _guarded(self, name: str, func: Any, check: Callable[..., Any]) -> Any:
            """Filter *func* behind *check*, which sees its arguments first (and may replace them)."""
            pass_arg = _PassArg.from_obj(func)

            @pass_context
            def guarded(context: Any, value: Any, *args: Any, **kwargs: Any) -> Any:
                value = check(self, f"|{name}", value, *args, **kwargs)
                first = {_PassArg.context: context, _PassArg.eval_context: context.eval_ctx,
                         _PassArg.environment: context.environment}.get(pass_arg)  # type: ignore[arg-type]
                return func(first, value, *args, **kwargs) if first is not None else func(value, *args, **kwargs)

            return guarded

    return LimitError, Sandbox


class _Counted:
    """An iterable that charges its sandbox for every item (and keeps ``len`` for ``loop.length``)."""

    def __init__(self, env: Any, iterable: Any, cost: int) -> None:
        self.env, self.iterable, self.cost = env, iterable, cost

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable:
            self.env.charge(self.cost)
            yield item

    def __len__(self) -> int:
        return len(self.iterable)


# --------------------------------------------------------------------------- filters


def _text_size(env: Any, what: str, value: Any) -> int:
    size = len(value) if isinstance(value, str) else rough_size(value)
    env.built(size, what)
    return size


def _stringify(env: Any, what: str, value: Any, *_a: Any, **_k: Any) -> Any:
    """Filters that turn their value into text: a huge list is refused, not printed."""
    _text_size(env, what, value)
    return value


def _center(env: Any, what: str, value: Any, width: Any = 80, *_a: Any, **_k: Any) -> Any:
    _width(f"{what}: a width", width)
    _text_size(env, what, value)
    return value


def _indent(env: Any, what: str, value: Any, width: Any = 4, *_a: Any, **_k: Any) -> Any:
    _width(f"{what}: a width", width)
    size = _text_size(env, what, value)
    lines = value.count("\n") + 1 if isinstance(value, str) else size
    env.built(size + lines * (len(width) if isinstance(width, str) else int(width or 0)), what)
    return value


def _format(env: Any, what: str, value: Any, *args: Any, **kwargs: Any) -> Any:
    env.built(_printf_size(what, value, kwargs or args), what)
    return value


def _join(env: Any, what: str, value: Any, d: Any = "", *_a: Any, **_k: Any) -> Any:
    items = list(value)
    size = len(str(d)) * max(len(items) - 1, 0)
    for item in items:
        size += len(item) if isinstance(item, str) else rough_size(item)
        if size > MAX_BUILT:
            break
    env.built(size, what)
    return items


def _replace(env: Any, what: str, value: Any, old: Any = "", new: Any = "", *_a: Any, **_k: Any) -> Any:
    size = _text_size(env, what, value)
    old, new = str(old), str(new)
    count = str(value).count(old) if old else size + 1
    env.built(size + count * max(len(new) - len(old), 0), what)
    return value


def _wordwrap(env: Any, what: str, value: Any, width: Any = 79, _b: Any = True, wrapstring: Any = None,
              *_a: Any, **kwargs: Any) -> Any:
    size = _text_size(env, what, value)
    wrap = kwargs.get("wrapstring", wrapstring) or "\n"
    env.built(size + (size // max(int(kwargs.get("width", width) or 1), 1) + 1) * len(str(wrap)), what)
    return value


def _counts(env: Any, what: str, value: Any, count: Any = 1, *_a: Any, **_k: Any) -> Any:
    _width(f"{what}: a count", count)
    return value


def _sum(env: Any, what: str, value: Any, *_a: Any, **_k: Any) -> Any:
    items = list(value)
    env.built(sum(len(i) if isinstance(i, (str, list, tuple)) else 1 for i in items), what)
    return items


#: Filters that can grow their input, and the check each passes first.
FILTER_CHECKS: dict[str, Callable[..., Any]] = {
    "center": _center, "indent": _indent, "format": _format, "join": _join, "replace": _replace,
    "wordwrap": _wordwrap, "batch": _counts, "slice": _counts, "sum": _sum, "truncate": _stringify,
    **{name: _stringify for name in (
        "capitalize", "e", "escape", "forceescape", "lower", "pprint", "safe", "string", "striptags",
        "title", "tojson", "trim", "upper", "urlencode", "urlize", "wordcount", "xmlattr",
    )},
}


# --------------------------------------------------------------------------- compiled code

#: Compiled template code by key (:func:`code_key`): kept for the life of the process, so a
#: server composing on every keystroke compiles each fragment text once.
_CODE: dict[str, Any] = {}
_CODE_LIMIT = 20_000


@functools.lru_cache(maxsize=1)
def _code_salt() -> str:
    """What compiled code depends on besides the text: Python, Jinja2 and this module."""
    import importlib.util
    import sys
    from pathlib import Path

    import jinja2

    return "\0".join((sys.version, importlib.util.MAGIC_NUMBER.hex(), jinja2.__version__,
                       Path(__file__).read_text(encoding="utf-8")))


def include_cost(source: str) -> int:
    """What including a template of *source* costs in steps: roughly its nodes."""
    return len(source) // 8 + 1


def code_key(env: Any, source: str, name: str | None = None, filename: str | None = None) -> str:
    """The SHA-256 naming *source* (loaded as *name* from *filename*) compiled by an
    environment configured as *env* is."""
    from speechgen.cachefiles import digest

    config = (
        type(env).__qualname__, env.block_start_string, env.block_end_string, env.variable_start_string,
        env.variable_end_string, env.comment_start_string, env.comment_end_string, env.line_statement_prefix,
        env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks, env.newline_sequence,
        env.keep_trailing_newline, repr(env.autoescape), env.optimized, env.finalize is not None,
        tuple(sorted(env.extensions)),
    )
    return digest(_code_salt(), repr(config), repr((name, filename)), source)


def from_source(env: Any, source: str, name: str | None = None, filename: str | None = None,
                globals: Any = None) -> Any:
    """``env.from_string(source)``, compiling *source* only the first time it is seen.

    With *name* and *filename*, the template a loader found (an included part): its
    include cost is recorded on *env* as parsing it would (:func:`include_cost`).

    The compiled code is kept in memory and, as marshalled bytes, in the cache folder
    (``jinja/``, through :mod:`speechgen.cachefiles`: this user's only, named by the hash
    of the text, the environment's settings, Python, Jinja2 and this module's source), so
    the sandbox's guards compiled into it are those of this very text and module. The
    budgets live on *env*, a fresh one per render as before. A text that does not compile
    raises here as ``from_string`` does and is never stored.
    """
    from speechgen import cachefiles

    key = code_key(env, source, name, filename)
    code = _CODE.get(key)
    if code is not None and name is not None and "{%" in source:
        env.costs[name] = include_cost(source)
    if code is None:
        folder = cachefiles.private_folder("jinja")
        code = cachefiles.read_value(folder, key) if folder else None
        if code is not None and name is not None and "{%" in source:
            env.costs[name] = include_cost(source)
        if code is None:
            code = env.compile(source, name, filename)
            if folder:
                cachefiles.write_value(folder, key, code)
        if len(_CODE) >= _CODE_LIMIT:
            _CODE.clear()
        _CODE[key] = code
    return env.template_class.from_code(env, code, env.make_globals(globals))


def sandbox() -> Any:
    """The Sandbox class (a fresh instance gives a fresh set of budgets)."""
    classes: tuple[Any, ...] = _classes()
    return classes[1]


def limit_error_class() -> Any:
    """The LimitError class, to tell a limit from another refusal of the sandbox."""
    classes: tuple[Any, ...] = _classes()
    return classes[0]
