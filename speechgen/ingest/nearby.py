"""Ingest into a large folder library: what ingest needs of it, from the SQLite cache, without reading every file.

Ingest reads the fragments already in its output folder for two things (docs/ingest.md).
Into a library of 100,000 fragments, parsing every file for them was most of the time and
memory of ingesting one speech. Both come from the library's cache instead
(:class:`~speechgen.library.sqlite.Index`, built once and then brought up to date file by file):

1. **Redacted names** (:class:`~speechgen.ingest.slots.Restorer`) are learned from the few
   characters before each anchor phrase. The cache keeps, for every file, exactly that
   (:func:`~speechgen.library.evidence.anchor_evidence` of its fragments that ingest did not
   restore), so the restorer is the one the whole library gives, by construction.
2. **Variants** (:func:`~speechgen.ingest.variants.link_texts`): only library fragments that
   can be near-duplicates of a new fragment matter, with the families they belong to.
   *Candidates*: the distinct texts of the same kind whose length and character profile
   (:func:`~speechgen.library.evidence.char_profile`) let difflib's ratio reach
   :data:`~speechgen.ingest.variants.SIMILARITY` — an upper bound, so no near-duplicate is
   missed. Then *families*: every copy of a candidate's text (the cache's digest of kind and
   text) and every fragment linked to one (the recorded ``variants:``), until nothing new
   comes. Each distinct text is read from its file once.

What is the same as reading every file, and what can differ, is in docs/ingest.md ("Ingest
into a large library").
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from speechgen.ingest.variants import SIMILARITY, VARIANT_KINDS, LibraryText
from speechgen.library.evidence import char_profile, profile_overlap
from speechgen.library.sqlite import Index

_SLACK = 1e-9


def length_bounds(n: int) -> tuple[int, int]:
    """The lengths a text can have to reach SIMILARITY with one of *n* characters (difflib's real_quick_ratio)."""
    s = SIMILARITY
    return math.ceil(n * s / (2 - s) - 1e-6), math.floor(n * (2 - s) / s + 1e-6)


class IndexedLibrary:
    """The fragments of an output folder that ingest needs, read through its cache."""

    def __init__(self, out_dir: Path, skip: set[str]) -> None:
        # broken files in the folder are passed over (their valid fragments count), as when every file is parsed
        self.idx = Index([out_dir], check=False, for_ingest=True)
        self.skip = skip
        self.order = {key: i for i, key in enumerate(self.idx._stats)}  # library order of the files
        self._kinds: dict[str, list[tuple[bytes, int, bytes | None]]] = {}

    def evidence(self) -> dict[str, list[tuple[str, str]]]:
        """The anchor evidence of the library's sources (those not being ingested again), in library order."""
        return self.idx.anchor_evidence(self.skip)

    def _usable(self, row: tuple[Any, ...]) -> bool:
        sfile = row[6]
        return bool(sfile) and sfile not in self.skip and row[4] in VARIANT_KINDS and row[1] in self.order

    def candidates(self, kind: str, text: str) -> list[bytes]:
        """The digests of the library's texts of *kind* that can reach SIMILARITY with *text*."""
        if kind not in self._kinds:
            self._kinds.update(self.idx.texts_of_kinds([kind]))
        texts = self._kinds[kind]
        n = len(text)
        lo, hi = length_bounds(n)
        mine = char_profile(text)
        out = []
        for digest, m, theirs in texts[bisect.bisect_left(texts, lo, key=lambda t: t[1]):]:
            if m > hi:
                break
            if mine is None or theirs is None or 2.0 * profile_overlap(mine, theirs) / (n + m) >= SIMILARITY - _SLACK:
                out.append(digest)
        return out

    def near(self, new: Iterable[tuple[str, str]]) -> tuple[list[LibraryText], list[tuple[str, str]]]:
        """The library fragments that can matter to linking the new (kind, text) pairs, with their
        recorded links (pairs of ids); the fragments in library order."""
        wanted: set[bytes] = set()
        pairs = list(dict.fromkeys((k, t) for k, t in new if k in VARIANT_KINDS))
        self._kinds.update(self.idx.texts_of_kinds(sorted({k for k, _ in pairs} - set(self._kinds))))
        for kind, text in pairs:
            wanted.update(self.candidates(kind, text))
        skipped = {key for key, sfile in self.idx.conn.execute("SELECT path, sfile FROM files")
                   if not sfile or sfile in self.skip}
        rows = {r[0]: r for r in self.idx.rows_with("digest", list(wanted)) if self._usable(r)}
        known: list[tuple[str, str]] = []
        digests = set(wanted)
        ids: set[str] = set()
        todo = list(rows.values())
        while todo:  # the families: fragments linked to each, and copies of their texts
            fresh_ids = list({r[3] for r in todo} - ids)
            ids.update(fresh_ids)
            links = [(a, b) for key, a, b in self.idx.links_of(fresh_ids) if key not in skipped]
            known += links
            found = self.idx.rows_with("id", list({b for _, b in links} - ids))
            fresh_digests = list({r[5] for r in found if self._usable(r)} - digests)
            digests.update(fresh_digests)
            found += self.idx.rows_with("digest", fresh_digests)
            todo = [r for r in found if r[0] not in rows and self._usable(r)]
            rows.update((r[0], r) for r in todo)
        first: dict[bytes, int] = {}  # one row of each text, read from its file
        for r in sorted(rows.values(), key=lambda r: r[0]):
            first.setdefault(r[5], r[0])
        frags = self.idx.by_rowid(list(first.values()))
        texts = {d: frags[rowid].full_text for d, rowid in first.items() if rowid in frags}
        ordered = sorted(rows.values(), key=lambda r: (self.order[r[1]], r[2]))
        return [LibraryText(r[4], texts[r[5]], r[6], r[3], r[3].split(".", 1)[0], r[2])
                for r in ordered if r[5] in texts], known
