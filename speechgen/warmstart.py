"""What Python compiles again in every new process, kept in the cache folder between runs.

A compose → .docx spends about a third of its own CPU time compiling things whose result
never changes between runs:

* **regular expressions** — a character class over the CJK ranges (``[\\u4e00-\\u9fff]``)
  costs re about 1 ms to compile (it fills a table entry by entry in Python), and a compose
  meets dozens of them (about 50 ms);
* **dataclass methods** — ``@dataclass`` writes each class's ``__init__``, ``__repr__``,
  ``__eq__``, … as source text and compiles it with ``exec`` (about 25 ms for the 27
  classes a compose loads).

:func:`install`, called first by the console script, reads what earlier runs compiled: for a
pattern, the code list re hands to its C engine (kept as its machine words, which read back
as one copy) and the groups; for a dataclass method, the
code object of that exact source text. The ready patterns go into ``re``'s own cache, where
``re.compile`` finds them (the engine checks such code before it accepts it:
``_sre.compile`` validates); ``dataclasses`` is given an ``exec`` that runs the stored code
object of a source text it has seen (compiled as ``exec`` would: same file name, same
code). At exit, what was new and worth it is added: patterns whose compile took
:data:`SLOW` or more, and every dataclass source, up to :data:`MAX_ITEMS` each.

Nothing changes what runs: a stored pattern compares equal (``==``: same text, flags and
code) to a fresh compile, and a stored code object to ``compile()`` of its text;
``tests/test_warmstart.py`` checks both for everything stored. The file lives in
``<cache>/warm/`` under the rules of :mod:`speechgen.cachefiles` (a folder only this user may
enter, a file only this user may write, named by the Python build) — the same rules as
compiled template code, docs/security.md, "Cached template code". Off with the cache
(``SPEECHGEN_NO_CACHE``), on Pythons without ``re._compiler`` (3.10), and for anything that
does not read back as expected.
"""

from __future__ import annotations

import atexit
import builtins
import marshal
import re
import sys
import time
from typing import Any

#: The most patterns (and, apart, dataclass sources) one cache file keeps (re caches 512).
MAX_ITEMS = 400
#: A pattern is stored when its compile took at least this long (seconds): a CJK class does,
#: a short pattern built from a fragment's words does not.
SLOW = 0.0002

_state: dict[str, Any] = {}
#: Bytes of a C ``unsigned int``: a pattern's code is stored as its machine words when
#: this is re's code size (``_sre.CODESIZE``), else as a list of ints.
_UINT = memoryview(bytes(8)).cast("I").itemsize
_CODE_FILE = "<string>"  # the file name exec gives the code it compiles from text


def _key() -> str:
    import _sre
    from importlib.util import MAGIC_NUMBER

    from speechgen.cachefiles import digest

    return "startup-" + digest("warmstart-2", sys.version, MAGIC_NUMBER, str(_sre.MAGIC), str(_sre.CODESIZE),
                               str(_UINT))[:32]


def console_script() -> bool:
    """True when the running program is the ``speechgen`` console script (pip's launcher,
    ``bin/speechgen`` or ``speechgen-script.py``), which imports the command line first."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not isinstance(path, str):
        return False
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name in ("speechgen", "speechgen-script.py", "speechgen-script.pyw")


def install() -> None:
    """Preload stored patterns and dataclass code; note what is new, to store it at exit."""
    compiler = getattr(re, "_compiler", None)
    cache = getattr(re, "_cache", None)
    if _state or compiler is None or not isinstance(cache, dict) or not callable(getattr(compiler, "compile", None)):
        return
    import dataclasses

    from speechgen.cachefiles import private_folder, read

    folder = private_folder("warm")
    if folder is None:
        return
    patterns, codes = _load(read(folder, _key()))
    _state.update(folder=folder, patterns=patterns, codes=codes, slow=[], sources=[])
    for (pattern, flags), entry in patterns.items():
        compiled = _build(pattern, entry)
        if compiled is not None:
            cache[(type(pattern), pattern, flags)] = compiled
    original = compiler.compile
    slow: list[tuple[Any, int]] = _state["slow"]

    def timed(p: Any, flags: int = 0) -> Any:
        start = time.perf_counter()
        out = original(p, flags)
        if isinstance(p, (str, bytes)) and time.perf_counter() - start >= SLOW:
            slow.append((p, flags))
        return out

    compiler.compile = timed
    sources: list[str] = _state["sources"]

    def stored_exec(source: Any, globals: Any = None, locals: Any = None) -> None:
        if isinstance(source, str):
            code = codes.get(source)
            if code is None:
                sources.append(source)
                code = _compile(source)
            source = code
        builtins.exec(source, globals, locals)

    dataclasses.exec = stored_exec  # type: ignore[attr-defined]  # the module's global, not the builtin
    atexit.register(_save)


def _compile(source: str) -> Any:
    """*source* compiled as ``exec`` compiles it for dataclasses: no __future__ flags of this module."""
    return compile(source, _CODE_FILE, "exec", dont_inherit=True)


def _load(data: bytes | None) -> tuple[dict[tuple[Any, int], tuple[Any, ...]], dict[str, Any]]:
    if not data:
        return {}, {}
    try:
        stored = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return {}, {}
    if not isinstance(stored, dict) or not isinstance(stored.get("re"), dict) or not isinstance(stored.get("code"), dict):
        return {}, {}
    patterns = {
        k: v for k, v in stored["re"].items()
        if isinstance(k, tuple) and len(k) == 2 and isinstance(k[0], (str, bytes)) and isinstance(k[1], int)
        and isinstance(v, tuple) and len(v) == 5
    }
    codes = {
        k: v for k, v in stored["code"].items()
        if isinstance(k, str) and type(v).__name__ == "code" and v.co_filename == _CODE_FILE
    }
    return patterns, codes


def _build(pattern: Any, entry: tuple[Any, ...]) -> Any:
    import _sre

    flags, code, groups, groupindex, indexgroup = entry
    try:
        if isinstance(code, bytes):  # machine words (see _packed): the list re's engine takes
            code = memoryview(code).cast("I").tolist()
        return _sre.compile(pattern, flags, code, groups, groupindex, indexgroup)
    except (TypeError, ValueError, RuntimeError, OverflowError):
        return None


def _packed(entry: tuple[Any, ...]) -> tuple[Any, ...]:
    """*entry* with its code as bytes: unmarshalling a list of 1,000 ints per CJK class is
    most of the cost of reading the file (4 ms of 5 for 120 patterns); bytes are copied."""
    import _sre
    from array import array

    flags, code, groups, groupindex, indexgroup = entry
    if _UINT != _sre.CODESIZE:
        return entry
    return (flags, array("I", code).tobytes(), groups, groupindex, indexgroup)


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

    patterns: dict[tuple[Any, int], tuple[Any, ...]] = _state["patterns"]
    codes: dict[str, Any] = _state["codes"]
    added = 0
    for pattern, flags in dict.fromkeys(_state["slow"]):
        if len(patterns) >= MAX_ITEMS:
            break
        if (pattern, flags) in patterns or flags & re.DEBUG:
            continue
        try:
            patterns[(pattern, flags)] = _packed(entry(pattern, flags))
        except (re.error, RecursionError, OverflowError, ValueError):
            continue
        added += 1
    for source in dict.fromkeys(_state["sources"]):
        if len(codes) >= MAX_ITEMS or source in codes:
            continue
        try:
            codes[source] = _compile(source)
        except (SyntaxError, ValueError, RecursionError):
            continue
        added += 1
    if added:
        try:
            data = marshal.dumps({"re": patterns, "code": codes})
        except ValueError:  # something marshal cannot hold: keep no file
            return
        write(_state["folder"], _key(), data)
