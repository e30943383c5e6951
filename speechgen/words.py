"""jieba word segmentation with the shipped domain dictionary (imported only when needed)."""

from __future__ import annotations

import hashlib
import logging
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from speechgen.paths import cache_dir

_WORDISH = re.compile(r"[\w\u4e00-\u9fff]")


def domain_dictionary() -> Path:
    """The path of the shipped domain dictionary (jieba user-dictionary format)."""
    return Path(str(resources.files("speechgen") / "data" / "domain_dict.txt"))


@lru_cache(maxsize=1)
def words_version() -> str:
    """Changes whenever tokens could: jieba's own dictionary or the domain dictionary.

    Found without importing jieba (that costs half a second).
    """
    from importlib.util import find_spec

    spec = find_spec("jieba")
    jieba_dict = Path(spec.origin).parent / "dict.txt" if spec and spec.origin else None
    stamp = ""
    if jieba_dict is not None and jieba_dict.exists():
        st = jieba_dict.stat()
        stamp = f"{jieba_dict} {st.st_size} {st.st_mtime_ns}"
    digest = hashlib.sha1(domain_dictionary().read_bytes()).hexdigest()[:12]
    return f"{stamp} domain {digest} search-mode"


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tmp = cache_dir()
    if tmp is not None:
        # jieba keeps its prefix-dictionary cache here; the default (/tmp) is shared.
        jieba.dt.tmp_dir = str(tmp)
    jieba.load_userdict(str(domain_dictionary()))
    return jieba


def tokens(text: str) -> list[str]:
    """Words of *text* for indexing and queries: jieba tokens without punctuation or space."""
    jb = _jieba()
    return [w for w in jb.lcut(text) if _WORDISH.search(w)]


def search_tokens(text: str) -> list[str]:
    """Words of *text* for the search index: jieba's search mode.

    Search mode also gives the shorter words inside a long one (政治责任感 → 政治, 责任,
    责任感, 政治责任感), so a query for part of a dictionary word still finds it.
    """
    jb = _jieba()
    return [w for w in jb.lcut_for_search(text) if _WORDISH.search(w)]


def keywords(text: str, top: int = 8) -> list[str]:
    """The *top* TF-IDF keywords of *text* (jieba.analyse with the domain dictionary)."""
    _jieba()
    import jieba.analyse

    return [str(w) for w in jieba.analyse.extract_tags(text, topK=top)]



def split(text: str) -> list[str]:
    """jieba's words of *text*, punctuation and space kept: joined, they give *text* back."""
    return [str(w) for w in _jieba().lcut(text)]
