"""Ingest on the speech structure fixtures (tests/fixtures/speeches/, issue #10).

Each fixture is ingested alone with the real pipeline; every expectation in its YAML
(point count, heading starts, title, salutation, closing, announced count, sub-points,
noise removed, text kept, one speech) is checked. The scoring lives in
``benchmarks/ingest_corpus.py`` so the benchmark and the tests cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import ROOT


def _load_scorer() -> ModuleType:
    path = ROOT / "benchmarks" / "ingest_corpus.py"
    spec = importlib.util.spec_from_file_location("ingest_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ingest_corpus"] = module
    spec.loader.exec_module(module)
    return module


scorer = _load_scorer()
FIXTURES: list[Path] = scorer.fixtures()
# Fixtures ingest does not read right yet; strict, so one that starts passing must leave the list.
KNOWN_WRONG: set[str] = set()


def test_the_corpus_is_there() -> None:
    assert len(FIXTURES) >= 30


@pytest.mark.parametrize("txt", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_structure(txt: Path, request: pytest.FixtureRequest) -> None:
    if txt.stem in KNOWN_WRONG:
        request.applymarker(pytest.mark.xfail(strict=True, reason="not read right yet"))
    result = scorer.score(txt.stem, scorer.expectation(txt), scorer.run_ingest(txt))
    assert result.failures() == []
