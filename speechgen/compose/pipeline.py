"""Brief + library + template → Draft and Summary.

Steps: select the fragments (:mod:`speechgen.compose.selection`), check that every named slot
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

from speechgen.compose.brief import Brief, line_of, load_brief, raise_problems
from speechgen.compose.render import (
    SKELETON_NAMES,
    BlankInfo,
    Renderer,
    count_word,
    fix_stated_count,
    flat,
    paragraphs,
    render_pick,
    render_skeleton,
    role_name,
    template_names,
)
from speechgen.compose.selection import Selection, select
from speechgen.compose.templates import Template, load_template, template_dirs, unknown_template
from speechgen.draft import MARK_RE, Draft, Note
from speechgen.errors import BriefError, TemplateError
from speechgen.lint import Finding, LintContext, lint_draft


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

    points: int
    chars: int
    rate: int
    blanks: tuple[BlankInfo, ...]
    used: tuple[UsedFragment, ...]
    warnings: tuple[str, ...]
    findings: tuple[Finding, ...] = ()

    @property
    def minutes(self) -> float:
        """Estimated speaking time in minutes at :attr:`rate` 字/分钟."""
        return self.chars / self.rate if self.rate else 0.0


@dataclass(frozen=True)
class Composed:
    """The draft and its summary."""

    draft: Draft
    summary: Summary


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


# --------------------------------------------------------------------------- checks


def _blank_problems(brief: Brief, sel: Selection, store: Any) -> tuple[list[str], list[str]]:
    """Blanks given for unknown fragments or blanks they lack (problems); for unused ones (warnings)."""
    from speechgen.errors import SpeechgenError

    problems: list[str] = []
    warnings: list[str] = []
    used = {p.fragment.id for p in sel.picks}
    for fid, fills in brief.blanks.items():
        where = brief.where(line=brief.blank_lines.get(fid, 0))
        try:
            frag = store.get(fid)  # by id: the library is not loaded
        except SpeechgenError as exc:  # unknown fragment id '…' — did you mean …?
            problems.append(f"{where}: blanks: {exc}")
            continue
        n = len(frag.blanks)
        extra = [str(pos) for pos in sorted(fills) if pos > n]
        if extra:
            has = f"has {n} blank{'s' if n != 1 else ''}" if n else "has no blanks"
            shown = extra[0] if len(extra) == 1 else ", ".join(extra[:-1]) + " or " + extra[-1]
            problems.append(
                f"{where}: blanks: '{fid}' {has}; there is no blank {shown} — "
                f"see speechgen fragments show {fid}"
            )
        if fid not in used:
            warnings.append(f"{where}: blanks given for '{fid}', which this draft does not use")
    return problems, warnings


_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?=年)")
_SENTENCE_END = "。！？!?”’…；;：:）)】」"
STALE_YEARS = 2  # last year's speech is the usual starting point; older ones get a warning


def _provenance_warnings(brief: Brief, sel: Selection) -> list[str]:
    out: list[str] = []
    year = brief.date.year if brief.date else None
    by_source: dict[tuple[str, int | None], list[str]] = {}
    for p in sel.picks:
        f = p.fragment
        if year and f.source.year and abs(f.source.year - year) >= STALE_YEARS:
            by_source.setdefault((f.source.file or f.path, f.source.year), []).append(f.id)
        theirs = f.campaign or f.source.campaign
        if brief.campaign and theirs and not _same_campaign(brief, f):
            out.append(f"{f.id} comes from a {theirs} speech; this one is about {brief.campaign}")
        if f.review:
            out.append(f"{f.id} is marked review (its boundaries were guessed) — read it through")
        years = sorted({y for y in _YEAR.findall(f.full_text) if year and int(y) != year})
        if years:
            shown = "、".join(f"{y}年" for y in years)
            out.append(f"{f.id} mentions {shown} — check it fits a speech dated {year}")
        last = (f.tail or (f.subpoints[-1].text if f.subpoints else f.text)).rstrip()
        if last and last[-1] not in _SENTENCE_END:
            out.append(f"{f.id} ends mid-sentence (…{last[-8:]}) — finish or cut its last sentence")
    for (source, y), ids in by_source.items():
        verb = "comes" if len(ids) == 1 else "come"
        out.append(
            f"{', '.join(ids)} {verb} from a {y} speech ({source}) in a {year} speech — "
            "check dates, figures and names"
        )
    return out


def _same_campaign(brief: Brief, f: Any) -> bool:
    """Is fragment *f* of the brief's campaign? Its ``campaign:`` when known, else its speech's tag."""
    import datetime as dt

    from speechgen.lint.campaigns import resolve

    mine = resolve(brief.campaign, brief.date)
    if f.campaign:
        return mine is None or mine.name == f.campaign
    if f.kind in ("salutation", "transition", "closing"):
        return True  # 同志们： / 下面，我讲几点意见 / 谢谢大家 belong to no campaign
    theirs = resolve(f.source.campaign, dt.date(f.source.year, 7, 1) if f.source.year else None)
    if mine is not None and theirs is not None:
        return mine.name == theirs.name
    return brief.campaign in f.source.campaign


def needed_slots(sel: Selection, template: Template, title_src: str) -> dict[str, list[str]]:
    """Slot name → who needs it (fragment ids, the title, the template), in order of first use."""
    needed: dict[str, list[str]] = {}
    for name in template_names(title_src, "the title") - {"meeting", "speaker"}:
        needed.setdefault(name, []).append("the title")
    for pick in sel.picks:
        for name in pick.fragment.slots:
            users = needed.setdefault(name, [])
            if pick.fragment.id not in users:
                users.append(pick.fragment.id)
    skeleton = template_names(template.source, template.shown) - set(SKELETON_NAMES)
    for name in [*template.required, *sorted(skeleton)]:
        users = needed.setdefault(name, [])
        if f"template {template.name}" not in users:
            users.append(f"template {template.name}")
    return needed


def title_where(brief: Brief, template: Template) -> str:
    """Where the draft's title was written: the brief's ``title:`` line or the template's metadata."""
    if brief.title:
        return brief.where("title")
    from speechgen.userfiles import display_path

    return display_path(template.path.with_suffix(".yaml"))


def check_title(source: str, where: str) -> None:
    """Fail with the place it was written when the title is not valid Jinja."""
    from jinja2 import TemplateSyntaxError

    from speechgen.compose.render import names_known
    from speechgen.compose.sandbox import sandbox

    if names_known(source):  # parsed before (template_names keeps no text that fails)
        return
    try:
        sandbox()().parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(f"{where}: title: {exc.message} — write a slot as {{{{ 市名 }}}}") from None


# --------------------------------------------------------------------------- compose


def prepare(brief: Brief, problems: list[str], dirs: list[Path], tdirs: list[Path],
            store: Any = None) -> tuple[Template, Selection, Any]:
    """Template and selection for *brief*; raises once with every problem (the brief's included)."""
    from speechgen.library import open_store

    problems = list(problems)
    template = Template("", Path("."), "")
    if brief.template:
        try:
            template = load_template(brief.template, tdirs)
        except TemplateError as exc:
            if not str(exc).startswith("unknown template"):
                raise
            problems.append(f"{brief.where('template')}: {unknown_template(brief.template, tdirs)}")
    index = open_store(dirs) if store is None else store
    sel = select(brief, index, None, template)  # asks the store for what it needs: never the whole library
    blank_problems, _ = _blank_problems(brief, sel, index)
    problems += list(sel.problems) + blank_problems
    raise_problems(brief.path, sorted(problems, key=line_of))
    return template, sel, index


def compose(
    brief: Brief,
    dirs: list[Path],
    tdirs: list[Path] | None = None,
    *,
    problems: list[str] | None = None,
    allow_blanks: bool = False,
    rate: int | None = None,
    strict: bool = False,
    any_date: bool = False,
    comments: bool = True,
    store: Any = None,
) -> Composed:
    """Compose the draft *brief* asks for from the library folders *dirs*.

    Args:
        brief: the brief, as :func:`speechgen.compose.brief.parse_brief` returned it.
        dirs: library folders (see :func:`speechgen.paths.library_dirs`).
        tdirs: template folders, the user's first (see :func:`template_dirs`).
        problems: problems already found in the brief, reported with the rest.
        allow_blanks: leave missing slots as visible marks 【市名】 instead of failing.
        rate: speaking rate in 字/分钟; the brief's ``speaking_rate`` otherwise.
        strict: a draft mixing campaigns is an error, not a warning.
        any_date: compose a date outside the span of the brief's campaign.
        comments: fill ``Draft.notes`` with the lint findings (Word comments).
        store: the library to draw on (e.g. ``open_store(dirs, database=…)``); default
            ``open_store(dirs)``.

    Raises:
        BriefError: listing every problem, or every slot without a value.
    """
    tdirs = template_dirs(None) if tdirs is None else tdirs
    problems = list(problems or [])
    if not any_date:
        problems += campaign_date_problems(brief)
    template, sel, index = prepare(brief, problems, dirs, tdirs, store)
    warnings = list(sel.warnings) + _blank_problems(brief, sel, index)[1]
    if brief.length:
        sel = fit_length(sel, brief.length, warnings)
    sel = whole_ending(sel, warnings)
    sel = mark_facts(sel, brief, warnings, strict)
    values = slot_values(brief, len(sel.points))
    title_src = brief.title or template.title
    check_title(title_src, title_where(brief, template))
    missing = {k: v for k, v in needed_slots(sel, template, title_src).items() if k not in values}
    if missing and not allow_blanks:
        raise BriefError(missing_slots_message(brief.path, missing))
    values.update({name: f"【{name}】" for name in missing})
    r = Renderer(values, brief.blanks)
    ctx, sources = _skeleton_context(brief, sel, template, r, warnings, title_src)
    draft = render_skeleton(template, ctx)
    blocks = tuple(replace(b, source=sources.get(b.text, "")) for b in draft.blocks)
    origins = {p.fragment.id: p.fragment.source.file or Path(p.fragment.path).name for p in sel.picks}
    draft = replace(draft, blocks=blocks, speaker=brief.speaker, date=brief.date, meta=front_matter(brief, template),
                    origins={k: v for k, v in origins.items() if v})
    draft = replace(draft, keywords=draft_keywords(draft, sel))
    warnings += _provenance_warnings(brief, sel)
    mixed = campaign_mix(brief, sel)
    if mixed and strict:
        raise BriefError(f"{brief.path}: {mixed} (--strict) — pick points of one campaign, or compose without --strict")
    warnings += [mixed] if mixed else []
    findings = lint_draft(draft, lint_context(brief, sel))
    if comments:
        draft = replace(draft, notes=tuple(Note(f.block, f.text, f"{f.message} → {f.suggestion}" if f.suggestion
                                                else f.message, f.rule) for f in findings if f.block >= 0))
    summary = _summary(draft, brief, sel, r, warnings, rate)
    return Composed(draft, replace(summary, findings=tuple(findings)))


# --------------------------------------------------------------------------- trust (issue #11)


def fit_length(sel: Selection, length: int, warnings: list[str]) -> Selection:
    """Drop last sub-points (of points whose sub-points the brief left open, the longest
    first) until the fragments fit *length* characters; say what was dropped."""
    from speechgen.compose.selection import pick_chars as size

    points = list(sel.points)
    total = sum(size(p) for p in sel.picks)
    dropped: list[str] = []
    while total > length:
        open_ = [i for i, p in enumerate(points) if len(p.subpoints or p.fragment.subpoints) > 1
                 and (p.subpoints is None or p.line == -1)]
        if not open_:
            break
        i = max(open_, key=lambda k: size(points[k]))
        p = points[i]
        keep = p.subpoints or tuple(range(1, len(p.fragment.subpoints) + 1))
        before = size(p)
        points[i] = replace(p, subpoints=keep[:-1], line=-1 if p.subpoints is None else p.line)
        total -= before - size(points[i])
        dropped.append(f"sub-point {keep[-1]} of {p.fragment.id}")
    if dropped:
        warnings.append(f"length: dropped {', '.join(dropped)} to come near {length:,} 字")
    if total > length:
        warnings.append(f"length: the draft is about {total - length:,} 字 over {length:,} 字 — drop a point")
    points = [replace(p, line=0) if p.line == -1 else p for p in points]
    return replace(sel, points=tuple(points))


def draft_keywords(draft: Draft, sel: Selection, top: int = 6) -> tuple[str, ...]:
    """The words a search should find the draft by: its fragments' tags that its text holds.

    The tags were chosen when the fragments were ingested (the TF-IDF keywords of each, the
    meeting and campaign) or by the writer; a tag more of the draft's fragments carry comes
    first, then one its text says more often, then the first met. No jieba: segmenting the
    whole draft again cost a second of every compose to .docx (docs/performance.md).
    """
    text = MARK_RE.sub("", "\n".join(b.text for b in draft.blocks))
    carried: dict[str, int] = {}
    for pick in sel.picks:
        for tag in dict.fromkeys(pick.fragment.tags):
            carried[tag] = carried.get(tag, 0) + 1
    said = {tag: text.count(tag) for tag in carried if tag.strip()}
    ranked = sorted((t for t in said if said[t]), key=lambda t: (-carried[t], -said[t]))
    return tuple(ranked[:top])
def cut_short(pick: Any) -> bool:
    """Does the part of *pick* the draft uses end where its source was cut off (ingest marked
    it ``truncated``: the tail, else the last sub-point, else the text) or mid-sentence?"""
    f = pick.fragment
    keep = pick.subpoints or tuple(range(1, len(f.subpoints) + 1))
    if f.tail:
        last, trimmed = f.tail, f.truncated
    elif keep:
        last, trimmed = f.subpoints[keep[-1] - 1].text, f.truncated and keep[-1] == len(f.subpoints)
    else:
        last, trimmed = f.text, f.truncated
    last = last.rstrip()
    return trimmed or (bool(last) and last[-1] not in _SENTENCE_END and "}" not in last[-2:])


def whole_ending(sel: Selection, warnings: list[str]) -> Selection:
    """Never let the closing follow a point cut off in its source: drop the cut last sub-point
    when the brief left the sub-points open, else put a whole point last, else say so."""
    points = list(sel.points)
    if not points or not sel.closing or not cut_short(points[-1]):
        return sel
    last = points[-1]
    f = last.fragment
    keep = last.subpoints or tuple(range(1, len(f.subpoints) + 1))
    if (last.subpoints is None or last.line == 0) and len(keep) > 1 and not f.tail \
            and not cut_short(replace(last, subpoints=keep[:-1])):
        points[-1] = replace(last, subpoints=keep[:-1])
        warnings.append(f"{f.id}: dropped sub-point {keep[-1]}, cut off in its source, so the draft does not "
                        "close on a broken end")
        return replace(sel, points=tuple(points))
    whole = [i for i, p in enumerate(points[:-1]) if last.group and p.group == last.group and not cut_short(p)]
    if whole:  # several points of one query or tags item: their order is the composer's
        i = whole[-1]
        points[i], points[-1] = points[-1], points[i]
        warnings.append(f"{f.id} was cut off in its source: put {points[-1].fragment.id} last, so the draft "
                        "does not close on a broken end")
        return replace(sel, points=tuple(points))
    warnings.append(f"{f.id} was cut off in its source and is the last point: the closing follows a broken "
                    "end — finish the point by hand, or put another point last")
    return sel


_FACT_KINDS = {"地方": "another place's history", "事件": "a dated event", "人名": "a named person", "数字": "a figure"}


def used_facts(pick: Any) -> list[Any]:
    """The facts of *pick*'s fragment that stand in the parts the draft uses."""
    f = pick.fragment
    keep = pick.subpoints or tuple(range(1, len(f.subpoints) + 1))
    used = "\n".join([f.text, f.tail, *(f.subpoints[i - 1].text for i in keep)])
    return [fact for fact in f.facts if fact.text in used]


def mark_facts(sel: Selection, brief: Brief, warnings: list[str], strict: bool = False) -> Selection:
    """Facts of a source speech (named people, dated events, figures, another place's history)
    in the fragments used: with ``facts: mark`` (the default) their place and — where the
    source did not blank them — names, dates and figures become blanks; ``blank`` cuts each
    fact sentence to one blank; ``keep`` leaves them. Each changed or kept fact is said in a
    warning; with *strict*, any is an error."""
    import re

    from speechgen.facts import mark

    said: list[str] = []

    def fix(text: str, facts: list[Any]) -> str:
        for fact in facts:
            if brief.facts == "blank":
                skipped = len(re.findall(r"blank\(", fact.text))
                end = fact.text[-1] if fact.text[-1] in "。！？；" else ""
                new = (f"{{{{ skip({skipped}) }}}}" if skipped else "") + '{{ fact("事实") }}' + end
            else:
                new = mark(fact)
            text = text.replace(fact.text, new)
        return text

    def one(p: Any) -> Any:
        facts = used_facts(p)
        if brief.facts == "mark":
            facts = [x for x in facts if x.kind == "地方" or mark(x) != x.text]
        if not facts:
            return p
        f = p.fragment
        first = facts[0].text
        shown = re.sub(r"\{\{.*?\}\}", "…", first)
        kinds = "、".join(dict.fromkeys(_FACT_KINDS.get(x.kind, x.kind) for x in facts))
        n = len(facts)
        said.append(f"{f.id}: {n} fact{'s' if n > 1 else ''} of its source speech ({kinds}: «{shown[:40]}»)")
        if brief.facts == "keep":
            return p
        subs = tuple(replace(sp, text=fix(sp.text, facts)) for sp in f.subpoints)
        return replace(p, fragment=replace(f, text=fix(f.text, facts), tail=fix(f.tail, facts), subpoints=subs))

    sel = replace(sel, opening=tuple(one(p) for p in sel.opening), points=tuple(one(p) for p in sel.points),
                  closing=tuple(one(p) for p in sel.closing))
    if said and strict and brief.facts != "blank":
        raise BriefError(f"{brief.where('facts')}: {'; '.join(said)} (--strict) — replace them with this "
                         "speech's own, pick another point, or write facts: blank")
    action = {"mark": "their place, names, dates and figures are left blank — fill in this speech's own or cut them",
              "blank": "each is cut to one blank — write this speech's own fact there",
              "keep": "kept as the source said them — check each holds for this speech (facts: mark blanks them)"}
    warnings += [f"{s} — {action[brief.facts]}" for s in said]
    return sel


def front_matter(brief: Brief, template: Template) -> dict[str, str]:
    """What the .md draft records for ``speechgen lint``: meeting, template, campaign, vars."""
    meta = {"meeting": brief.meeting, "template": template.name, "campaign": brief.campaign}
    meta.update({k: str(v) for k, v in brief.vars.items() if k not in ("speaker", "date")})
    # Only plain one-line values: template syntax or a line break in a brief value is not
    # worth carrying into the draft (lint reads names and levels, not markup).
    return {k: v for k, v in meta.items() if v and not any(c in v for c in "{}%\n\r") and k.strip()}


def lint_context(brief: Brief, sel: Selection) -> LintContext:
    """The brief as lint sees it, with the source year of every fragment used."""
    return LintContext(
        date=brief.date.isoformat() if brief.date else "",
        campaign=brief.campaign,
        meeting=brief.meeting,
        vars=dict(brief.vars),
        ignore=brief.lint_ignore,
        years={p.fragment.id: p.fragment.source.year for p in sel.picks if p.fragment.source.year},
        facts={p.fragment.id: p.fragment.facts for p in sel.picks if p.fragment.facts},
    )


def campaign_date_problems(brief: Brief) -> list[str]:
    """A date outside the span of the brief's campaign (主题教育 dated 2024-03-15)."""
    if not brief.campaign or not brief.date:
        return []
    from speechgen.lint.campaigns import resolve

    c = resolve(brief.campaign, brief.date)
    if c is None or c.contains(brief.date):
        return []
    return [
        f"{brief.where('date')}: date {brief.date.isoformat()} is outside {c.name} "
        f"({c.start.isoformat()} to {c.end.isoformat()}) — check the date or the campaign, "
        "or compose with --any-date"
    ]


def campaign_mix(brief: Brief, sel: Selection) -> str:
    """'mixes campaigns: …' when the fragments come from speeches of different campaigns."""
    import datetime as dt

    from speechgen.lint.campaigns import campaigns, resolve

    found: dict[str, list[str]] = {}
    known = {c.name: c for c in campaigns()}
    for p in sel.picks:
        src = p.fragment.source
        if p.fragment.campaign:  # learnt at ingest from its own wording
            c = known.get(p.fragment.campaign)
        elif p.fragment.kind in ("salutation", "transition", "closing"):
            continue  # 谢谢大家 belongs to no campaign
        elif src.campaign:
            c = resolve(src.campaign, dt.date(src.year, 7, 1) if src.year else None)
        else:
            continue
        name = f"{c.name} ({c.span})" if c else p.fragment.campaign or src.campaign
        found.setdefault(name, []).append(p.fragment.id)
    if len(found) < 2:
        return ""
    return "the draft mixes campaigns: " + "; ".join(f"{name}: {', '.join(ids)}" for name, ids in found.items())


def _skeleton_context(
    brief: Brief, sel: Selection, template: Template, r: Renderer, warnings: list[str], title_src: str
) -> tuple[dict[str, Any], dict[str, str]]:
    n = len(sel.points)
    title_values = {**r.values, "meeting": brief.meeting, "speaker": brief.speaker}
    shown = f"{title_where(brief, template)}: title"
    title = " ".join(paragraphs(Renderer(title_values, {}).render(title_src, "the title", "标题", shown=shown, what="title")))
    r.blanks += [BlankInfo("标题", "the title", m.group(0), "slot", title) for m in MARK_RE.finditer(title)]
    opening: list[str] = []
    sources: dict[str, str] = {}
    for pick in sel.opening:
        paras = flat(render_pick(r, pick, 0, template))
        paras = fix_stated_count(paras, n, pick.fragment.id, warnings)
        opening += paras
        sources.update({_plain(p): pick.fragment.id for p in paras})
    points = [render_pick(r, pick, i, template) for i, pick in enumerate(sel.points, 1)]
    for pt in points:
        texts = [pt["label"] + pt["heading"], *flat(pt)]
        sources.update({_plain(t): pt["id"] for t in texts})
    closing: list[str] = []
    for pick in sel.closing:
        paras = flat(render_pick(r, pick, 0, template))
        closing += paras
        sources.update({_plain(p): pick.fragment.id for p in paras})
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
    }, sources


def _plain(markdown: str) -> str:
    """A paragraph's text as its Block reads it back (bold marks gone)."""
    return markdown.replace("**", "")


def _summary(
    draft: Draft, brief: Brief, sel: Selection, r: Renderer, warnings: list[str], rate: int | None
) -> Summary:
    numbers = {id(p): i for i, p in enumerate(sel.points, 1)}
    used = tuple(
        UsedFragment(
            p.fragment.id,
            role_name(p, numbers.get(id(p), 0)),
            p.fragment.source.file or p.fragment.path,
            p.fragment.source.year,
        )
        for p in sel.picks
    )
    body_chars = sum(1 for b in draft.body for ch in b.text if not ch.isspace())
    return Summary(len(sel.points), body_chars, rate or brief.speaking_rate, tuple(r.blanks), used, tuple(warnings))


def compose_file(
    path: Path,
    dirs: list[Path],
    tdirs: list[Path] | None = None,
    *,
    allow_blanks: bool = False,
    rate: int | None = None,
    store: Any = None,
    **options: bool,
) -> Composed:
    """Read the brief at *path* and compose it (see :func:`compose`; *options*: strict, any_date, comments)."""
    brief, problems = load_brief(path)
    if not brief.template and not brief.points:
        raise_problems(brief.path, problems)
    return compose(brief, dirs, tdirs, problems=problems, allow_blanks=allow_blanks, rate=rate, store=store,
                   **options)


def speaking_time(minutes: float) -> str:
    """About 12 minutes / under a minute."""
    if minutes < 1:
        return "under a minute"
    n = round(minutes)
    return f"about {n} minute{'s' if n != 1 else ''}"


def format_summary(summary: Summary) -> str:
    """The summary as printed after ``compose`` and ``check``."""
    lines = [
        f"{summary.points} point{'s' if summary.points != 1 else ''}, {summary.chars:,} 字, {speaking_time(summary.minutes)} "
        f"at {summary.rate} 字/分钟"
    ]
    n = len(summary.blanks)
    lines.append(f"Blanks left: {n}" + (" — fill them in the draft (highlighted in Word)" if n else ""))
    for b in summary.blanks:
        kind = "slot" if b.kind == "slot" else f"blank {b.kind}".rstrip()
        lines.append(f"  {b.where}  {b.fragment}  {kind}: …{b.context}…")
    if summary.used:
        lines.append("Fragments used:")
    width = max((len(u.where) for u in summary.used), default=0)
    for u in summary.used:
        year = f" ({u.year})" if u.year else ""
        lines.append(f"  {u.where.ljust(width, '　')}  {u.id}  from {u.source}{year}")
    if summary.warnings:
        lines.append(f"Warnings: {len(summary.warnings)}")
        lines += [f"  {w}" for w in summary.warnings]
    if summary.findings:
        lines.append(f"Lint: {len(summary.findings)} finding{'s' if len(summary.findings) != 1 else ''} "
                     "(line numbers of the .md draft; see docs/lint.md)")
        lines += [f"  {f.line}: {f.rule}: «{f.text}» — {f.message}" for f in summary.findings]
    return "\n".join(lines)


def draft_summary(draft: Draft, rate: int | None = None) -> Summary:
    """The summary of a draft read back from Markdown (``export``): size, time and blanks.

    A blank's place is 标题, 开场 (before the first point) or 第N点; its fragment is the
    block's source when known. No fragments or warnings: the draft is the writer's now.
    """
    from speechgen.compose.brief import DEFAULT_RATE
    from speechgen.numerals import chinese

    blanks: list[BlankInfo] = []
    point = 0
    for block in draft.blocks:
        if block.kind == "heading1":
            point += 1
        where = "标题" if block.kind == "title" else f"第{chinese(point)}点" if point else "开场"
        text = block.text
        for m in MARK_RE.finditer(text):
            context = text[max(0, m.start() - 8) : m.end() + 8]
            mark = m.group(0)[1:-1]
            kind = mark.split("：")[0] if "：" in mark else "" if "＿" in mark else "slot"
            blanks.append(BlankInfo(where, block.source or "-", m.group(0), kind, context))
    chars = sum(1 for b in draft.body for ch in b.text if not ch.isspace())
    return Summary(point, chars, rate or DEFAULT_RATE, tuple(blanks), (), ())
