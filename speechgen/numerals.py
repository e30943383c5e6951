"""Chinese numerals from cn2an, remembered across runs in the cache folder.

Importing cn2an compiles some eighty regular expressions (about 60 ms here), all for
features speechgen does not use. A speech needs only a handful of numerals (一…二十),
so each one cn2an gives is kept in ``numerals.json`` in the cache folder and most runs
never import cn2an at all.
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache

from speechgen.paths import cache_dir

_DIGITS = set("零一二三四五六七八九十百千万亿")


@lru_cache(maxsize=1)
def _memo() -> dict[str, str]:
    base = cache_dir()
    if base is None:
        return {}
    try:
        data = json.loads((base / "numerals.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    # Only well-formed entries: a damaged or edited file must not put junk into a speech.
    return {
        k: v
        for k, v in data.items()
        if isinstance(k, str) and k.isdigit() and isinstance(v, str) and v and set(v) <= _DIGITS
    }


def _save(memo: dict[str, str]) -> None:
    base = cache_dir()
    if base is None:
        return
    try:
        fd, tmp = tempfile.mkstemp(dir=base, prefix=".numerals.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(memo, fh, ensure_ascii=False, sort_keys=True)
        os.replace(tmp, base / "numerals.json")
    except OSError:
        pass  # only a cache


def chinese(n: int) -> str:
    """*n* in Chinese numerals, as cn2an writes it: 3 → 三, 12 → 十二, 20 → 二十."""
    memo = _memo()
    key = str(n)
    if key not in memo:
        import cn2an

        memo[key] = str(cn2an.an2cn(n))
        _save(memo)
    return memo[key]
