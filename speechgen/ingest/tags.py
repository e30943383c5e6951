"""Tags of a speech: meeting type, year, campaign from the title and text; jieba keywords."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from itertools import chain
from typing import Any

#: Meeting types, most specific first; the first one found in the title wins.
MEETINGS = (
    "领导小组会议", "动员部署会", "筹备会", "推进会", "培训会", "工作会议", "座谈会", "调度会",
    "部署会", "动员会", "总结会", "民主生活会", "组织生活会", "党课", "常委会", "专题会",
)
_MEETING_ALIASES = {"推进会议": "推进会", "领导小组会": "领导小组会议", "培训班": "培训会", "动员大会": "动员会"}
#: Campaigns, matched in the title first, then by frequency in the text.
CAMPAIGNS = (
    "党史学习教育", "主题教育", "党的群众路线教育实践活动", "“三严三实”专题教育", "“两学一做”学习教育",
    "作风建设", "能力作风建设", "调查研究", "乡村振兴", "巡视整改",
)
_BATCH = re.compile(r"第[一二三]批")
_JINJA = re.compile(r"\{\{.*?\}\}")
# Nouns, verbal nouns, idioms and names: the words a writer searches by.
_GENERIC = frozenset(["工作", "会议", "同志", "单位", "问题", "要求", "机关", "部门", "方面", "情况", "领导", "大家", "我们", "同时", "时间", "部署", "精神", "作出", "推动", "开展"])
_POS = ("n", "nz", "vn", "nt", "ns", "nr", "l", "i", "j")


def meeting_type(title: str, text: str = "") -> str:
    """The meeting type named in the title (推进会, 动员部署会, …), else the text's first mention."""
    for where in (title, text[:300]):
        for alias, name in _MEETING_ALIASES.items():
            where = where.replace(alias, name)
        for m in MEETINGS:
            if m in where:
                return m
    return ""


def campaign(title: str, text: str) -> str:
    """The campaign the speech is about (主题教育, 党史学习教育, …) or an empty string."""
    for c in CAMPAIGNS:
        if c in title:
            return c
    counts = {c: text.count(c) for c in CAMPAIGNS}
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] >= 3 else ""


def batch(title: str, text: str) -> str:
    """第一批/第二批 when the title (or, failing that, the opening) names one."""
    m = _BATCH.search(title) or _BATCH.search(text[:200])
    return m.group(0) if m else ""


def year(title: str, date: str) -> int | None:
    """The year in the title, else in the date line."""
    for where in (title, date):
        m = re.search(r"(19|20)\d{2}(?=年)", where)
        if m:
            return int(m.group(0))
    return None


#: Keywords as jieba's ``extract_tags`` gives them (every word part-of-speech tagged), not
#: :func:`ranked_tags`; set by :func:`exact_keywords` (``speechgen ingest --exact-keywords``).
_EXACT = False


@contextmanager
def exact_keywords(on: bool = True) -> Iterator[None]:
    """Within the block, :func:`keywords` tags every word as jieba's ``extract_tags`` does (slower)."""
    global _EXACT
    before, _EXACT = _EXACT, on
    try:
        yield
    finally:
        _EXACT = before


def keywords(text: str, top: int = 6, skip: tuple[str, ...] = ()) -> list[str]:
    """TF-IDF noun keywords of *text* (placeholders removed), without *skip* and numbers."""
    return list(_keywords(text, top, skip, _EXACT))


@lru_cache(maxsize=16_384)
def _keywords(text: str, top: int, skip: tuple[str, ...], exact: bool = False) -> tuple[str, ...]:
    bare = _JINJA.sub(" ", text)
    words = (extract_tags if exact else ranked_tags)(bare, top + len(skip) + 4, _POS)
    out = [w for w in words if w not in skip and w not in _GENERIC and not w.isdigit() and len(w) > 1]
    return tuple(out[:top])


def extract_tags(text: str, top: int, allow: tuple[str, ...]) -> list[str]:
    """``jieba.analyse.extract_tags(text, topK=top, allowPOS=allow)``, the same words in the same order.

    jieba tags each run of Chinese (and ASCII word) characters on its own, so the tags of a
    run are kept and reused: speeches repeat their clauses, and a copied speech costs no
    tagging at all. The counting and weighting below are jieba's, step for step (ties
    keep the order of first appearance, as there).
    """
    from speechgen.words import _jieba

    _jieba()  # loads the domain dictionary once
    import jieba.analyse
    import jieba.posseg

    tfidf = jieba.analyse.default_tfidf
    allowed = frozenset(allow)
    freq: dict[str, float] = {}
    for block in jieba.posseg.re_han_internal.split(text):
        for word, flag in _tagged(block):
            if flag not in allowed or len(word.strip()) < 2 or word.lower() in tfidf.stop_words:
                continue
            freq[word] = freq.get(word, 0.0) + 1.0
    total = sum(freq.values())
    for k in freq:
        freq[k] *= tfidf.idf_freq.get(k, tfidf.median_idf) / total
    return sorted(freq, key=freq.__getitem__, reverse=True)[:top]


@lru_cache(maxsize=262_144)
def _tagged(block: str) -> tuple[tuple[str, str], ...]:
    """jieba's (word, part of speech) pairs for one run of text (its tagger, a faster Viterbi)."""
    from speechgen.ingest.postag import tagger

    return tuple((p.word, p.flag) for p in tagger().cut(block))


def ranked_tags(text: str, top: int, allow: tuple[str, ...]) -> list[str]:
    """Like :func:`extract_tags`, tagging only the words the ranking reaches: about 4x faster.

    The words are ``jieba.cut``'s (dictionary route, its small HMM for runs of characters the
    dictionary does not know), weighted by count × IDF as jieba weighs them, best first; a
    word is kept when its part of speech is allowed. A dictionary word's part of speech is
    the dictionary's (as jieba's tagger gives it); a word the HMM found is tagged by jieba's
    tagger over the run it came from, and kept only when the tagger finds the same word there
    with an allowed tag. The tagger's Viterbi, most of ingest's time on distinct text, thus
    runs over the few runs whose words rank, not over all of them. The words differ from
    :func:`extract_tags` where ``jieba.cut`` and the tagger split an unknown run differently
    and where a word is counted whatever its tag at each place (docs/ingest.md, "Keywords").
    """
    from speechgen.words import _jieba

    _jieba()  # loads the domain dictionary once
    import jieba.analyse
    import jieba.posseg

    tfidf = jieba.analyse.default_tfidf
    allowed = frozenset(allow)
    found = list(chain.from_iterable(map(_candidates, jieba_blocks(text))))
    runs: dict[str, list[str]] = {}  # words the HMM found: the unknown runs they came from
    for word, run in found:
        if run:
            runs.setdefault(word, []).append(run)
    routed = {word for word, run in found if not run}  # words found on the dictionary's route somewhere
    # count × IDF, words in order of first appearance (ties keep it, as jieba's sort does)
    idf, median = tfidf.idf_freq, tfidf.median_idf
    freq = {w: n * idf.get(w, median) for w, n in Counter(w for w, _ in found).items()}
    jieba.posseg.dt.makesure_userdict_loaded()  # the domain dictionary's tags, as the tagger does
    tag_of = jieba.posseg.dt.word_tag_tab
    out: list[str] = []
    for word in sorted(freq, key=freq.__getitem__, reverse=True):
        flag = tag_of.get(word, "x")
        if word in runs and word not in routed:
            flag = next(filter(None, (_run_tags(r).get(word) for r in dict.fromkeys(runs[word]))), "x")
        if flag in allowed:
            out.append(word)
            if len(out) >= top:
                break
    return out


def jieba_blocks(text: str) -> list[str]:
    """The runs of Chinese, letters and digits jieba's tagger cuts one by one (what lies between
    them — punctuation, space — gives no word of two characters)."""
    import jieba.posseg

    return [b for b in jieba.posseg.re_han_internal.split(text)[1::2] if b]


@lru_cache(maxsize=262_144)
def _candidates(block: str) -> tuple[tuple[str, str], ...]:
    """The words of *block* TF-IDF may rank (two characters or more, not stop words), with their runs."""
    import jieba.analyse

    stop = jieba.analyse.default_tfidf.stop_words
    # (len(w) >= 2 first: half the words are single characters, skipped without strip and lower)
    return tuple((w, run) for w, run in _words(block) if len(w) >= 2 and len(w.strip()) >= 2 and w.lower() not in stop)


def _words(block: str) -> tuple[tuple[str, str], ...]:
    """``jieba.cut(block)``'s words, each with the unknown run it came from ('' for a dictionary word).

    jieba's route (the most probable split by word frequencies) is walked by jieba-rs
    (:func:`_compiled_route`) over the same dictionary and total; the runs of single
    characters on it are handled as ``jieba.Tokenizer.__cut_DAG`` does (jieba's own HMM,
    ``finalseg``, for a run the dictionary does not know).
    """
    from speechgen.words import _jieba

    tok = _jieba().dt
    tok.check_initialized()
    route = _compiled_route(tok, block)
    if route is None:
        return _words_py(block)
    return _with_runs(tok.FREQ, route)


def _with_runs(freq: dict[str, int], route: list[str] | tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """The words of jieba's *route* as ``jieba.cut`` gives them: each run of single characters
    goes to jieba's HMM (``finalseg``, through :func:`~speechgen.ingest.postag.hmm_cut`) when the
    dictionary does not know it (``Tokenizer.__cut_DAG``)."""
    out: list[tuple[str, str]] = []
    run = ""
    for w in route:
        if len(w) == 1:
            run += w
            continue
        if run:
            _unknown(freq, run, out)
            run = ""
        out.append((w, ""))
    if run:
        _unknown(freq, run, out)
    return tuple(out)


def _unknown(freq: dict[str, int], run: str, out: list[tuple[str, str]]) -> None:
    """jieba.Tokenizer.__cut_DAG's handling of a run of single characters on the route."""
    if len(run) == 1:
        out.append((run, ""))
    elif not freq.get(run):
        from speechgen.ingest.postag import hmm_cut

        out.extend((w, run) for w in hmm_cut(run))
    else:
        out.extend((c, "") for c in run)


_ASCII_ALNUM = re.compile("[a-zA-Z0-9]")
#: jieba-rs over the dictionary of jieba's tokenizer: (id of its FREQ, its total, the jieba-rs tokenizer).
_COMPILED: list[Any] = []
#: Characters whose route a process walks in Python before it builds the jieba-rs tokenizer.
#: Building it (jieba's 350,000 words, one call each) takes about 0.26 s of CPU and saves about
#: 1.5 µs a character: it pays from about 170,000 characters of text, some 50 speeches, so a
#: short ingest never builds it (docs/performance.md).
COMPILED_FROM = 200_000
_walked = [0]  # characters walked in Python so far


def _compiled_route(tok: Any, block: str) -> list[str] | None:
    """jieba's route over *block* (dictionary words and single characters, no HMM), walked by
    jieba-rs (``rjieba``), or None where its answer could differ from jieba's own route.

    None also for the first :data:`COMPILED_FROM` characters of the process. The jieba-rs
    tokenizer is then built from jieba's own dictionary as loaded (every word with
    a frequency, the domain words included), and given jieba's total (a placeholder word of a
    private-use character, never in a block, takes what jieba counts beyond the sum of the
    frequencies: a word added again is counted twice there), so the same sums as jieba's
    ``calc``; ties go to the longer word in both. Without the HMM, jieba-rs joins single
    letters and digits on the route into one word (as ``jieba.cut(HMM=False)`` does): such a
    word, when the dictionary knows it or any part of it, leaves the block to
    :func:`_words_py`; otherwise it is its single characters again.
    """
    freq = tok.FREQ
    if not _COMPILED or _COMPILED[0] != id(freq) or _COMPILED[1] != tok.total:
        if _walked[0] < COMPILED_FROM:
            _walked[0] += len(block)
            return None
        import rjieba

        rs = rjieba.Jieba.empty()
        add = rs.add_word
        counted = 0
        for word, f in freq.items():
            if f:
                add(word, f, None)
                counted += f
        if tok.total > counted:
            add("\ue000", tok.total - counted, None)
        _COMPILED[:] = [id(freq), tok.total, rs]
        if tok.total < counted:  # not jieba's dictionary as loaded from its files: its own route
            _COMPILED[2] = None
    rs = _COMPILED[2]
    if rs is None:
        return None
    if block.isascii():  # nothing to gain, and letters and digits everywhere
        return None
    route: list[str] = rs.cut(block, False)
    if _ASCII_ALNUM.search(block) is None:
        return route
    out: list[str] = []
    for w in route:
        if len(w) > 1 and w.isascii() and w.isalnum():
            if any(freq.get(w[i:k]) for i in range(len(w)) for k in range(i + 2, len(w) + 1)):
                return None
            out.extend(w)
        else:
            out.append(w)
    return out


def _words_py(block: str) -> tuple[tuple[str, str], ...]:
    """:func:`_words` in Python alone: jieba's route (``get_DAG`` then ``calc``) in one pass
    from the end, each word's log-probability computed once per process; the same sums and
    the same ties (the longer word) as jieba's, so the same words."""
    from speechgen.words import _jieba

    tok = _jieba().dt
    tok.check_initialized()
    freq = tok.FREQ
    logp = _logp(tok)
    n = len(block)
    score = [0.0] * (n + 1)
    end = [0] * n
    get_freq, get_logp, log_total = freq.get, logp.get, logp[""]
    for k in range(n - 1, -1, -1):
        best_score, best = 0.0, -1
        i, frag = k, block[k]
        while True:
            f = get_freq(frag)
            if f is None:
                break
            if f:  # a word (prefixes of words are in FREQ with 0)
                lp = get_logp(frag)
                if lp is None:
                    lp = logp[frag] = math.log(f) - log_total
                s = lp + score[i + 1]
                if best < 0 or s >= best_score:  # max over (score, end): a tie goes to the longer word
                    best_score, best = s, i
            i += 1
            if i == n:
                break
            frag = block[k : i + 1]
        if best < 0:  # no word starts here: the character alone, frequency 1 as jieba counts it
            best_score, best = -log_total + score[k + 1], k
        score[k], end[k] = best_score, best
    route: list[str] = []
    x = 0
    while x < n:
        y = end[x] + 1
        route.append(block[x:y])
        x = y
    return _with_runs(freq, route)


_LOGP: dict[int, dict[str, float]] = {}


def _logp(tok: Any) -> dict[str, float]:
    """log(frequency) − log(total) of the words met so far (key '' holds log(total)), per dictionary."""
    table = _LOGP.get(id(tok.FREQ))
    if table is None or table[""] != math.log(tok.total):
        _LOGP.clear()
        table = _LOGP[id(tok.FREQ)] = {"": math.log(tok.total)}
    return table


@lru_cache(maxsize=65_536)
def _run_tags(run: str) -> dict[str, str]:
    """The tagger's words of one unknown run (as jieba's tagger tags it in place), each with its first tag."""
    from speechgen.ingest.postag import tagger

    tags: dict[str, str] = {}
    for p in tagger()._POSTokenizer__cut_detail(run):
        tags.setdefault(p.word, p.flag)
    return tags
