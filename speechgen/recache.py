"""Compiled regular expressions kept in the cache folder between runs of the command line.

Python compiles every regular expression again in each new process. Most of speechgen's are
cheap, but a character class over the CJK ranges (``[\\u4e00-\\u9fff]``) costs re about 1 ms
to compile (it fills a table entry by entry in Python), and a compose meets dozens of them:
about 50 ms of CPU on each run, a sixth of a compose → .docx.

:func:`install` (called first by the console script) reads the compiled form of the patterns
earlier runs took longest to compile — the code list re hands to its C engine, with the
groups — and puts the ready pattern objects in ``re``'s own cache, where ``re.compile`` finds
them; the engine checks such code before it accepts it (``_sre.compile`` validates). At exit,
patterns that were slow to compile and are not stored yet are added (at most
:data:`MAX_PATTERNS`). Nothing changes what a pattern matches: a stored pattern compares
equal (``==``: same text, flags and code) to a fresh compile, which
``tests/test_recache.py`` checks for every stored one.

The file lives in ``<cache>/re/`` under the rules of :mod:`speechgen.cachefiles` (a folder only
this user may enter, a file only this user may write, named by the Python build), like
compiled template code; docs/security.md, "Cached template code". Off with the cache
(``SPEECHGEN_NO_CACHE``), on Pythons without ``re._compiler`` (3.10), and whenever the file
does not read back as expected.
"""

from __future__ import annotations

import atexit
import marshal
import re
import sys
import time
from typing import Any

#: The most patterns one cache file keeps (re's own cache holds 512).
MAX_PATTERNS = 400
#: A pattern is stored when its compile took at least this long (seconds): a CJK class does,
#: a short pattern built from a fragment's words does not.
SLOW = 0.0002

_state: dict[str, Any] = {}


def _key() -> str:
    import _sre

    from speechgen.cachefiles import digest

    return "patterns-" + digest("re-code", sys.version, str(_sre.MAGIC), str(_sre.CODESIZE))[:32]


def install() -> None:
    """Preload the stored patterns into re's cache; note the slow new ones to store at exit."""
    compiler = getattr(re, "_compiler", None)
    cache = getattr(re, "_cache", None)
    if _state or compiler is None or not isinstance(cache, dict) or not callable(getattr(compiler, "compile", None)):
        return
    from speechgen.cachefiles import private_folder, read

    folder = private_folder("re")
    if folder is None:
        return
    _state["folder"] = folder
    stored = _load(read(folder, _key()))
    _state["stored"] = stored
    for (pattern, flags), entry in stored.items():
        compiled = _build(pattern, entry)
        if compiled is not None:
            cache[(type(pattern), pattern, flags)] = compiled
    slow: list[tuple[Any, int]] = []
    _state["slow"] = slow
    original = compiler.compile

    def timed(p: Any, flags: int = 0) -> Any:
        start = time.perf_counter()
        out = original(p, flags)
        if isinstance(p, (str, bytes)) and time.perf_counter() - start >= SLOW:
            slow.append((p, flags))
        return out

    compiler.compile = timed
    atexit.register(_save)


def _load(data: bytes | None) -> dict[tuple[Any, int], tuple[Any, ...]]:
    if not data:
        return {}
    try:
        stored = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return {}
    if not isinstance(stored, dict):
        return {}
    return {
        k: v for k, v in stored.items()
        if isinstance(k, tuple) and len(k) == 2 and isinstance(k[0], (str, bytes)) and isinstance(k[1], int)
        and isinstance(v, tuple) and len(v) == 5
    }


def _build(pattern: Any, entry: tuple[Any, ...]) -> Any:
    import _sre

    flags, code, groups, groupindex, indexgroup = entry
    try:
        return _sre.compile(pattern, flags, code, groups, groupindex, indexgroup)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return None


def entry(pattern: Any, flags: int) -> tuple[Any, ...]:
    """What ``re._compiler.compile`` hands to ``_sre.compile`` for *pattern* (its own steps)."""
    compiler = re._compiler  # type: ignore[attr-defined]
    parsed = re._parser.parse(pattern, flags)  # type: ignore[attr-defined]
    code = compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, i in groupindex.items():
        indexgroup[i] = name
    # re's opcodes are int subclasses (named constants): stored as plain ints
    return (int(flags | parsed.state.flags), [int(c) for c in code], parsed.state.groups - 1, groupindex,
            tuple(indexgroup))


def _save() -> None:
    from speechgen.cachefiles import write

    stored: dict[tuple[Any, int], tuple[Any, ...]] = _state.get("stored", {})
    added = 0
    for pattern, flags in dict.fromkeys(_state.get("slow", ())):
        if len(stored) >= MAX_PATTERNS:
            break
        if (pattern, flags) in stored or flags & re.DEBUG:
            continue
        try:
            stored[(pattern, flags)] = entry(pattern, flags)
        except (re.error, RecursionError, OverflowError, ValueError):
            continue
        added += 1
    if added:
        try:
            data = marshal.dumps(stored)
        except ValueError:  # something re produced that marshal cannot hold: keep no file
            return
        write(_state["folder"], _key(), data)
