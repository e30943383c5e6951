"""Shared fixtures: every test gets its own cache folder and no stray library paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus" / "seeds"
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("SPEECHGEN_LIBRARY", raising=False)
    monkeypatch.delenv("SPEECHGEN_NO_CACHE", raising=False)
    monkeypatch.delenv("SPEECHGEN_DEBUG", raising=False)
    monkeypatch.delenv("SPEECHGEN_DATABASE", raising=False)
