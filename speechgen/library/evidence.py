"""What a fragment contributes to ingest's later runs, cached so ingest need not read the library.

Ingest reads two things from the fragments already in its output folder (docs/ingest.md):

* the names redacted before fixed phrases (:data:`ANCHORS`), learned from where the library
  holds them unredacted — only the few characters before each anchor count, so a text is
  summed up exactly by :func:`anchor_evidence`;
* near-duplicates of the new fragments — candidates found by a bound on difflib's ratio from
  each text's :func:`char_profile`, the texts read only for them, copies of one text told apart
  by :func:`text_digest`.

The SQLite cache stores both for every file as it indexes it (:mod:`speechgen.library.sqlite`).
"""

from __future__ import annotations

import hashlib
from array import array

#: Phrases whose redacted name can be restored from an unredacted occurrence in the corpus.
ANCHORS = ("新时代中国特色社会主义思想", "总书记", "同志为核心")
#: The longest name learned before an anchor: how much of the text before one is kept.
BEFORE = 4


def anchor_evidence(text: str) -> list[tuple[str, str]]:
    """(anchor, up to :data:`BEFORE` characters before it) for each occurrence of an anchor in *text*.

    Occurrences of one anchor come in text order (anchors never overlap themselves, so these
    are all of them). Everything the name restorer learns from a text is in this list.
    """
    out: list[tuple[str, str]] = []
    for anchor in ANCHORS:
        at = text.find(anchor)
        while at >= 0:
            out.append((anchor, text[max(0, at - BEFORE) : at]))
            at = text.find(anchor, at + len(anchor))
    return out


def text_digest(kind: str, text: str) -> bytes:
    """16 bytes naming (kind, text): fragments with equal digests are copies of one text."""
    return hashlib.blake2b(f"{kind}\0{text}".encode("utf-8", "surrogatepass"), digest_size=16).digest()


#: Buckets of a text's character profile (:func:`char_profile`).
PROFILE_BUCKETS = 64
assert 256 % PROFILE_BUCKETS == 0  # so a code point's low byte tells its bucket
_BUCKET = bytes(i % PROFILE_BUCKETS for i in range(256))


def char_profile(text: str) -> bytes | None:
    """How many characters of *text* fall in each of :data:`PROFILE_BUCKETS` buckets (code point
    modulo the number of buckets), as unsigned 16-bit counts; None when a count does not fit.

    For two texts, the sum over buckets of the smaller count is at least the number of
    characters difflib's ``quick_ratio`` finds in common (a minimum of sums is at least the sum
    of minimums), so ``2 · that sum / (len(a) + len(b))`` bounds both ``quick_ratio`` and ``ratio``
    from above: a pair below the similarity threshold by this bound is no pair of variants.
    """
    # the low byte of each code point (UTF-32's first byte), reduced to its bucket, counted per
    # bucket in C: a Python loop over every character doubled what a first search spends on it
    low = text.encode("utf-32-le", "surrogatepass")[0::4].translate(_BUCKET)
    counts = list(map(low.count, range(PROFILE_BUCKETS)))
    if max(counts) > 0xFFFF:
        return None
    return array("H", counts).tobytes()


def profile_overlap(a: bytes, b: bytes) -> int:
    """The sum over buckets of the smaller count of two :func:`char_profile` values."""
    return sum(map(min, array("H", a), array("H", b)))
