"""Which fragments a brief asks for: ids, queries, tags, and the automatic opening and closing.

Rules (docs/brief.md, "How points are picked"):

* ids are taken first, so a query never grabs a point the brief lists by id later;
* a fragment and its near-duplicates (``variants``) are one fragment: at most one is used;
* a query's hits whose heading holds the query come first, then those with a sub-point
  lead holding it, then the others (a point about 调查研究 beats a passing mention);
* among candidates of a query (hits scoring at least :data:`BAND` of the best unused hit)
  or of tags, those from the brief's campaign come first, then those from a speech of the
  template's meeting types, then those nearest the brief's year, then search rank, then
  library order — so the same brief always gives the same draft;
* among those, a point whose phase (筹备/启动/推进/总结, learnt at ingest) fits the
  meeting's comes before one of another phase;
* the automatic opening and closing are of a phase that fits the meeting's (an opening about
  即将启动…培训会 is not for a 推进会; 筹备 text is not for a 总结会) and come from a speech of
  the template's meeting types, preferring the speech most of the points come from; the
  automatic opening brings the transitions (下面，我讲几点意见。) of its speech with it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from speechgen.compose.brief import Brief, Choice, PointSpec
from speechgen.compose.templates import Template
from speechgen.errors import SpeechgenError
from speechgen.library import Filters, Library, Store
from speechgen.library.files import Head
from speechgen.model import Fragment

Ranked = Fragment | Head  # what the rules rank: a fragment, or its head

BAND = 0.8  # a hit scoring under 80% of the best unused hit is not "as good" any more


@dataclass(frozen=True)
class Pick:
    """One fragment placed in the draft, and what the brief asked of it."""

    fragment: Fragment
    role: str  # opening | point | closing
    line: int = 0  # the brief line that asked for it (0: chosen automatically)
    subpoints: tuple[int, ...] | None = None
    heading: str = ""
    group: int = 0  # the n-th item of points: that was a query or tags (their order is the composer's)


@dataclass(frozen=True)
class Selection:
    """The fragments of a draft in reading order, with problems and warnings."""

    opening: tuple[Pick, ...]
    points: tuple[Pick, ...]
    closing: tuple[Pick, ...]
    problems: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def picks(self) -> tuple[Pick, ...]:
        """Every pick, in reading order."""
        return self.opening + self.points + self.closing


class Selector:
    """Picks fragments for one brief; collects problems instead of raising."""

    def __init__(self, brief: Brief, index: Store, template: Template) -> None:
        self.brief = brief
        self.index = index
        self.template = template
        self.used: dict[str, tuple[str, int]] = {}  # id (and its variants) → (id taken, line)
        self.problems: list[str] = []
        self.warnings: list[str] = []
        self.campaign = brief.campaign
        self.year = brief.date.year if brief.date else None
        self.stage = brief.stage
        self._learnt: dict[str, tuple[str, str]] = {}
        self._campaigns: dict[tuple[str, Any], Any] = {}  # resolve() of (name, day), asked for every candidate

    # ------------------------------------------------------------------ bookkeeping
    def _problem(self, line: int, message: str) -> None:
        self.problems.append(f"{self.brief.where(line=line)}: {message}")

    def _take(self, frag: Fragment, line: int) -> None:
        for f in [frag, *self.index.variants_of(frag)]:
            self.used.setdefault(f.id, (frag.id, line))

    def _free(self, frag: Ranked) -> bool:
        return frag.id not in self.used

    def _fits(self, frag: Ranked) -> bool:
        meetings = self.template.meetings or (self.brief.meeting,)
        return any(m and m in frag.source.meeting for m in meetings)

    def _learnt_of(self, frag: Ranked) -> tuple[str, str]:
        """The campaign and phase ingest learnt for *frag* (a head is read whole once for them)."""
        if isinstance(frag, Fragment):
            return frag.campaign, frag.phase
        got = self._learnt.get(frag.id)
        if got is None:
            whole = self.index.get(frag.id)
            got = self._learnt[frag.id] = (whole.campaign, whole.phase)
        return got

    def _rank(self, frag: Ranked) -> tuple[int, int, int, int]:
        """Campaign, phase, meeting type, year: ties go to library order (the candidates come in it)."""
        campaign = 0
        if self.campaign:
            campaign = 0 if self._same_campaign(frag) else 1
        year = 0
        if self.year:  # an unknown year ranks like one a year off
            year = abs(self.year - frag.source.year) if frag.source.year else 1
        return campaign, self._off_phase(frag), 0 if self._fits(frag) else 1, year

    def _off_phase(self, frag: Ranked) -> int:
        """1 when *frag*'s phase does not fit the meeting's (筹备 text in a 推进会)."""
        from speechgen.lint.phases import fits

        if not self.stage:
            return 0
        return 0 if fits(self._learnt_of(frag)[1], self.stage) else 1

    def _same_campaign(self, frag: Ranked) -> bool:
        """The brief's campaign, told apart by year (主题教育 of 2019 is not that of 2023);
        the fragment's own ``campaign:`` (learnt at ingest) when it has one."""
        learnt = self._learnt_of(frag)[0]
        if learnt:
            mine = self._resolve(self.campaign, self.brief.date)
            return mine is None or mine.name == learnt
        if self.campaign not in (frag.source.campaign, *frag.tags):
            return False
        if not (self.brief.date and frag.source.year):
            return True
        import datetime as dt

        mine = self._resolve(self.campaign, self.brief.date)
        theirs = self._resolve(frag.source.campaign or self.campaign, dt.date(frag.source.year, 7, 1))
        return mine is None or theirs is None or mine.name == theirs.name

    def _resolve(self, name: str, day: Any) -> Any:
        """:func:`speechgen.lint.campaigns.resolve`, once for each (name, day) of this compose: a
        query point ranks its candidates several times over, each asking again."""
        key = (name, day)
        if key not in self._campaigns:
            from speechgen.lint.campaigns import resolve

            self._campaigns[key] = resolve(name, day)
        return self._campaigns[key]

    # ------------------------------------------------------------------ by id
    def _by_id(self, fid: str, line: int, what: str) -> Fragment | None:
        try:
            frag = self.index.get(fid)
        except SpeechgenError as exc:  # unknown fragment id '…' — did you mean …?
            self._problem(line, str(exc))
            return None
        if not self._free(frag):
            taken, at = self.used[frag.id]
            where = f"line {at}" if at else "the automatic opening or closing"
            if taken == frag.id:
                self._problem(line, f"'{fid}' is already used ({where}) — list each {what} once")
            else:
                self._problem(
                    line,
                    f"'{fid}' is a variant of '{taken}' ({where}) — a speech uses only one of them; remove one",
                )
            return None
        self._take(frag, line)
        return frag

    def _point_by_id(self, spec: PointSpec) -> Pick | None:
        frag = self._by_id(spec.id, spec.line, "point")
        if frag is None:
            return None
        if frag.kind != "point":
            where = "opening:" if frag.kind in ("opening", "transition") else "closing:"
            article = "an" if frag.kind[0] in "aeiou" else "a"
            self._problem(spec.line, f"'{frag.id}' is {article} {frag.kind}, not a point — name it under {where}")
            return None
        if spec.subpoints is not None:
            n = len(frag.subpoints)
            if n == 0:
                self._problem(spec.line, f"'{frag.id}' has no sub-points — remove 'subpoints:'")
                return None
            bad = [i for i in spec.subpoints if i > n]
            if bad:
                self._problem(
                    spec.line,
                    f"'{frag.id}' has {n} sub-points; {bad[0]} is out of range — use numbers 1 to {n}",
                )
                return None
        self._phase_warning(frag, spec.line)
        return Pick(frag, "point", spec.line, spec.subpoints, spec.heading)

    def _phase_warning(self, frag: Fragment, line: int) -> None:
        if self._off_phase(frag):
            self.warnings.append(
                f"{self.brief.where(line=line)}: '{frag.id}' reads as {frag.phase} text; this is a "
                f"{self.stage} meeting — check it fits, or pick another"
            )

    # ------------------------------------------------------------------ by query / tags
    def _by_query(self, spec: PointSpec) -> list[Pick]:
        hits = self.index.search(spec.query, Filters(kind="point"), limit=50)
        if not hits:
            self._problem(
                spec.line,
                f"query '{spec.query}' matches no fragment — try other words or pick an id "
                f"(speechgen fragments search {spec.query})",
            )
            return []
        rank = {h.fragment.id: i for i, h in enumerate(hits)}
        ranks = {h.fragment.id: self._rank(h.fragment) for h in hits}  # asked again for each pick
        picks: list[Pick] = []
        for _ in range(spec.count):
            free = [h for h in hits if self._free(h.fragment)]
            if not free:
                break
            # The brief's campaign first; then a heading (or a sub-point's lead) naming the
            # query outranks a passing mention.
            camp = min(ranks[h.fragment.id][0] for h in free)
            free = [h for h in free if ranks[h.fragment.id][0] == camp]
            top = max(_headed(h.fragment, spec.query) for h in free)
            tier = [h for h in free if _headed(h.fragment, spec.query) == top]
            band = [h for h in tier if h.score >= BAND * tier[0].score]
            best = min(band, key=lambda h: (*ranks[h.fragment.id], rank[h.fragment.id]))
            self._take(best.fragment, spec.line)
            picks.append(Pick(best.fragment, "point", spec.line, group=self._group(spec)))
        self._short(spec, picks, f"query '{spec.query}'", [h.fragment.id for h in hits])
        return picks

    def _by_tags(self, spec: PointSpec) -> list[Pick]:
        heads = self.index.heads(Filters(kind="point", tag=spec.tags[0] if spec.tags else ""))
        tagged = [f for f in heads if all(t in f.tags for t in spec.tags)]
        shown = ", ".join(spec.tags)
        if not tagged:
            self._problem(
                spec.line,
                f"no point has the tags {shown} — see the tags with 'speechgen fragments list --kind point'",
            )
            return []
        picks: list[Pick] = []
        for head in sorted(tagged, key=self._rank):  # stable: ties in library order
            if len(picks) == spec.count:
                break
            if self._free(head):
                frag = self.index.get(head.id)
                self._take(frag, spec.line)
                picks.append(Pick(frag, "point", spec.line, group=self._group(spec)))
        self._short(spec, picks, f"tags {shown}", [f.id for f in tagged])
        return picks

    def _group(self, spec: PointSpec) -> int:
        return next(i for i, s in enumerate(self.brief.points, 1) if s is spec)

    def _short(self, spec: PointSpec, picks: list[Pick], what: str, found: list[str]) -> None:
        if not picks:
            self._problem(
                spec.line,
                f"{what} matches only points already used ({', '.join(found[:3])}) — "
                "try other words or pick an id",
            )
        elif len(picks) < spec.count:
            self.warnings.append(
                f"{self.brief.where(line=spec.line)}: {what} gave {len(picks)} of the "
                f"{spec.count} points asked for — every other match is already used"
            )

    # ------------------------------------------------------------------ opening / closing
    def _auto(self, kind: str, role: str, sources: list[str]) -> list[Pick]:
        meetings = self.template.meetings or (self.brief.meeting,)
        popular = Counter(sources)
        # Most often a speech the points come from has one that fits: it beats every other
        # file, so only those files are read. Otherwise every fragment of the kind is ranked.
        near = self.index.heads(Filters(kind=kind, paths=tuple(popular))) if popular else []
        near = [f for f in near if self._free(f) and self._fits(f) and not self._off_phase(f)
                and self._rank(f)[0] == 0]  # of the brief's campaign and the meeting's phase
        if near:
            head = min(near, key=lambda f: (-popular[f.path], *self._rank(f)))  # the first of ties
            return self._auto_picks(self.index.get(head.id), kind, role)
        cands = [f for f in self.index.heads(Filters(kind=kind)) if self._free(f)]
        if not cands:
            self.warnings.append(f"no {kind} in the library — the draft has none; write one by hand")
            return []
        in_phase = [f for f in cands if not self._off_phase(f)]
        if not in_phase:
            self.warnings.append(
                f"no {kind} of the library fits a {self.stage} meeting — the draft has none; write one by hand "
                f"(or name one under {role}:)"
            )
            return []
        cands = in_phase
        fits = [f for f in cands if self._fits(f)]
        if not fits:
            fits = cands
            self.warnings.append(
                f"no {kind} from a {'/'.join(meetings)} in the library — took one from a "
                f"{fits[0].source.meeting or 'speech of another type'}; check it fits"
            )
        # the brief's campaign first: an opening of 2019's 主题教育 is not for 2023's
        head = min(fits, key=lambda f: (self._rank(f)[0], -popular[f.path], *self._rank(f)[1:]))
        return self._auto_picks(self.index.get(head.id), kind, role)

    def _auto_picks(self, best: Fragment, kind: str, role: str) -> list[Pick]:
        self._take(best, 0)
        picks = [Pick(best, role)]
        if kind == "opening":  # 下面，我讲几点意见。 belongs with the opening it followed
            for h in self.index.heads(Filters(kind="transition", paths=(best.path,))):
                if self._free(h):
                    f = self.index.get(h.id)
                    self._take(f, 0)
                    picks.append(Pick(f, role))
        return picks

    def _choice(self, choice: Choice, kind: str, role: str, sources: list[str]) -> list[Pick]:
        if choice.mode == "none":
            return []
        if choice.mode == "auto":
            return self._auto(kind, role, sources)
        picks = []
        for fid in choice.ids:
            frag = self._by_id(fid, choice.line, role)
            if frag is not None:
                self._phase_warning(frag, choice.line)
                picks.append(Pick(frag, role, choice.line))
        return picks

    # ------------------------------------------------------------------ all
    def select(self) -> Selection:
        """Resolve the whole brief: ids first, then queries and tags, then opening and closing."""
        by_id = {id(s): self._point_by_id(s) for s in self.brief.points if s.form == "id"}
        points: list[Pick] = []
        for spec in self.brief.points:
            if spec.form == "id":
                pick = by_id[id(spec)]
                points += [pick] if pick else []
            else:
                points += self._by_query(spec) if spec.form == "query" else self._by_tags(spec)
        sources = [p.fragment.path for p in points]
        if self.brief.opening.mode == "ids":
            opening = self._choice(self.brief.opening, "opening", "opening", sources)
            closing = self._choice(self.brief.closing, "closing", "closing", sources)
        else:
            closing = self._choice(self.brief.closing, "closing", "closing", sources)
            opening = self._choice(self.brief.opening, "opening", "opening", sources)
        if self.brief.length and not self.problems:
            points = self._fill(points, [*opening, *closing])
        return Selection(tuple(opening), tuple(points), tuple(closing), tuple(self.problems), tuple(self.warnings))

    # ------------------------------------------------------------------ length
    def _fill(self, points: list[Pick], others: list[Pick]) -> list[Pick]:
        """Add points (whole, or their first sub-points) while the draft is short of ``length:``.

        Candidates: unused points of the brief's campaign and of a phase that fits, not cut
        off in their source and telling no other place's history; those of the speeches most
        points come from first, then as for a query. A point that would overshoot comes with
        as many of its first sub-points as fit.
        """
        length = self.brief.length
        total = sum(pick_chars(p) for p in [*points, *others])
        if total >= NEAR * length:
            return points
        popular = Counter(p.fragment.path for p in points)
        cands = [f for f in self.index.select(Filters(kind="point"))
                 if self._free(f) and not f.truncated and not any(x.kind == "地方" for x in f.facts)
                 and self._rank(f)[0] == 0 and not self._off_phase(f)]
        added: list[str] = []
        for f in sorted(cands, key=lambda f: (_cut_names(f), -popular[f.path], *self._rank(f)[1:])):
            if total >= NEAR * length:
                break
            if not self._free(f):  # a variant of a point just added
                continue
            pick = _fitting(Pick(f, "point"), length - total)
            if pick is None:
                continue
            self._take(f, 0)
            points.append(pick)
            total += pick_chars(pick)
            added.append(f.id + (f" (sub-points {', '.join(map(str, pick.subpoints))})" if pick.subpoints else ""))
        if added:
            self.warnings.append(f"length: added {', '.join(added)} to come near {length:,} 字 — check they fit")
        if total < NEAR * length:
            self.warnings.append(f"length: the draft is about {length - total:,} 字 short of {length:,} 字 — "
                                 "add a point (points:) or pick longer ones")
        return points


NEAR = 0.9  # a draft within 10% under length: is near enough; points are added only below it


_JINJA = re.compile(r"\{\{.*?\}\}|\s")


def pick_chars(pick: Pick) -> int:
    """Characters the pick puts in the draft (heading, text, tail and the sub-points it keeps),
    a slot or blank counted as its 4-character mark, white space not counted."""
    f = pick.fragment
    keep = pick.subpoints or tuple(range(1, len(f.subpoints) + 1))
    parts = [f.heading, f.text, f.tail, *(f.subpoints[i - 1].lead + f.subpoints[i - 1].text for i in keep)]
    return sum(len(_JINJA.sub(lambda m: "" if m.group(0).isspace() else "【＿＿】", t)) for t in parts)


def _cut_names(frag: Fragment) -> int:
    """1 when lint would find a name cut out of *frag* (在考察江苏时强调): added last, if at all."""
    from speechgen.lint import LintContext
    from speechgen.lint.base import Para
    from speechgen.lint.names import deleted_name

    paras = [Para(i, 0, t, "paragraph") for i, t in enumerate(frag.full_text.split("\n"))]
    return 1 if deleted_name(paras, LintContext()) else 0


def _fitting(pick: Pick, room: int) -> Pick | None:
    """*pick* whole when it fits in *room* characters, else with as many first sub-points as fit."""
    if pick_chars(pick) <= room:
        return pick
    for k in range(len(pick.fragment.subpoints) - 1, 0, -1):
        part = Pick(pick.fragment, pick.role, pick.line, tuple(range(1, k + 1)))
        if pick_chars(part) <= room:
            return part
    return None


def _headed(frag: Fragment, query: str) -> int:
    """2 when the heading holds every word of *query*, 1 when a sub-point's lead does, else 0."""
    words = query.split()
    if frag.heading and all(w in frag.heading for w in words):
        return 2
    if any(all(w in sp.lead for w in words) for sp in frag.subpoints):
        return 1
    return 0


def select(brief: Brief, index: Store, library: Library | None, template: Template) -> Selection:
    """The fragments *brief* asks for, with every problem found (nothing raised).

    *library* is not read (kept for callers that pass one): everything is asked of *index*.
    """
    return Selector(brief, index, template).select()
