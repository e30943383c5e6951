"""Numbering and rendering: fragment texts in a Jinja2 sandbox, the template skeleton.

Fragment texts are rendered with StrictUndefined and a ``blank(type)`` function that
writes a visible mark (:data:`BLANK`) or the brief's fill; points and sub-points get
numbers in the template's style (cn2an); the skeleton renders into the Markdown
dialect of :mod:`speechgen.draft`, read back as the one Draft.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechgen.compose.sandbox import NESTED, from_source, limit_error_class, sandbox
from speechgen.compose.selection import Pick
from speechgen.compose.templates import Template, inside
from speechgen.draft import MARK_RE, Draft, from_markdown
from speechgen.errors import SpeechgenError, TemplateError
from speechgen.paths import shipped
from speechgen.userfiles import display_path

BLANK = "【＿＿】"
ROLE_NAMES = {"opening": "开场", "closing": "结尾", "title": "标题"}
_NUMBERED = re.compile(
    r"^\s*(第[一二三四五六七八九十]+[，,、.．：:]|[一二三四五六七八九十]+[、,，.．]|"
    r"[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、)）]|[一二三四五六七八九十]+是)\s*"
)
_STATED = re.compile(r"(讲|谈|提|强调)([一二两三四五六七八九十]+)(点|个方面)")


@dataclass(frozen=True)
class BlankInfo:
    """A spot the writer still has to fill: where it is and what goes there."""

    where: str  # 开场 / 第二点 / 结尾 / 标题
    fragment: str
    mark: str  # 【＿＿】 or 【市名】
    kind: str  # the blank type (数量, 人名, …) or "slot"
    context: str  # a few characters either side



def cn(n: int) -> str:
    """*n* in Chinese numerals (cn2an, remembered across runs): 3 → 三, 12 → 十二."""
    from speechgen.numerals import chinese

    return chinese(n)


def count_word(n: int) -> str:
    """The count as said aloud in 我讲三点意见: 两 for 2, otherwise :func:`cn`."""
    return "两" if n == 2 else cn(n)


def point_label(style: str, n: int) -> str:
    """The number in front of heading *n*: 第一， or 一、."""
    return f"第{cn(n)}，" if style == "第一，" else f"{cn(n)}、"


def subpoint_label(style: str, n: int) -> str:
    """The ordinal of sub-point *n*: 一是, （一） or 1．."""
    if style == "（一）":
        return f"（{cn(n)}）"
    if style == "1．":
        return f"{n}．"
    return f"{cn(n)}是"


def strip_number(text: str) -> str:
    """A heading or lead without a number its source may have left on it."""
    return _NUMBERED.sub("", text, count=1).strip()


def paragraphs(text: str) -> list[str]:
    """The non-empty paragraphs of a fragment text."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def role_name(pick: Pick, number: int) -> str:
    return f"第{cn(number)}点" if pick.role == "point" else ROLE_NAMES.get(pick.role, pick.role)


def template_names(source: str, shown: str = "template") -> set[str]:
    """Variables a Jinja text uses that it does not set itself.

    Raises:
        TemplateError: naming *shown* and the line, when the text is not valid Jinja.
    """
    known = _NAMES.get(source)
    if known is None:
        known = _stored_names(source)
    if known is not None:
        return set(known)
    from jinja2 import TemplateSyntaxError, meta

    try:
        names = frozenset(meta.find_undeclared_variables(sandbox()().parse(source)))
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{shown}:{exc.lineno}: template syntax error: {exc.message} — fix the template") from None
    except RecursionError:  # the code generator behind find_undeclared_variables
        raise TemplateError(f"{shown}:1: template syntax error: {NESTED} — fix the template") from None
    _remember(source, names)
    _store_names(source, names)
    return set(names)


def names_known(source: str) -> bool:
    """True when :func:`template_names` read *source* before, in this run or an earlier one:
    it is valid Jinja (a text that does not parse is never kept)."""
    return source in _NAMES or _stored_names(source) is not None


#: template_names of each text seen (the answer depends on the text alone; errors are not kept)
_NAMES: dict[str, frozenset[str]] = {}


def _remember(source: str, names: frozenset[str]) -> None:
    if len(_NAMES) >= 20_000:
        _NAMES.clear()
    _NAMES[source] = names


def _names_key(source: str) -> str:
    from speechgen.cachefiles import digest
    from speechgen.compose.sandbox import _code_salt

    # what parsing depends on besides the text: Python, Jinja2 and the sandbox's settings
    return digest("template-names-1", _code_salt(), source)


def _stored_names(source: str) -> frozenset[str] | None:
    """The names an earlier run found in *source*, from the cache folder (``jinja/``, the
    rules of :mod:`speechgen.cachefiles`), or None. Parsing a template and walking it for
    its names is about 3 ms of each compose (the skeleton template, the title)."""
    from speechgen import cachefiles

    folder = cachefiles.private_folder("jinja")
    names = cachefiles.read_value(folder, _names_key(source)) if folder else None
    if not isinstance(names, tuple) or not all(type(n) is str for n in names):
        return None
    found = frozenset(names)
    _remember(source, found)
    return found


def _store_names(source: str, names: frozenset[str]) -> None:
    from speechgen import cachefiles

    folder = cachefiles.private_folder("jinja")
    if folder:
        cachefiles.write_value(folder, _names_key(source), tuple(sorted(names)))


# --------------------------------------------------------------------------- rendering


class Renderer:
    """Renders fragment texts in a sandbox; records every blank left in them."""

    def __init__(self, values: dict[str, str], fills: dict[str, dict[int, str]]) -> None:
        from jinja2 import StrictUndefined

        self.env = sandbox()(undefined=StrictUndefined, autoescape=False)
        self.values = values
        self.fills = fills
        self.blanks: list[BlankInfo] = []
        self.blank_counts: dict[str, int] = {}

    def render(
        self, text: str, owner: str, where: str, record: bool = True, *, shown: str = "", what: str = "fragment"
    ) -> str:
        """*text* with slots filled and blanks marked; *owner* (or *shown*) names it in errors.

        Blanks are counted per owner in order of appearance, so a brief fills them by
        position; *record* False counts them without listing them (a skipped sub-point).
        *what* says what to fix in a message: the fragment, or the title.
        """
        from jinja2 import TemplateError as JinjaError

        if "{" not in text:
            return text
        count = self.blank_counts.setdefault(owner, 0)
        fills = self.fills.get(owner, {})
        kinds: list[str] = []

        def blank(kind: str = "", *_: Any) -> str:
            nonlocal count
            count += 1
            if count in fills:
                return fills[count]
            kinds.append(str(kind))
            return BLANK

        def fact(kind: str = "") -> str:
            """A fact's specifics compose left blank (docs/brief.md, facts:); not a blank by position."""
            kinds.append(f"事实·{kind}")
            return BLANK

        def skip(n: int = 1) -> str:
            """Blanks of a fact compose cut whole still count, so the brief's positions hold."""
            nonlocal count
            count += int(n)
            return ""

        try:
            out = from_source(self.env, text).render(**self.values, blank=blank, fact=fact, skip=skip)
        except JinjaError as exc:  # the sandbox said no, a limit was reached, a syntax error
            raise TemplateError(f"{shown or owner}: cannot fill the text ({exc}) — fix the {what}") from None
        except RENDER_FAILURES as exc:  # {{ 1/0 }}, range(10**9): the text's fault, not ours
            raise TemplateError(f"{shown or owner}: cannot fill the text ({failure(exc)}) — fix the {what}") from None
        self.blank_counts[owner] = count
        if record:
            self._record(out, owner, where, kinds)
        return out

    def _record(self, out: str, owner: str, where: str, kinds: list[str]) -> None:
        for m in MARK_RE.finditer(out):
            kind = kinds.pop(0) if m.group(0) == BLANK and kinds else "slot"
            context = out[max(0, m.start() - 8) : m.end() + 8].replace("\n", " ")
            self.blanks.append(BlankInfo(where, owner, m.group(0), kind or "blank", context))


def _md_para(text: str) -> str:
    # A paragraph starting with '#' would read back as a heading.
    return "＃" + text[1:] if text.startswith("#") else text


def render_pick(r: Renderer, pick: Pick, number: int, template: Template) -> dict[str, Any]:
    """One fragment as the template sees it: heading, paragraphs, sub-points, tail."""
    frag = pick.fragment
    where = role_name(pick, number)
    heading = strip_number(r.render(pick.heading or frag.heading, frag.id, where)) if frag.heading else ""
    body = [_md_para(p) for p in paragraphs(r.render(frag.text, frag.id, where))]
    chosen = pick.subpoints or tuple(range(1, len(frag.subpoints) + 1))
    rendered = {}
    for index, sp in enumerate(frag.subpoints, 1):  # all, so blank positions stay the source's
        keep = index in chosen
        lead = strip_number(r.render(sp.lead, frag.id, where, keep))
        rendered[index] = (lead, " ".join(paragraphs(r.render(sp.text, frag.id, where, keep))))
    subs = [
        {"label": subpoint_label(template.subpoints, n), "lead": rendered[i][0], "text": rendered[i][1]}
        for n, i in enumerate(chosen, 1)
    ]
    tail = [_md_para(p) for p in paragraphs(r.render(frag.tail, frag.id, where))]
    label = point_label(template.numbering, number) if pick.role == "point" else ""
    return {"id": frag.id, "number": number, "label": label, "heading": heading,
            "paragraphs": body, "subpoints": subs, "tail": tail}


def flat(part: dict[str, Any]) -> list[str]:
    """A non-point fragment (opening, closing) as plain paragraphs, sub-points included."""
    out = list(part["paragraphs"])
    out += [f"**{s['label']}{s['lead']}**{s['text']}" for s in part["subpoints"]]
    return out + list(part["tail"])


def fix_stated_count(paras: list[str], n: int, owner: str, warnings: list[str]) -> list[str]:
    """我讲六点意见 in an opening says as many points as the draft has."""
    want = count_word(n)

    def repl(m: re.Match[str]) -> str:
        if m.group(2) in (want, cn(n)) or m.group(2) == "几":
            return m.group(0)
        warnings.append(f"{owner}: said {m.group(2)}{m.group(3)}; changed to {want}{m.group(3)} to match the {n} points")
        return m.group(1) + want + m.group(3)

    return [_STATED.sub(repl, p) for p in paras]


SKELETON_NAMES = ("title", "meeting", "speaker", "date_line", "salutation", "opening", "points", "closing", "vars")
#: What Python raises for a Jinja text that divides by zero, adds text to a number, asks
#: the sandbox for a huge range or includes itself: a mistake in that text, reported as one.
RENDER_FAILURES = (ArithmeticError, LookupError, TypeError, ValueError, RecursionError)


def failure(exc: BaseException) -> str:
    """A Python error raised while rendering, as a user reads it."""
    if isinstance(exc, RecursionError):
        return "it includes or extends itself without end"
    return f"{type(exc).__name__}: {exc}"


def template_line(exc: BaseException) -> int:
    """The line of the template text being rendered when *exc* was raised (0: unknown)."""
    line, tb = 0, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":  # Jinja's rewritten frames
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def folder_loader() -> Any:
    """A Jinja loader for template folders that only reads what lies inside them.

    ``{% include %}``, ``{% extends %}`` and ``{% import %}`` name a file in one of the
    folders; a symbolic link there pointing anywhere else (``/etc/passwd``) is refused,
    and so is anything but an ordinary file of sane size (a FIFO would hang the render).
    """
    import os
    import posixpath

    from jinja2 import FileSystemLoader, TemplateNotFound
    from jinja2.loaders import split_template_path

    from speechgen.userfiles import MAX_TEMPLATE, check_file, read_checked

    class FolderLoader(FileSystemLoader):
        def get_source(self, environment: Any, template: str) -> tuple[str, str, Any]:
            pieces = split_template_path(template)
            roots = [os.path.realpath(p) for p in self.searchpath]
            for folder in self.searchpath:
                path = posixpath.join(folder, *pieces)
                if not os.path.lexists(path):
                    continue
                inside(Path(path), roots)
                check_file(Path(path), "template", MAX_TEMPLATE, error=TemplateError)
                try:
                    text = read_checked(Path(path), "template", MAX_TEMPLATE, TemplateError).decode("utf-8-sig")
                except UnicodeDecodeError:
                    raise TemplateError(f"{display_path(path)}: not UTF-8 text — save the template as UTF-8") from None
                except OSError as exc:
                    raise TemplateError(f"{display_path(path)}: cannot read the template ({exc.strerror})") from None
                return text, os.path.normpath(path), lambda: True
            raise TemplateNotFound(template)

        def load(self, environment: Any, name: str, globals: Any = None) -> Any:
            # A part the template includes, compiled once as fragment texts are (from_source).
            source, filename, _ = self.get_source(environment, name)
            return from_source(environment, source, name, filename, globals)

    return FolderLoader


def render_skeleton(template: Template, ctx: dict[str, Any]) -> Draft:
    """Render the template into the Markdown dialect and read it back as a Draft."""
    from jinja2 import (
        StrictUndefined,
        TemplateNotFound,
        TemplateSyntaxError,
        UndefinedError,
    )
    from jinja2 import TemplateError as JinjaError

    env = sandbox()(
        loader=folder_loader()([str(template.path.parent), str(shipped("templates"))]),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        md = from_source(env, template.source).render(**ctx)
    except TemplateSyntaxError as exc:  # in the template or in a part it includes
        shown = display_path(exc.filename) if exc.filename and exc.filename != "<template>" else template.shown
        raise TemplateError(f"{shown}:{exc.lineno}: template syntax error: {exc.message} — fix the template") from None
    except UndefinedError as exc:
        raise TemplateError(
            f"{template.shown}: {exc.message} — template variables: {', '.join(SKELETON_NAMES)}"
        ) from None
    except TemplateNotFound as exc:
        raise TemplateError(
            f"{template.shown}: cannot include '{exc.name}' — put it in the template's folder "
            f"({display_path(template.path.parent)})"
        ) from None
    except JinjaError as exc:  # SecurityError and the like: the sandbox said no
        limit = isinstance(exc, limit_error_class()) or " would build " in str(exc)
        fix = "fix the template" if limit else "a template may only use the variables given to it"
        raise TemplateError(f"{template.shown}: {exc} — {fix}") from None
    except RENDER_FAILURES as exc:
        line = template_line(exc)
        where = f"{template.shown}:{line}" if line else template.shown
        raise TemplateError(f"{where}: {failure(exc)} — fix the template") from None
    try:
        return from_markdown(md, template.shown)
    except SpeechgenError as exc:
        raise TemplateError(f"{exc} (in what the template produced)") from None
