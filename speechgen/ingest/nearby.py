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
   *Candidates*: the fragments of the same kind whose length passes difflib's length bound and
   that hold one of the new text's rarest character bigrams (the search index's terms), enough
   of them that a text sharing none cannot reach :data:`~speechgen.ingest.variants.SIMILARITY`
   (see :func:`prefix_terms`); a text too short or too full of punctuation for that bound takes
   every fragment of its kind and length. Then *families*: every copy of a candidate's text (the
   cache's digest of kind and text) and every fragment linked to one (the recorded
   ``variants:``), until nothing new comes. Texts are read once per distinct text.

What is guaranteed, and what is not, is spelled out in docs/ingest.md ("Ingest into a large
library").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from speechgen.ingest.variants import SIMILARITY, VARIANT_KINDS, LibraryText
from speechgen.library.sqlite import Index
from speechgen.library.terms import _CJK

_SLACK = 1e-9


def _is_cjk(ch: str) -> bool:
    return any(lo <= ch <= hi for lo, hi in _RANGES)


_RANGES = [(_CJK[i], _CJK[i + 2]) for i in range(0, len(_CJK), 3)]  # "a-bc-d…" → (a, b), (c, d)


def length_bounds(n: int) -> tuple[int, int]:
    """The lengths a text can have to reach SIMILARITY with one of *n* characters (difflib's real_quick_ratio)."""
    s = SIMILARITY
    return math.ceil(n * s / (2 - s) - 1e-6), math.floor(n * (2 - s) / s + 1e-6)


def bigram_counts(text: str) -> Counter[str]:
    """The text's CJK character bigrams (the search index's terms for adjacent Chinese characters), with their counts."""
    flags = [_is_cjk(ch) for ch in text]
    return Counter(text[i : i + 2] for i in range(len(text) - 1) if flags[i] and flags[i + 1])


def shared_bigrams_at_least(text: str, bigrams: Counter[str], shortest: int) -> int:
    """A lower bound on the bigram positions of *text* that lie inside difflib's matching blocks
    against any text of at least *shortest* characters with a ratio of SIMILARITY or more.

    With M matched characters in k blocks, ratio = 2M/(n+m) ≥ s gives M ≥ s(n+m)/2; two blocks in
    a row are never adjacent in both texts, so k − 1 ≤ (n − M) + (m − M); the blocks hold M − k
    adjacent pairs of *text*, at least 3M − (n+m) − 1 ≥ (3s/2 − 1)(n+m) − 1, and all but the
    pairs that hold a character other than a CJK one (q of them in *text*) are bigrams.
    """
    n = len(text)
    q = max(n - 1, 0) - sum(bigrams.values())
    bound = (1.5 * SIMILARITY - 1) * (n + shortest) - 1 - q
    return math.ceil(bound - _SLACK)


def prefix_terms(bigrams: Counter[str], need: int, docs: dict[str, int]) -> list[str]:
    """The rarest bigrams of a text (fewest library fragments hold them) until a text holding none
    of them has fewer than *need* of its bigram positions: every text that shares *need* holds one."""
    total = sum(bigrams.values())
    out: list[str] = []
    covered = 0
    for term in sorted(bigrams, key=lambda t: (docs.get(t, 0), t)):
        if covered >= total - need + 1:
            break
        out.append(term)
        covered += bigrams[term]
    return out


class IndexedLibrary:
    """The fragments of an output folder that ingest needs, read through its cache."""

    def __init__(self, out_dir: Path, skip: set[str]) -> None:
        # the folder's broken files are skipped (only their valid fragments count), as when every file is parsed
        self.idx = Index([out_dir], check=False)
        self.skip = skip
        self.order = {key: i for i, key in enumerate(self.idx._stats)}  # library order of the files

    def evidence(self) -> dict[str, list[tuple[str, str]]]:
        """The anchor evidence of the library's sources (those not being ingested again), in library order."""
        return self.idx.anchor_evidence(self.skip)

    def _usable(self, row: tuple[Any, ...]) -> bool:
        sfile = row[6]
        return bool(sfile) and sfile not in self.skip and row[4] in VARIANT_KINDS and row[1] in self.order

    def candidates(self, kind: str, text: str) -> list[tuple[Any, ...]]:
        """The rows of the library fragments that can be near-duplicates of *text* (see the module notes)."""
        lo, hi = length_bounds(len(text))
        bigrams = bigram_counts(text)
        need = shared_bigrams_at_least(text, bigrams, lo)
        if need <= 0 or not bigrams:
            return self.idx.text_rows(kind, lo, hi)
        terms = prefix_terms(bigrams, need, self.idx.term_counts(sorted(bigrams)))
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)
        return self.idx.text_rows(kind, lo, hi, match)

    def near(self, new: Iterable[tuple[str, str]]) -> tuple[list[LibraryText], list[tuple[str, str]]]:
        """The library fragments that can matter to linking the new (kind, text) pairs, with their
        recorded links, in library order."""
        rows: dict[int, tuple[Any, ...]] = {}
        for kind, text in dict.fromkeys((k, t) for k, t in new if k in VARIANT_KINDS):
            rows.update((r[0], r) for r in self.candidates(kind, text) if self._usable(r))
        skipped = {key for key, sfile in self.idx.conn.execute("SELECT path, sfile FROM files")
                   if not sfile or sfile in self.skip}
        known: list[tuple[str, str]] = []
        digests: set[bytes] = set()
        ids: set[str] = set()
        todo = list(rows.values())
        while todo:  # the families: copies of each text, and fragments linked to each
            fresh_digests = list({r[5] for r in todo} - digests)
            fresh_ids = list({r[3] for r in todo} - ids)
            digests.update(fresh_digests)
            ids.update(fresh_ids)
            links = [(a, b) for key, a, b in self.idx.links_of(fresh_ids) if key not in skipped]
            known += links
            found = self.idx.rows_with("digest", fresh_digests)
            found += self.idx.rows_with("id", list({b for _, b in links} - ids))
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
