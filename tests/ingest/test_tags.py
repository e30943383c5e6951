"""tags: exact keywords are jieba's extract_tags word for word; ranked keywords tag only what ranks."""

from __future__ import annotations

import pytest
from conftest import ROOT, SEEDS

from speechgen.ingest import tags
from speechgen.library import load_library


def texts() -> list[str]:
    lib = load_library([ROOT / "fragments"], use_cache=False)
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return [f.full_text for f in lib.fragments] + seeds + ["", "abc 2023", "同志们：\\n  XX市 *** 1. (1)"]


def test_extract_tags_is_jiebas_word_for_word() -> None:
    from speechgen.words import _jieba

    _jieba()
    import jieba.analyse

    for text in texts():
        for top in (3, 12):
            expected = jieba.analyse.extract_tags(text, topK=top, allowPOS=tags._POS)
            assert tags.extract_tags(text, top, tags._POS) == expected, text[:40]


def test_a_repeated_text_is_not_tagged_again(monkeypatch: pytest.MonkeyPatch) -> None:
    tags._tagged.cache_clear()
    tags._keywords.cache_clear()
    text = "坚持以学铸魂，深入学习习近平新时代中国特色社会主义思想。坚持以学铸魂，切实增强政治自觉。"
    with tags.exact_keywords():
        first = tags.keywords(text, top=5)
        info = tags._tagged.cache_info()
        assert info.hits >= 1  # 坚持以学铸魂 occurs twice: tagged once
        calls = []
        monkeypatch.setattr(tags, "_tagged", lambda block: calls.append(block) or ())
        assert tags.keywords(text, top=5) == first and calls == []
        assert tags.keywords("另一段文字，讲调查研究。", top=5) == [] and calls
    assert not tags._EXACT


def _flag(word: str, text: str) -> str:
    """jieba's tag for *word* as ranked_tags must read it: the dictionary's, else the tagger's in its run."""
    import jieba.posseg

    jieba.posseg.dt.makesure_userdict_loaded()
    found = [run for block in tags.jieba_blocks(text) for w, run in tags._words(block) if w == word]
    if "" in found:  # on the dictionary's route somewhere
        return str(jieba.posseg.dt.word_tag_tab.get(word, "x"))
    return next((f for f in (tags._run_tags(r).get(word) for r in found) if f), "x")


def test_ranked_tags_are_jiebas_ranking_of_its_cut_keeping_allowed_tags() -> None:
    """ranked_tags == jieba's extract_tags without allowPOS (words of jieba.cut, TF-IDF order),
    keeping the words whose part of speech is allowed: the ranking is jieba's, only the tagging is lazy."""
    from speechgen.words import _jieba

    _jieba()
    import jieba.analyse

    for text in texts():
        ranked = jieba.analyse.extract_tags(text, topK=None)
        for top in (3, 12):
            got = tags.ranked_tags(text, top, tags._POS)
            assert got == [w for w in ranked if _flag(w, text) in tags._POS][:top], text[:40]


def test_ranked_tags_tag_only_the_unknown_runs_whose_words_rank(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (SEEDS / "001_ea232bbc68f5e29d.txt").read_text(encoding="utf-8")
    tags._candidates.cache_clear()
    tags._run_tags.cache_clear()
    tags.ranked_tags(text, 9, tags._POS)
    runs = {run for block in set(tags.jieba_blocks(text)) for _, run in tags._words(block) if run}
    tagged = tags._run_tags.cache_info().currsize
    assert 0 < tagged < len(runs) / 4  # the Viterbi runs over a few runs, not all


def test_ranked_keywords_agree_with_jiebas_on_the_seeds() -> None:
    """The default keywords are jieba's exact ones for almost every fragment (one of 34 differs:
    学思 → 系统学, where jieba.cut splits 学思用贯通 otherwise than the tagger; docs/ingest.md)."""
    texts = [f.full_text for f in load_library([ROOT / "fragments"], use_cache=False).fragments if f.kind != "salutation"]
    same = 0
    for text in texts:
        with tags.exact_keywords():
            exact = tags.keywords(text, top=5)
        ranked = tags.keywords(text, top=5)
        same += ranked == exact
        assert len(set(ranked) & set(exact)) >= len(exact) - 1, (ranked, exact)
    assert same >= len(texts) - 2


def test_words_are_jiebas_cut_of_each_block() -> None:
    """_words walks jieba's route its own way (one pass, log-frequencies kept): the same words."""
    import random

    from speechgen.words import _jieba

    jb = _jieba()
    rnd = random.Random(3)
    chars = [c for p in sorted(SEEDS.glob("*.txt")) for c in p.read_text(encoding="utf-8")]
    samples = texts() + ["".join(rnd.choice(chars) for _ in range(rnd.randint(1, 60))) for _ in range(2000)]
    for text in samples:
        for block in tags.jieba_blocks(text):
            assert [w for w, _ in tags._words(block)] == list(jb.dt.cut(block)), block


def test_the_compiled_route_gives_the_words_of_the_python_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """_words walks jieba's route with jieba-rs (rjieba): the same words and runs as _words_py,
    on the fixtures and on random texts mixing their characters, domain words, letters, digits
    and characters jieba's dictionary barely knows; letters and digits it cannot place go the
    Python way."""
    import random

    from conftest import ROOT

    from speechgen.words import _jieba, domain_dictionary

    tok = _jieba().dt
    monkeypatch.setattr(tags, "COMPILED_FROM", 0)  # the compiled route from the first block
    rnd = random.Random(11)
    fixtures = [p.read_bytes().decode("utf-8", "replace") for p in sorted((ROOT / "tests" / "fixtures" / "speeches").glob("*.txt"))]
    base = texts() + fixtures
    chars = [c for t in base for c in t]
    domain = [line.split()[0] for line in domain_dictionary().read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    odd = list("abcxyzABC0123456789.+#&_") + [chr(c) for c in range(0x4E00, 0x9FD6, 37)]
    samples = list(base)
    for _ in range(3000):
        parts = []
        for _ in range(rnd.randint(1, 80)):
            r = rnd.random()
            parts.append(rnd.choice(domain) if r < 0.05 else rnd.choice(odd) if r < 0.2 else rnd.choice(chars))
        samples.append("".join(parts))
    import jieba.analyse

    stop = jieba.analyse.default_tfidf.stop_words
    compiled = python = 0
    for block in {b for t in samples for b in tags.jieba_blocks(t)}:
        words = tags._words_py(block)
        assert tags._words(block) == words, block
        # _candidates filters the same words in one pass
        assert tags._candidates(block) == tuple((w, r) for w, r in words if len(w.strip()) >= 2 and w.lower() not in stop)
        if tags._compiled_route(tok, block) is None:
            python += 1
        else:
            compiled += 1
    assert compiled > 10 * python > 0  # both ways were taken, the compiled one nearly always


def test_the_compiled_route_counts_jiebas_total(monkeypatch: pytest.MonkeyPatch) -> None:
    """rjieba's tokenizer holds jieba's dictionary and total: its suggested frequency of two
    frequent characters, ⌊f₁·f₂/total⌋ + 1, is jieba's (a total off by 40 or more would show)."""
    from speechgen.words import _jieba

    tok = _jieba().dt
    monkeypatch.setattr(tags, "COMPILED_FROM", 0)
    assert tags._compiled_route(tok, "的的") is not None
    rs = tags._COMPILED[2]
    for pair in ("的的", "的了", "了的", "是的的"):
        assert rs.suggest_freq(pair) == tok.suggest_freq(pair, False), pair


def test_a_short_run_walks_the_route_in_python_and_builds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building the jieba-rs tokenizer pays only on long runs: the first COMPILED_FROM characters
    of a process go the Python way, then it is built."""
    from speechgen.words import _jieba

    tok = _jieba().dt
    monkeypatch.setattr(tags, "_COMPILED", [])
    monkeypatch.setattr(tags, "_walked", [0])
    monkeypatch.setattr(tags, "COMPILED_FROM", 10)
    assert tags._compiled_route(tok, "坚持以学铸魂") is None  # 6 characters walked
    assert tags._compiled_route(tok, "深入学习") is None  # 10
    assert tags._COMPILED == []
    assert tags._compiled_route(tok, "深入学习") == ["深入", "学习"]
    assert tags._COMPILED[2] is not None
