"""speechgen: draft Chinese meeting speeches (讲话稿) from a library of past ones.

The public API, one name per job (imported on first use, so ``import speechgen`` stays
cheap for the command line):

* :func:`ingest` — past speeches → fragment files (:mod:`speechgen.ingest`);
* :func:`open_store` / :func:`load_library` — the fragment library (:mod:`speechgen.library`);
* :func:`compose` / :func:`compose_file` — a brief → a :class:`Draft` (:mod:`speechgen.compose`);
* :func:`export` — a draft → .docx, .md or .txt (:mod:`speechgen.export`).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "ingest": "speechgen.ingest",
    "open_store": "speechgen.library",
    "load_library": "speechgen.library",
    "Filters": "speechgen.library",
    "compose": "speechgen.compose",
    "compose_file": "speechgen.compose",
    "format_summary": "speechgen.compose",
    "export": "speechgen.export",
    "Draft": "speechgen.draft",
    "SpeechgenError": "speechgen.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'speechgen' has no attribute {name!r}")
