"""speechgen.ingest.postag: jieba's tagger with a faster Viterbi gives jieba's words and tags."""

from __future__ import annotations

import random

from conftest import ROOT

from speechgen.ingest.postag import tagger, viterbi
from speechgen.words import _jieba


def jieba_tags(text: str) -> list[tuple[str, str]]:
    import jieba.posseg

    return [(p.word, p.flag) for p in jieba.posseg.dt.cut(text)]


def test_every_run_of_the_seeds_is_tagged_as_jieba_tags_it() -> None:
    _jieba()
    import jieba.posseg
    from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P
    from jieba.posseg.viterbi import viterbi as jieba_viterbi

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus" / "seeds").glob("*.txt"))]
    for text in texts:
        assert [(p.word, p.flag) for p in tagger().cut(text)] == jieba_tags(text)
    runs = {r for t in texts for r in jieba.posseg.re_han_detail.findall(t)}
    assert len(runs) > 100
    for run in runs:
        assert viterbi(run) == jieba_viterbi(run, char_state_tab_P, start_P, trans_P, emit_P), run


def test_random_text_and_characters_jieba_never_saw() -> None:
    _jieba()
    rng = random.Random(5)
    seeds = (ROOT / "corpus" / "seeds" / "000_6e77d68632e4004c.txt").read_text(encoding="utf-8")
    pool = seeds + "𠀀㐀丂鿰abcXYZ１２３、。"  # rare and unknown characters: jieba's full search
    for _ in range(400):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(1, 30)))
        assert [(p.word, p.flag) for p in tagger().cut(text)] == jieba_tags(text), text


def test_hmm_cut_is_jiebas_finalseg_cut() -> None:
    """hmm_cut (jieba's four-state Viterbi written out) cuts as jieba.finalseg.cut: on every run of
    the seeds and on random runs mixing their characters with letters, digits and characters
    the HMM has no emission for (where scores tie at -3.14e100 and the tie-breaks decide)."""
    from jieba import finalseg

    from speechgen.ingest.postag import hmm_cut, hmm_states

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus" / "seeds").glob("*.txt"))]
    chars = [c for t in texts for c in t]
    odd = list("abc019.%") + [chr(c) for c in range(0x4E00, 0x9FD6, 13)]
    rnd = random.Random(2)
    runs = [r for t in texts for r in finalseg.re_han.findall(t)]
    runs += ["".join(rnd.choice(odd) if rnd.random() < 0.3 else rnd.choice(chars) for _ in range(rnd.randint(1, 40)))
             for _ in range(5000)]
    for run in runs:
        assert hmm_cut(run) == list(finalseg.cut(run)), run
    for run in runs[:300]:
        if finalseg.re_han.fullmatch(run):
            _, states = finalseg.viterbi(run, "BMES", finalseg.start_P, finalseg.trans_P, finalseg.emit_P)
            assert hmm_states(run) == "".join(states), run
