"""The tsvector text ``db import`` sends (no PostgreSQL needed here; tests/db compare it with
what the server makes): the fast path for fragments within PostgreSQL's limits gives the
same tsvector as the general path that applies them, entry by entry."""

from __future__ import annotations

import random
import re
import struct

import pytest

from speechgen.library import postgres
from speechgen.library.postgres import (
    _tsvector_capped,
    fragment_tsvector_binary,
    search_fields,
    search_terms,
    terms_tsvector_binary,
    tsvector_binary,
    tsvector_text,
)

_ENTRY = re.compile(r"'((?:[^']|'')*)':([0-9A-D,]+)")


def _parsed(text: str) -> dict[str, set[str]]:
    """{lexeme: {position+weight}} of tsvector input text, as PostgreSQL's input merges it."""
    out: dict[str, set[str]] = {}
    for quoted, positions in _ENTRY.findall(text):
        lexeme = re.sub(r"\\(.)|'(')", lambda m: m.group(1) or m.group(2), quoted)
        for p in positions.split(","):
            out.setdefault(lexeme, set()).add(p if p[-1] in "ABCD" else p + "D")
    return out


def _fields(heading: str, tags: str, body: str) -> list[tuple[list[str], str]]:
    return [(heading.split(), "A"), (tags.split(), "B"), (body.split(), "C")]


def _random_fields(seed: int, count: int, alphabet: list[str], long_words: list[int]) -> list[tuple[str, str, str]]:
    """*count* (heading, tags, body) of index terms drawn from *alphabet*: bodies of up to 600
    terms, of one term repeated 240-300 times, or of a few words up to one of *long_words* long."""
    rnd = random.Random(seed)

    def words(n: int, longest: int = 3) -> str:
        return " ".join("".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, longest))) for _ in range(n))

    out = []
    for _ in range(count):
        heading, tags = words(rnd.randint(0, 6)), words(rnd.randint(0, 4))
        body = rnd.choice([words(rnd.randint(0, 600)), " ".join(["调查"] * rnd.randint(240, 300)),
                           words(rnd.randint(1, 3), longest=rnd.choice(long_words))])
        out.append((heading, tags, body))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_path_is_the_general_path_within_the_limits(seed: int) -> None:
    fast = 0
    for heading, tags, body in _random_fields(seed, 400, list("调查研究形式主义政治ab1①"), [5, 511, 512, 700]):
        got = tsvector_text(heading, tags, body)
        assert _parsed(got) == _parsed(_tsvector_capped(_fields(heading, tags, body))), (heading, tags, body[:80])
        fast += "," not in got  # the fast path writes one entry a position
    assert fast > 100  # both paths were taken


def test_positions_past_the_suffix_table_take_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    body = " ".join(f"t{i}" for i in range(16_390))
    calls: list[int] = []
    general = postgres._tsvector_capped
    monkeypatch.setattr(postgres, "_tsvector_capped", lambda fields: calls.append(1) or general(fields))
    text = tsvector_text("标题", "", body)
    assert calls  # positions are clamped at 16,383, as PostgreSQL clamps them
    assert "'t16380':16382C" in text and "'t16389':16383C" in text


def _decoded(data: bytes) -> dict[str, set[str]]:
    """{lexeme: {position+weight}} of a binary tsvector, checking what ``tsvectorrecv`` needs
    to take it as it is: lexemes once each in byte order, positions rising."""
    (count,) = struct.unpack_from(">i", data)
    at, out, last = 4, {}, b""
    for _ in range(count):
        end = data.index(b"\0", at)
        lexeme = data[at:end]
        assert not out or lexeme > last, (last, lexeme)  # sorted, no repeats
        (n,) = struct.unpack_from(">H", data, end + 1)
        weps = struct.unpack_from(f">{n}H", data, end + 3)
        positions = [w & 0x3FFF for w in weps]
        assert positions == sorted(set(positions)) and n, lexeme
        out[lexeme.decode()] = {f"{w & 0x3FFF}{'DCBA'[w >> 14]}" for w in weps}
        at, last = end + 3 + 2 * n, lexeme
    assert at == len(data)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_the_binary_tsvector_is_the_text_one(seed: int) -> None:
    """db import copies tsvector_binary in: the same lexemes, positions and weights as the
    text (which tests/db compare with the server's own), on both paths."""
    capped = 0
    alphabet = list("调查研究形式主义政治ab1①'\\") + ["𠮷", "é"]
    for heading, tags, body in _random_fields(seed, 300, alphabet, [5, 700]):
        text = tsvector_text(heading, tags, body)
        assert _decoded(tsvector_binary(heading, tags, body)) == _parsed(text), (heading, tags, body[:80])
        capped += "," in text
    assert capped > 20  # both paths were taken
    past = " ".join(f"t{i % 9000}" for i in range(16_390))  # positions clamped at 16,383
    assert _decoded(tsvector_binary("标题", "", past)) == _parsed(tsvector_text("标题", "", past))


@pytest.mark.parametrize("word", ["a" * 2047, "a" * 2048, "调" * 682 + "a", "调" * 682 + "ab", "调" * 683])
def test_a_word_at_the_size_limit(word: str) -> None:
    """PostgreSQL keeps a word of 2,047 bytes and drops a longer one (with its position):
    the binary tsvector decides by the bytes, as the text one does."""
    body = f"前 {word} 后 {word} 前"
    text = tsvector_text("标题", "", body)
    assert _decoded(tsvector_binary("标题", "", body)) == _parsed(text)
    assert (word in _parsed(text)) == (len(word.encode()) <= 2047)


def test_a_fragment_is_copied_in_with_its_fields_terms() -> None:
    """db import builds each tsvector from search_terms (the clauses' terms kept between
    fragments): the same bytes as from the fields' index text."""
    from speechgen.library import load_library
    from speechgen.paths import library_dirs

    frags = list(load_library(library_dirs(None)).fragments)
    assert len(frags) > 20
    for frag in frags + frags:  # the second time, from the terms kept
        assert search_terms(frag) == tuple(field.split() for field in search_fields(frag))
        assert fragment_tsvector_binary(frag) == tsvector_binary(*search_fields(frag)), frag.id
    assert terms_tsvector_binary([], [], []) == tsvector_binary("", "", "") == bytes(4)
