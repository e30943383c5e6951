"""tags: keywords with reused tagging give exactly what jieba's extract_tags gives."""

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
    first = tags.keywords(text, top=5)
    info = tags._tagged.cache_info()
    assert info.hits >= 1  # 坚持以学铸魂 occurs twice: tagged once
    calls = []
    monkeypatch.setattr(tags, "_tagged", lambda block: calls.append(block) or ())
    assert tags.keywords(text, top=5) == first and calls == []
    assert tags.keywords("另一段文字，讲调查研究。", top=5) == [] and calls
