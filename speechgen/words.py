"""jieba word segmentation with the shipped domain dictionary (imported only when needed).

Used by ingest (keywords, structure). Search does not use jieba: its terms are in
:mod:`speechgen.library.terms`.
"""

from __future__ import annotations

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
def _jieba() -> Any:
    import jieba

    # jieba logs a traceback when its cache cannot be written (a read-only cache folder);
    # the cache is only a cache, so jieba says nothing.
    jieba.setLogLevel(logging.CRITICAL + 1)
    # jieba keeps its prefix-dictionary cache in speechgen's cache folder, never in the
    # shared temporary folder (/tmp/jieba.cache could be planted by another local user);
    # without a cache folder, in a private folder of this run, removed at exit.
    jieba.dt.tmp_dir = str(cache_dir() or _private_dir())
    jieba.dt.cache_file = None
    jieba.load_userdict(str(domain_dictionary()))
    return jieba


def _private_dir() -> str:
    import atexit
    import shutil
    import tempfile

    path = tempfile.mkdtemp(prefix="speechgen-jieba-")  # mode 0700: this user only
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def tokens(text: str) -> list[str]:
    """Words of *text* for indexing and queries: jieba tokens without punctuation or space."""
    jb = _jieba()
    return [w for w in jb.lcut(text) if _WORDISH.search(w)]


def keywords(text: str, top: int = 8) -> list[str]:
    """The *top* TF-IDF keywords of *text* (jieba.analyse with the domain dictionary)."""
    _jieba()
    import jieba.analyse

    return [str(w) for w in jieba.analyse.extract_tags(text, topK=top)]



def split(text: str) -> list[str]:
    """jieba's words of *text*, punctuation and space kept: joined, they give *text* back."""
    return [str(w) for w in _jieba().lcut(text)]
