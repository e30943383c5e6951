"""Brief + library + template → Draft and Summary.

Steps: select the fragments (:mod:`speechgen.selection`), check that every named slot
has a value (all missing ones reported together), render each fragment in a Jinja2
sandbox with StrictUndefined, number the points in the template's style and the
sub-points after any subset, then render the template skeleton into the Markdown
dialect of :mod:`speechgen.draft` and read it back as the one :class:`Draft`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from speechgen.brief import Brief, line_of, load_brief, raise_problems
from speechgen.draft import MARK_RE, Draft, from_markdown
from speechgen.errors import BriefError, SpeechgenError, TemplateError
from speechgen.paths import shipped
from speechgen.selection import Pick, Selection, select
from speechgen.templates import Template, load_template, template_dirs, unknown_template

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


@dataclass(frozen=True)
class UsedFragment:
    """A fragment in the draft and where it came from."""

    id: str
    where: str
    source: str
    year: int | None


@dataclass(frozen=True)
class Summary:
    """What ``compose`` reports after writing: size, time, blanks, sources, warnings."""

    chars: int
    rate: int
    blanks: tuple[BlankInfo, ...]
    used: tuple[UsedFragment, ...]
    warnings: tuple[str, ...]

    @property
    def minutes(self) -> float:
        """Estimated speaking time in minutes at :attr:`rate` 字/分钟."""
        return self.chars / self.rate if self.rate else 0.0


@dataclass(frozen=True)
class Composed:
    """The draft and its summary."""

    draft: Draft
    summary: Summary


def cn(n: int) -> str:
    """*n* in Chinese numerals (cn2an): 3 → 三, 12 → 十二."""
    import cn2an

    return str(cn2an.an2cn(n))


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


def _role_name(pick: Pick, number: int) -> str:
    return f"第{cn(number)}点" if pick.role == "point" else ROLE_NAMES.get(pick.role, pick.role)


# --------------------------------------------------------------------------- slots


def slot_values(brief: Brief, npoints: int) -> dict[str, str]:
    """Values of the named slots: derived from the brief, then ``vars:`` (which win), then 点数."""
    values: dict[str, str] = {}
    if brief.date:
        values["年份"] = str(brief.date.year)
        values["日期"] = f"{brief.date.year}年{brief.date.month}月{brief.date.day}日"
    if brief.speaker:
        values["讲话人"] = brief.speaker
    if brief.meeting:
        values["会议"] = brief.meeting
    values.update(brief.vars)
    values["点数"] = count_word(npoints)
    return values


def slot_hint(name: str) -> str:
    """The brief key that gives a slot its value."""
    if name in ("年份", "日期"):
        return f"add date: YYYY-MM-DD (or {name}: … under vars:)"
    if name == "讲话人":
        return "add speaker: (or 讲话人: … under vars:)"
    return f"add it under vars: ({name}: …)"


def missing_slots_message(shown: str, missing: dict[str, list[str]]) -> str:
    """The one message listing every slot without a value, the fragments needing it and the fix."""
    n = len(missing)
    head = f"{shown}: {n} slot{'s have' if n > 1 else ' has'} no value:"
    lines = [head]
    for name, users in missing.items():
        lines.append(f"  {name} — needed by {', '.join(users)} — {slot_hint(name)}")
    lines.append("(or run with --allow-blanks to leave visible blanks)")
    return "\n".join(lines)


def template_names(source: str) -> set[str]:
    """Variables a Jinja text uses that it does not set itself."""
    from jinja2 import meta
    from jinja2.sandbox import SandboxedEnvironment

    return set(meta.find_undeclared_variables(SandboxedEnvironment().parse(source)))


# --------------------------------------------------------------------------- rendering


class Renderer:
    """Renders fragment texts in a sandbox; records every blank left in them."""

    def __init__(self, values: dict[str, str], fills: dict[str, dict[int, str]]) -> None:
        from jinja2 import StrictUndefined
        from jinja2.sandbox import SandboxedEnvironment

        self.env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
        self.values = values
        self.fills = fills
        self.blanks: list[BlankInfo] = []
        self.blank_counts: dict[str, int] = {}

    def render(self, text: str, owner: str, where: str, record: bool = True) -> str:
        """*text* with slots filled and blanks marked; *owner* names it in errors.

        Blanks are counted per owner in order of appearance, so a brief fills them by
        position; *record* False counts them without listing them (a skipped sub-point).
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

        try:
            out = self.env.from_string(text).render(**self.values, blank=blank)
        except JinjaError as exc:
            raise TemplateError(f"{owner}: cannot fill the text ({exc}) — fix the fragment") from None
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
    where = _role_name(pick, number)
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


def _flat(part: dict[str, Any]) -> list[str]:
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


# --------------------------------------------------------------------------- checks


def _blank_problems(brief: Brief, sel: Selection, lib_ids: dict[str, Any]) -> tuple[list[str], list[str]]:
    problems: list[str] = []
    warnings: list[str] = []
    used = {p.fragment.id for p in sel.picks}
    for fid, fills in brief.blanks.items():
        where = brief.where(line=brief.blank_lines.get(fid, 0))
        frag = lib_ids.get(fid)
        if frag is None:
            from speechgen.library import did_you_mean

            hint = did_you_mean(fid, lib_ids) or " — run 'speechgen fragments list' to see the ids"
            problems.append(f"{where}: blanks: unknown fragment id '{fid}'{hint}")
            continue
        n = len(frag.blanks)
        for pos in sorted(fills):
            if pos > n:
                has = f"has {n} blank{'s' if n != 1 else ''}" if n else "has no blanks"
                problems.append(
                    f"{where}: blanks: '{fid}' {has}; there is no blank {pos} — "
                    f"see speechgen fragments show {fid}"
                )
        if fid not in used:
            warnings.append(f"{where}: blanks given for '{fid}', which this draft does not use")
    return problems, warnings


def _provenance_warnings(brief: Brief, sel: Selection) -> list[str]:
    out: list[str] = []
    year = brief.date.year if brief.date else None
    by_source: dict[tuple[str, int | None], list[str]] = {}
    for p in sel.picks:
        f = p.fragment
        if year and f.source.year and f.source.year != year:
            by_source.setdefault((f.source.file or f.path, f.source.year), []).append(f.id)
        if brief.campaign and f.source.campaign and brief.campaign not in f.source.campaign:
            out.append(
                f"{f.id} comes from a {f.source.campaign} speech; this one is about {brief.campaign}"
            )
        if f.review:
            out.append(f"{f.id} is marked review (its boundaries were guessed) — read it through")
    for (source, y), ids in by_source.items():
        verb = "comes" if len(ids) == 1 else "come"
        out.append(
            f"{', '.join(ids)} {verb} from a {y} speech ({source}) in a {year} speech — "
            "check dates, figures and names"
        )
    return out


def _needed(brief: Brief, sel: Selection, template: Template, title_src: str) -> dict[str, list[str]]:
    """Slot name → who needs it, in order of first use."""
    needed: dict[str, list[str]] = {}
    for name in template_names(title_src) - {"meeting", "speaker"}:
        needed.setdefault(name, []).append("the title")
    for pick in sel.picks:
        for name in pick.fragment.slots:
            users = needed.setdefault(name, [])
            if pick.fragment.id not in users:
                users.append(pick.fragment.id)
    skeleton = template_names(template.source) - set(SKELETON_NAMES)
    for name in [*template.required, *sorted(skeleton)]:
        users = needed.setdefault(name, [])
        if f"template {template.name}" not in users:
            users.append(f"template {template.name}")
    return needed


SKELETON_NAMES = ("title", "meeting", "speaker", "date_line", "salutation", "opening", "points", "closing", "vars")


# --------------------------------------------------------------------------- compose


def prepare(brief: Brief, problems: list[str], dirs: list[Path], tdirs: list[Path]) -> tuple[Template, Selection, dict[str, Any]]:
    """Template and selection for *brief*; raises once with every problem (the brief's included)."""
    from speechgen.index import Index

    problems = list(problems)
    template = Template("", Path("."), "")
    if brief.template:
        try:
            template = load_template(brief.template, tdirs)
        except TemplateError as exc:
            if not str(exc).startswith("unknown template"):
                raise
            problems.append(f"{brief.where('template')}: {unknown_template(brief.template, tdirs)}")
    index = Index(dirs)
    lib = index.library()
    sel = select(brief, index, lib, template)
    by_id = {f.id: f for f in lib.fragments}
    blank_problems, _ = _blank_problems(brief, sel, by_id)
    problems += list(sel.problems) + blank_problems
    raise_problems(brief.path, sorted(problems, key=line_of))
    return template, sel, by_id


def compose(
    brief: Brief,
    dirs: list[Path],
    tdirs: list[Path] | None = None,
    *,
    problems: list[str] | None = None,
    allow_blanks: bool = False,
    rate: int | None = None,
) -> Composed:
    """Compose the draft *brief* asks for from the library folders *dirs*.

    Args:
        brief: the brief, as :func:`speechgen.brief.parse_brief` returned it.
        dirs: library folders (see :func:`speechgen.paths.library_dirs`).
        tdirs: template folders, the user's first (see :func:`template_dirs`).
        problems: problems already found in the brief, reported with the rest.
        allow_blanks: leave missing slots as visible marks 【市名】 instead of failing.
        rate: speaking rate in 字/分钟; the brief's ``speaking_rate`` otherwise.

    Raises:
        BriefError: listing every problem, or every slot without a value.
    """
    tdirs = template_dirs(None) if tdirs is None else tdirs
    template, sel, by_id = prepare(brief, problems or [], dirs, tdirs)
    warnings = list(sel.warnings) + _blank_problems(brief, sel, by_id)[1]
    values = slot_values(brief, len(sel.points))
    title_src = brief.title or template.title
    missing = {k: v for k, v in _needed(brief, sel, template, title_src).items() if k not in values}
    if missing and not allow_blanks:
        raise BriefError(missing_slots_message(brief.path, missing))
    values.update({name: f"【{name}】" for name in missing})
    r = Renderer(values, brief.blanks)
    ctx = _skeleton_context(brief, sel, template, r, warnings, title_src)
    draft = render_skeleton(template, ctx)
    draft = replace(draft, speaker=brief.speaker, date=brief.date, meta={})
    warnings += _provenance_warnings(brief, sel)
    return Composed(draft, _summary(draft, brief, sel, r, warnings, rate))


def _skeleton_context(
    brief: Brief, sel: Selection, template: Template, r: Renderer, warnings: list[str], title_src: str
) -> dict[str, Any]:
    n = len(sel.points)
    title_values = {**r.values, "meeting": brief.meeting, "speaker": brief.speaker}
    title = " ".join(paragraphs(Renderer(title_values, {}).render(title_src, "the title", "标题")))
    r.blanks += [BlankInfo("标题", "the title", m.group(0), "slot", title) for m in MARK_RE.finditer(title)]
    opening: list[str] = []
    for pick in sel.opening:
        paras = _flat(render_pick(r, pick, 0, template))
        opening += fix_stated_count(paras, n, pick.fragment.id, warnings)
    points = [render_pick(r, pick, i, template) for i, pick in enumerate(sel.points, 1)]
    closing = [p for pick in sel.closing for p in _flat(render_pick(r, pick, 0, template))]
    return {
        **r.values,
        "vars": dict(r.values),
        "title": title,
        "meeting": brief.meeting,
        "speaker": brief.speaker,
        "date_line": f"（{brief.date.year}年{brief.date.month}月{brief.date.day}日）" if brief.date else "",
        "salutation": brief.salutation or template.salutation,
        "opening": opening,
        "points": points,
        "closing": closing,
    }


def render_skeleton(template: Template, ctx: dict[str, Any]) -> Draft:
    """Render the template into the Markdown dialect and read it back as a Draft."""
    from jinja2 import FileSystemLoader, StrictUndefined, TemplateSyntaxError, UndefinedError
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=FileSystemLoader([str(template.path.parent), str(shipped("templates"))]),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    try:
        md = env.from_string(template.source).render(**ctx)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            f"{template.shown}:{exc.lineno}: template syntax error: {exc.message} — fix the template"
        ) from None
    except UndefinedError as exc:
        raise TemplateError(
            f"{template.shown}: {exc.message} — template variables: {', '.join(SKELETON_NAMES)}"
        ) from None
    try:
        return from_markdown(md, template.shown)
    except SpeechgenError as exc:
        raise TemplateError(f"{exc} (in what the template produced)") from None


def _summary(
    draft: Draft, brief: Brief, sel: Selection, r: Renderer, warnings: list[str], rate: int | None
) -> Summary:
    numbers = {id(p): i for i, p in enumerate(sel.points, 1)}
    used = tuple(
        UsedFragment(
            p.fragment.id,
            _role_name(p, numbers.get(id(p), 0)),
            p.fragment.source.file or p.fragment.path,
            p.fragment.source.year,
        )
        for p in sel.picks
    )
    body_chars = sum(1 for b in draft.body for ch in b.text if not ch.isspace())
    return Summary(body_chars, rate or brief.speaking_rate, tuple(r.blanks), used, tuple(warnings))


def compose_file(
    path: Path,
    dirs: list[Path],
    tdirs: list[Path] | None = None,
    *,
    allow_blanks: bool = False,
    rate: int | None = None,
) -> Composed:
    """Read the brief at *path* and compose it (see :func:`compose`)."""
    brief, problems = load_brief(path)
    if not brief.template and not brief.points:
        raise_problems(brief.path, problems)
    return compose(brief, dirs, tdirs, problems=problems, allow_blanks=allow_blanks, rate=rate)
