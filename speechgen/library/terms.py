"""The search tokens of documents and queries: the one place every store tokenises.

Chinese has no spaces, so words are not cut out with a dictionary (jieba took 94 % of the
time of a first search and half a second to load for every new query). Instead, as in
Lucene's CJK analyzer, each run of Chinese characters becomes its overlapping character
bigrams (调查研究 → 调查 查研 研究); a run of one character is kept as it is. Runs of
letters and digits are single lower-cased terms. Every store ranks with the same terms:
the SQLite store puts them in an FTS5 table, a PostgreSQL store would put the same strings
in a ``tsvector`` with the ``simple`` configuration.

* :func:`index_terms` — the terms of a document field, in order (positions matter for phrases);
* :func:`query_plan` — a query as phrases: each a list of terms that must occur in a row;
* :func:`fts5_phrase_query` / :func:`fts5_any_query` — those phrases as FTS5 MATCH expressions.

Fields and their weights (:data:`FIELDS`): the heading counts more than the body and the tags,
so a fragment whose heading names the query outranks one that mentions it in passing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import chain

#: Changes whenever the terms of a text could change: a cache indexed with another version is re-indexed.
TERMS_VERSION = "cjk-bigram-1"

#: The indexed fields of a fragment and their BM25 weights, in column order.
FIELDS: tuple[tuple[str, float], ...] = (("heading", 8.0), ("body", 1.0), ("tags", 4.0))

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The patterns below, compiled on first use: their CJK ranges take re about 13 ms to
    compile, and most commands (compose among them) never tokenise."""
    return (
        # A run of CJK characters, or of letters and digits (any script but CJK), is one unit.
        re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+"),
        re.compile(rf"[{_CJK}]"),
        # The same terms in one pass of the regular expression engine (indexing 100,000
        # fragments spends its time here): at each position, a CJK bigram, a lone CJK
        # character, or a word of letters and digits that starts there.
        re.compile(rf"(?=([{_CJK}][{_CJK}]|(?<![{_CJK}])[{_CJK}](?![{_CJK}])|(?<![^\W_{_CJK}])[^\W_{_CJK}]+))"),
    )


def _run_terms(run: str) -> list[str]:
    if not _patterns()[1].match(run):
        return [run.lower()]
    if len(run) == 1:
        return [run]
    return list(map(str.__add__, run, run[1:]))


def index_terms(text: str) -> list[str]:
    """The terms of *text* in order: CJK bigrams (a lone CJK character as itself), words lower-cased.

    Punctuation, spaces and symbols separate runs and make no term; bigrams never cross
    them. ``index_terms("大兴调查研究，GDP 增长")`` is
    ``['大兴', '兴调', '调查', '查研', '研究', 'gdp', '增长']``.
    """
    return _patterns()[2].findall(text.lower())


# Clause punctuation: no term crosses it, so clauses are tokenised apart, each distinct
# clause once (speeches repeat their clauses; a library of copies repeats whole texts).
_CLAUSE = re.compile(r"[，。；！？、：\n]+")


@lru_cache(maxsize=131_072)
def _clause_text(clause: str) -> str:
    return " ".join(_patterns()[2].findall(clause.lower()))


def index_text(text: str) -> str:
    """:func:`index_terms` joined by spaces: what a store's simple whitespace tokenizer indexes."""
    return " ".join(t for t in map(_clause_text, _CLAUSE.split(text)) if t)


@lru_cache(maxsize=131_072)
def _clause_terms(clause: str) -> tuple[str, ...]:
    return tuple(_patterns()[2].findall(clause.lower()))


def index_term_list(text: str) -> list[str]:
    """``index_text(text).split()``, made without joining and splitting again.

    Each distinct clause is cut once and its terms kept: a clause met again gives the very
    strings it gave before, whose hashes Python has already computed, so grouping a
    fragment's terms by lexeme (the PostgreSQL import's tsvectors) hashes only the terms of
    clauses not met before (hashing them all was a tenth of a parser's time). Not interned:
    that cost more on text whose clauses are all new than it saved on repeated ones.
    """
    return list(chain.from_iterable(map(_clause_terms, _CLAUSE.split(text))))


def query_plan(query: str) -> list[list[str]]:
    """The phrases of *query*: one list of terms a run of letters or characters, in order.

    A fragment matches a phrase when the terms occur one after another in one field, which for
    bigrams is the same as containing the run as a substring (政治责任 in 政治责任感).
    ``query_plan("形式主义 官僚主义")`` is ``[['形式', '式主', '主义'], ['官僚', '僚主', '主义']]``.
    """
    return [_run_terms(run) for run in _patterns()[0].findall(query)]


def query_words(query: str) -> list[str]:
    """The runs of *query* as the user typed them (for marking them in snippets)."""
    return list(dict.fromkeys(_patterns()[0].findall(query)))


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts5_phrase_query(plan: list[list[str]]) -> str:
    """Every phrase of *plan* as an FTS5 phrase (its terms in a row, in one field), all required."""
    return "(" + " AND ".join(_quote(" ".join(p)) for p in plan) + ")"


def fts5_any_query(plan: list[list[str]]) -> str:
    """Any term of any phrase: the wider net BM25 ranks when too few fragments hold every phrase."""
    terms = dict.fromkeys(t for p in plan for t in p)
    return " OR ".join(_quote(t) for t in terms)
