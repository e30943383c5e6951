"""jieba's part-of-speech tagger with a faster Viterbi: the same words and tags, sooner.

``jieba.posseg`` tags the runs of characters its dictionary does not know with a Viterbi
search over about 250 (position, part-of-speech) states; on the seed speeches that search is
three quarters of the tagger's time, and the tagger most of ingest's. jieba's search builds,
at every character, the set of every state any previous state may lead to (thousands of
items) and then tries every previous state for every state of the character.

:func:`viterbi` computes the same thing: the same sums, in the same order, the same ties
broken the same way (``max`` over ``(score, state)``), but it asks a reverse transition table
which previous states may lead to a state, and — when every score involved is finite — takes
the maximum over those only (a previous state with no transition adds jieba's ``MIN_INF``,
-3.14e100, and can only win when scores have already left the finite range, where the full
search is kept). :func:`tagger` is jieba's tagger using it; ``tests/ingest/test_postag.py``
compares both on every run of the seed speeches and on random text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

#: A score below this holds a MIN_FLOAT/MIN_INF term: the restricted search is not used.
_FINITE = -1e99


@lru_cache(maxsize=1)
def _tables() -> tuple[Any, ...]:
    from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P
    from jieba.posseg.viterbi import MIN_FLOAT, MIN_INF

    prev_of: dict[Any, frozenset[Any]] = {}
    for x, following in trans_P.items():
        for y in following:
            prev_of[y] = prev_of.get(y, frozenset()) | {x}
    has_next = frozenset(x for x, following in trans_P.items() if following)
    return char_state_tab_P, start_P, trans_P, emit_P, MIN_FLOAT, MIN_INF, prev_of, has_next


def viterbi(obs: str) -> tuple[float, list[Any]]:
    """``jieba.posseg.viterbi.viterbi(obs, char_state_tab_P, start_P, trans_P, emit_P)``, faster."""
    states, start_p, trans_p, emit_p, min_float, min_inf, prev_of, has_next = _tables()
    all_states = trans_p.keys()
    empty: frozenset[Any] = frozenset()
    V: list[dict[Any, float]] = [{}]
    mem_path: list[dict[Any, Any]] = [{}]
    for y in states.get(obs[0], all_states):
        V[0][y] = start_p[y] + emit_p[y].get(obs[0], min_float)
        mem_path[0][y] = ""
    for t in range(1, len(obs)):
        here: dict[Any, float] = {}
        path: dict[Any, Any] = {}
        V.append(here)
        mem_path.append(path)
        before = V[t - 1]
        prev_states = [x for x in mem_path[t - 1] if x in has_next]
        prev_set = frozenset(prev_states)
        obs_states: Any = [y for y in states.get(obs[t], all_states) if not prev_of.get(y, empty).isdisjoint(prev_set)]
        full = not obs_states
        if full:  # as jieba: every state some previous state leads to, else every state
            expected = {y for x in prev_states for y in trans_p[x]}
            obs_states = expected if expected else all_states
        finite = not full and min(before[x] for x in prev_states) > _FINITE
        char = obs[t]
        for y in obs_states:
            emit = emit_p[y].get(char, min_float)
            among = prev_of[y] & prev_set if finite and emit > _FINITE else prev_states
            prob, state = max((before[y0] + trans_p[y0].get(y, min_inf) + emit, y0) for y0 in among)
            here[y] = prob
            path[y] = state
    prob, state = max((V[-1][y], y) for y in mem_path[-1])
    route: list[Any] = [None] * len(obs)
    i = len(obs) - 1
    while i >= 0:
        route[i] = state
        state = mem_path[i][state]
        i -= 1
    return prob, route


@lru_cache(maxsize=1)
def tagger() -> Any:
    """jieba's default tagger (``jieba.posseg.dt``, its dictionary and state shared) with :func:`viterbi`."""
    import jieba.posseg

    class Tagger(jieba.posseg.POSTokenizer):
        def _POSTokenizer__cut(self, sentence: str) -> Any:  # noqa: N802 (jieba's private name)
            # jieba.posseg.POSTokenizer.__cut with the Viterbi above
            _, pos_list = viterbi(sentence)
            begin, nexti = 0, 0
            for i, char in enumerate(sentence):
                pos = pos_list[i][0]
                if pos == "B":
                    begin = i
                elif pos == "E":
                    yield jieba.posseg.pair(sentence[begin : i + 1], pos_list[i][1])
                    nexti = i + 1
                elif pos == "S":
                    yield jieba.posseg.pair(char, pos_list[i][1])
                    nexti = i + 1
            if nexti < len(sentence):
                yield jieba.posseg.pair(sentence[nexti:], pos_list[nexti][1])

    fast = Tagger.__new__(Tagger)
    fast.__dict__ = jieba.posseg.dt.__dict__  # the same dictionary, tags and user words
    return fast


# --------------------------------------------------------------------------- jieba.finalseg


@lru_cache(maxsize=1)
def _hmm_tables() -> tuple[Any, ...]:
    from jieba import finalseg

    t, min_float = finalseg.trans_P, finalseg.MIN_FLOAT

    def tr(x: str, y: str) -> float:
        return float(t[x].get(y, min_float))

    # the transitions of finalseg.PrevStatus (B ← E, S; M ← M, B; S ← S, E; E ← B, M)
    return (finalseg.start_P, finalseg.emit_P, min_float,
            tr("E", "B"), tr("S", "B"), tr("M", "M"), tr("B", "M"), tr("S", "S"), tr("E", "S"), tr("B", "E"), tr("M", "E"))


def hmm_states(obs: str) -> str:
    """The states (B, M, E, S) of ``jieba.finalseg.viterbi(obs, 'BMES', …)``, one per character.

    jieba's search with its four states written out: each state has two previous states
    (``PrevStatus``); the same sums in the same order (previous score + transition +
    emission), and the same ties as jieba's ``max`` over ``(score, state)`` — the later
    letter wins (S over E, M over B), as in the last step (S over E).
    """
    start_p, emit_p, min_float, eb, sb, mm, bm, ss, es, be, me = _hmm_tables()
    e_b, e_m, e_e, e_s = emit_p["B"].get, emit_p["M"].get, emit_p["E"].get, emit_p["S"].get
    ch = obs[0]
    vb = start_p["B"] + e_b(ch, min_float)
    vm = start_p["M"] + e_m(ch, min_float)
    ve = start_p["E"] + e_e(ch, min_float)
    vs = start_p["S"] + e_s(ch, min_float)
    back: list[tuple[str, str, str, str]] = []  # per character after the first: previous state of B, M, E, S
    for ch in obs[1:]:
        em = e_b(ch, min_float)
        x, y = ve + eb + em, vs + sb + em
        nb, pb = (y, "S") if y >= x else (x, "E")
        em = e_m(ch, min_float)
        x, y = vm + mm + em, vb + bm + em
        nm, pm = (x, "M") if x >= y else (y, "B")
        em = e_s(ch, min_float)
        x, y = vs + ss + em, ve + es + em
        ns, ps = (x, "S") if x >= y else (y, "E")
        em = e_e(ch, min_float)
        x, y = vb + be + em, vm + me + em
        ne, pe = (y, "M") if y >= x else (x, "B")
        vb, vm, ve, vs = nb, nm, ne, ns
        back.append((pb, pm, pe, ps))
    state = "S" if vs >= ve else "E"
    out = [state]
    for pb, pm, pe, ps in reversed(back):
        state = pb if state == "B" else pm if state == "M" else pe if state == "E" else ps
        out.append(state)
    return "".join(reversed(out))


def hmm_cut(run: str) -> list[str]:
    """``list(jieba.finalseg.cut(run))``: jieba's HMM words of a run the dictionary does not know,
    with :func:`hmm_states` for jieba's Viterbi."""
    from jieba import finalseg

    out: list[str] = []
    force = finalseg.Force_Split_Words
    for blk in finalseg.re_han.split(run):
        if finalseg.re_han.match(blk):
            states = hmm_states(blk)
            begin = nexti = 0
            words: list[str] = []
            for i, pos in enumerate(states):  # jieba.finalseg.__cut
                if pos == "B":
                    begin = i
                elif pos == "E":
                    words.append(blk[begin : i + 1])
                    nexti = i + 1
                elif pos == "S":
                    words.append(blk[i])
                    nexti = i + 1
            if nexti < len(blk):
                words.append(blk[nexti:])
            for word in words:
                if word in force:
                    out.extend(word)
                else:
                    out.append(word)
        else:
            out.extend(x for x in finalseg.re_skip.split(blk) if x)
    return out
