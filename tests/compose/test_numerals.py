"""Chinese numerals: cn2an's answers, remembered in the cache folder."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from speechgen import numerals


@pytest.fixture(autouse=True)
def _fresh_memo() -> None:
    numerals._memo.cache_clear()


def test_numerals_match_cn2an() -> None:
    import cn2an

    for n in (1, 2, 3, 9, 10, 11, 12, 19, 20, 21, 99, 100):
        assert numerals.chinese(n) == cn2an.an2cn(n)
    assert numerals.chinese(12) == "十二"


def test_remembered_numerals_need_no_cn2an(monkeypatch: pytest.MonkeyPatch) -> None:
    assert numerals.chinese(7) == "七"
    numerals._memo.cache_clear()  # as in a new process
    monkeypatch.setitem(sys.modules, "cn2an", None)  # importing it now fails
    assert numerals.chinese(7) == "七"
    with pytest.raises(ImportError):
        numerals.chinese(8)


def test_a_damaged_memo_is_ignored() -> None:
    memo = Path(os.environ["SPEECHGEN_CACHE"]) / "numerals.json"
    memo.write_text(json.dumps({"3": "<script>", "4": "四", "x": "五"}), encoding="utf-8")
    assert numerals.chinese(3) == "三"
    assert numerals.chinese(4) == "四"
    memo.write_text("{not json", encoding="utf-8")
    numerals._memo.cache_clear()
    assert numerals.chinese(5) == "五"
    assert json.loads(memo.read_text(encoding="utf-8")) == {"5": "五"}


def test_no_cache_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGEN_NO_CACHE", "1")
    assert numerals.chinese(6) == "六"
