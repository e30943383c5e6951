"""The lint fixture corpus (tests/fixtures/lint): recall and precision at the targets, and
nothing at all on the clean real passages. ``python benchmarks/lint_corpus.py -v`` prints the
figures per rule with every miss and false alarm."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT

spec = importlib.util.spec_from_file_location("lint_corpus", ROOT / "benchmarks" / "lint_corpus.py")
assert spec and spec.loader
corpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(corpus)


@pytest.fixture(scope="module")
def scored() -> tuple:
    return corpus.score()


def test_recall_at_least_080(scored: tuple) -> None:
    tp, expected, *_ = scored
    assert sum(tp.values()) / sum(expected.values()) >= 0.80, scored[3]


def test_precision_at_least_090(scored: tuple) -> None:
    tp, _, reported, *_ = scored
    assert sum(tp.values()) / sum(reported.values()) >= 0.90, scored[4]


def test_nothing_on_clean_passages(scored: tuple) -> None:
    assert scored[5] == []


def test_every_rule_is_in_the_corpus(scored: tuple) -> None:
    from speechgen.lint import RULES

    _, expected, *_ = scored
    assert set(expected) == set(RULES)


def test_overlap() -> None:
    assert corpus.overlaps("第二批主题教育", "第二批主题教育开展以来")
    assert corpus.overlaps("我代表市委", "代表市委、市人大")
    assert not corpus.overlaps("全区", "全县")
