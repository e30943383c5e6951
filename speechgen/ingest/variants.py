"""Near-duplicate fragments of different speeches → ``variants:`` links, without comparing all pairs.

Two steps, both linear in the number of fragments for a corpus of copies:

1. **Exact copies.** Fragments of one kind with the same text form a group. Each copy is
   linked (similarity 1.0, both ways) with one anchor: the group's first fragment from
   another speech. A pair of copies links each other; a hundred copies link to the first.
   No difflib call is made.
2. **Near-duplicates.** The distinct texts of one kind are compared with
   ``difflib.SequenceMatcher.ratio()``; pairs at :data:`SIMILARITY` or more are linked
   through one member of each group. Only candidate pairs reach difflib: those that can pass
   its own upper bounds (``real_quick_ratio``: lengths, ``quick_ratio``: shared characters).
   Candidates come from a prefix-filtered index of characters (each the k-th occurrence of a
   character, rarest first): two texts sharing enough characters to pass ``quick_ratio`` must
   share one of the first tokens of each.
3. **Families, not all pairs.** What the composer needs is the family (it follows links
   through the whole family, ``Library.variants_of``). Texts are taken in order and kept in
   families (union-find); a candidate already in the text's family is not compared again,
   and the index keeps one text per family under each token, so a family of a thousand
   near-copies costs a thousand probes, not half a million comparisons. A text joins a
   family through the members the index kept; for families of mutual near-copies (edited
   versions of one paragraph) that is the same family as comparing all pairs, which the
   tests check on the seeds, the test corpora and generated families.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import chain, repeat
from operator import and_, lshift, or_
from typing import TYPE_CHECKING, NamedTuple

from speechgen.model import Fragment, Variant

if TYPE_CHECKING:
    from speechgen.ingest.build import Built

#: Kinds compared across sources for near-duplicates, and the similarity that makes two variants.
VARIANT_KINDS = ("opening", "point", "requirements", "paragraph", "closing")
SIMILARITY = 0.8
# The index may keep a few more candidates than needed (float rounding at the threshold), never fewer.
_SLACK = 1e-9


@dataclass(frozen=True)
class _Member:
    key: tuple[str, str, int]  # (source file, speech, place in the speech): the order of a run over all
    file: str
    id: str
    new: bool  # from this run (else from the library already in --out, whose files are not rewritten)

    @property
    def speech(self) -> tuple[str, str]:
        return self.key[:2]


@dataclass
class _Group:
    """The fragments of one kind sharing one text, in :attr:`_Member.key` order."""

    kind: str
    text: str
    members: list[_Member] = field(default_factory=list)
    new: bool = False  # holds a fragment of this run


class LibraryText(NamedTuple):
    """What linking needs of a fragment already in the library: its text and its place in a run over all."""

    kind: str
    text: str  # the fragment's full_text
    file: str  # its source file
    id: str
    speech: str  # the id's first part
    place: int  # its position among its file's fragments


def library_texts(library: Iterable[Fragment]) -> list[LibraryText]:
    """The :class:`LibraryText` of each fragment of a whole library (in library order)."""
    place: dict[str, int] = {}
    out = []
    for f in library:
        place[f.path] = place.get(f.path, -1) + 1
        out.append(LibraryText(f.kind, f.full_text, f.source.file, f.id, f.id.split(".", 1)[0], place[f.path]))
    return out


def link_variants(built: list[Built], library: tuple[Fragment, ...] = ()) -> list[Built]:
    """Record near-duplicate fragments of different speeches as variants of each other.

    Fragments of the same kind in different speeches with a difflib ratio of at least
    :data:`SIMILARITY` are linked under ``variants:`` (source file, id, similarity), so the
    composer never uses both. Exact copies are linked through one anchor each (see the module
    notes). Fragments already in the *library* (other sources) are linked from the new side
    only, as if everything had been ingested at once: ingesting one file again writes what
    the run over all of them wrote.

    Args:
        built: the speeches of this run.
        library: fragments already in the output folder, from sources not in this run.

    Returns:
        *built* with each fragment's ``variants`` filled in (sorted by source, then id).
    """
    known = [(f.id, v.id) for f in library for v in f.variants]  # the library's families, as written
    return link_texts(built, library_texts(library), known)


def link_texts(built: list[Built], library: Iterable[LibraryText], known: Iterable[tuple[str, str]]) -> list[Built]:
    """:func:`link_variants` with the library given as :class:`LibraryText` and its recorded
    links as *known* (pairs of ids): all of a whole library, or the part of a large one
    that can matter (:mod:`speechgen.ingest.nearby`)."""
    found = [LibraryText(f.kind, f.full_text, f.source.file, f.id, b.prefix, i)
             for b in built for i, f in enumerate(b.fragments)]
    groups = _groups(found, library)
    links: dict[str, dict[str, Variant]] = {}
    for g in groups:
        if g.new:
            _link_copies(g, links)
    for a, b, score in near_pairs(groups, known):
        _link(a, b, score, links)
    return [
        replace(b, fragments=tuple(replace(f, variants=_sorted(links.get(f.id))) for f in b.fragments))
        for b in built
    ]


def _sorted(found: dict[str, Variant] | None) -> tuple[Variant, ...]:
    return tuple(sorted(found.values(), key=lambda v: (v.source, v.id))) if found else ()


def _groups(fresh: Iterable[LibraryText], library: Iterable[LibraryText]) -> list[_Group]:
    """Fragments of the variant kinds grouped by (kind, text); groups and members in key order."""
    groups: dict[tuple[str, str], _Group] = {}
    for f, new in chain(zip(fresh, repeat(True)), zip(library, repeat(False))):
        if f.kind not in VARIANT_KINDS:
            continue
        text = f.text
        g = groups.get((f.kind, text))
        if g is None:
            g = groups[(f.kind, text)] = _Group(f.kind, text)
        g.members.append(_Member((f.file, f.speech, f.place), f.file, f.id, new))
        g.new = g.new or new
    for g in groups.values():
        g.members.sort(key=lambda m: m.key)
    return sorted(groups.values(), key=lambda g: g.members[0].key)


def _link(a: _Member, b: _Member, score: float, links: dict[str, dict[str, Variant]]) -> None:
    """Both ways; only the side from this run is written."""
    if a.new:
        links.setdefault(a.id, {})[b.id] = Variant(b.file, b.id, score)
    if b.new:
        links.setdefault(b.id, {})[a.id] = Variant(a.file, a.id, score)


def _link_copies(g: _Group, links: dict[str, dict[str, Variant]]) -> None:
    """Each copy ↔ the group's first member from another speech (no comparison needed)."""
    first = g.members[0]
    other = next((m for m in g.members if m.speech != first.speech), None)
    for x in g.members:
        anchor = first if x.speech != first.speech else other
        if anchor is not None:
            _link(anchor, x, 1.0, links)


# --------------------------------------------------------------------------- near-duplicates


def near_pairs(groups: list[_Group], known: Iterable[tuple[str, str]] = ()) -> Iterator[tuple[_Member, _Member, float]]:
    """(earlier member, later member, rounded ratio): links that make every family of groups.

    Each pair is linked through one member of each group, and only pairs where one of those
    is from this run are compared. The ratio is the earlier fragment against the later one, as
    the all-pairs version had it (difflib's ratio is not symmetric). *known*: pairs of fragment
    ids already linked (the library's own ``variants:``), whose groups start as one family.
    """
    by_kind: dict[str, list[_Group]] = {}
    for g in groups:
        by_kind.setdefault(g.kind, []).append(g)
    known = list(known)
    for same_kind in by_kind.values():
        yield from _families(same_kind, known)


class _Families:
    """Union-find over group numbers."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        parent = self.parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def join(self, i: int, j: int) -> None:
        self.parent[self.find(i)] = self.find(j)


Link = tuple[_Member, _Member, float]


def _families(groups: list[_Group], known: list[tuple[str, str]]) -> Iterator[Link]:
    """Near-duplicate links among *groups* of one kind (see the module notes, steps 2 and 3)."""
    fam = _Families(len(groups))
    where = {m.id: i for i, g in enumerate(groups) for m in g.members if not m.new}
    for a, b in known:
        if a in where and b in where:
            fam.join(where[a], where[b])
    counts = [Counter(g.text) for g in groups]
    tokens = [_tokens(c) for c in counts]
    freq: Counter[int] = Counter(chain.from_iterable(tokens))
    index: dict[int, list[int]] = {}
    found_links: list[tuple[int, int, Link]] = []
    compared: dict[tuple[int, int], Link | None] = {}
    s = SIMILARITY
    for i in sorted(range(len(groups)), key=lambda i: groups[i].new):  # the library is only probed
        g, n = groups[i], len(groups[i].text)
        # the rarest tokens first, ties in token order: one integer a token, (frequency, token)
        ts = tokens[i]
        keys = sorted(map(or_, map(lshift, map(freq.__getitem__, ts), repeat(_TOKEN_BITS)), ts))
        prefix = list(map(and_, keys[: _prefix_length(n)], repeat(_TOKEN)))
        if g.new:
            found: set[int] = set()
            for near in filter(None, map(index.get, prefix)):
                found.update(near)
            lo, hi = n * s / (2 - s) - 1, n * (2 - s) / s + 1
            for j in sorted(found):
                other = groups[j]
                if fam.find(i) == fam.find(j) or not lo <= len(other.text) <= hi:
                    continue
                if not _may_pass(counts[i], counts[j], n + len(other.text)):
                    continue
                link = compared[(min(i, j), max(i, j))] = _compare(other, g)
                if link is not None:
                    fam.join(i, j)
                    found_links.append((i, j, link))
        root = fam.find(i)
        for t in prefix:  # one text of a family under each token: probes stay short
            listed = index.get(t)
            if listed is None:
                index[t] = [i]
            elif all(fam.find(j) != root for j in listed):
                listed.append(i)
    yield from _star_links(groups, fam, found_links, compared)


def _star_links(groups: list[_Group], fam: _Families, found: list[tuple[int, int, Link]],
                compared: dict[tuple[int, int], Link | None]) -> Iterator[Link]:
    """Each family as a star around its earliest text, so the links do not depend on the order
    the texts were met: ingesting one file again finds the same ones. A text too far from the
    earliest keeps the links through which it joined the family."""
    members: dict[int, list[int]] = {}
    for i in range(len(groups)):
        members.setdefault(fam.find(i), []).append(i)
    kept: set[int] = set()
    for family in members.values():
        anchor = family[0]  # groups are in key order
        for i in family[1:]:
            if not (groups[i].new or groups[anchor].new):
                continue
            key = (anchor, i)
            link = compared[key] if key in compared else _compare(groups[anchor], groups[i])
            if link is not None:
                yield link
            else:
                kept.add(i)
    for i, j, link in found:
        if i in kept or j in kept:
            yield link


def _compare(ga: _Group, gb: _Group) -> Link | None:
    """The link between two groups when difflib says they are variants, else None."""
    if gb.members[0].key < ga.members[0].key:
        ga, gb = gb, ga  # the same choice of members, whichever group was new
    pick = _members(ga, gb)
    if pick is None or not (pick[0].new or pick[1].new):
        return None
    a, b = pick
    first, second = (ga, gb) if a.key < b.key else (gb, ga)
    matcher = difflib.SequenceMatcher(None, first.text, second.text, autojunk=False)
    if matcher.real_quick_ratio() < SIMILARITY or matcher.quick_ratio() < SIMILARITY:
        return None
    score = matcher.ratio()
    if score < SIMILARITY:
        return None
    return (a, b, round(score, 2)) if a.key < b.key else (b, a, round(score, 2))


def _members(ga: _Group, gb: _Group) -> tuple[_Member, _Member] | None:
    """The first member of *ga* with a member of *gb* from another speech, and that member; or None."""
    for a in ga.members:
        b = next((m for m in gb.members if m.speech != a.speech), None)
        if b is not None:
            return a, b
    return None


def _prefix_length(n: int) -> int:
    """How many of a text's rarest tokens must be indexed: n − α(n) + 1, rounded up."""
    alpha = math.floor(n * SIMILARITY / (2 - SIMILARITY) - 1 - _SLACK)
    return n if alpha <= 0 else n - alpha + 1


#: A token (character, k) — the k-th occurrence of the character — is one integer:
#: code point << 24 | k, so tokens sort as (character, k) do; with its frequency above
#: those bits, a sort of integers orders tokens by (frequency, token).
_K_BITS = 24
_TOKEN_BITS = 21 + _K_BITS
_TOKEN = (1 << _TOKEN_BITS) - 1


def _tokens(counts: Counter[str]) -> list[int]:
    """The text's characters as a set (of integers, see :data:`_K_BITS`): (character, k) for the
    k-th occurrence of each."""
    if max(counts.values(), default=0) >> _K_BITS:  # a character 16 million times: not a fragment
        raise ValueError("a text too long to compare")
    # range(c << K | 1, c << K | m + 1) for each character c met m times: (c, 1) … (c, m)
    first = [(ord(ch) << _K_BITS) + 1 for ch in counts]
    return list(chain.from_iterable(map(range, first, map(int.__add__, first, counts.values()))))


def _may_pass(a: Counter[str], b: Counter[str], total: int) -> bool:
    """difflib's quick_ratio bound from the character counts of two texts of *total* length."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    overlap = sum(map(min, small.values(), map(large.get, small, repeat(0))))  # a missing one counts 0
    return 2.0 * overlap / total >= SIMILARITY - _SLACK
