"""recache: regular expressions compiled by an earlier run are the same patterns as a fresh compile."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="re._compiler (Python 3.11+)")

_FIRST = r"""
import re, sys
from speechgen import recache
recache.install()
import speechgen.lint.text, speechgen.lint.names, speechgen.lint.level, speechgen.facts  # their patterns
re.compile(r"(?P<n>[\u4e00-\u9fff]+)第(?P<k>[一二三])批")
"""

_SECOND = r"""
import re, sys
from speechgen import recache
compile_fresh = re._compiler.compile
recache.install()
stored = recache._state["stored"]
same = 0
for (pattern, flags) in stored:
    cached = re._cache[(type(pattern), pattern, flags)]
    fresh = compile_fresh(pattern, flags)
    assert cached == fresh and cached.groupindex == fresh.groupindex and cached.groups == fresh.groups, pattern
    same += 1
m = re.compile(r"(?P<n>[\u4e00-\u9fff]+)第(?P<k>[一二三])批").search("xx主题教育第二批")
assert m and m.group("n") == "主题教育" and m.group("k") == "二"
print(same)
"""


def _run(script: str, cache: Path) -> str:
    env = dict(os.environ, SPEECHGEN_CACHE=str(cache))
    env.pop("SPEECHGEN_NO_CACHE", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stderr == "", done.stderr
    return done.stdout.strip()


def test_stored_patterns_compare_equal_to_a_fresh_compile(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(_FIRST, cache)
    files = list((cache / "re").iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600 and stat.S_IMODE((cache / "re").stat().st_mode) == 0o700
    assert int(_run(_SECOND, cache)) >= 10  # the lint and facts classes over the CJK ranges


def test_a_damaged_or_foreign_file_is_not_read(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(_FIRST, cache)
    (path,) = (cache / "re").iterdir()
    path.write_bytes(b"\x00garbage")
    _run(_FIRST + "\nassert recache._state['stored'] == {}\n", cache)  # read as empty, then stored again
    assert int(_run(_SECOND, cache)) >= 10
    path.chmod(0o666)  # writable by others: never read
    _run(_FIRST + "\nassert recache._state['stored'] == {}\n", cache)


def test_bad_code_is_refused_by_the_engine() -> None:
    from speechgen import recache

    flags, code, groups, groupindex, indexgroup = recache.entry(r"[\u4e00-\u9fff]+", 0)
    assert recache._build(r"[\u4e00-\u9fff]+", (flags, code, groups, groupindex, indexgroup)) is not None
    assert recache._build(r"[\u4e00-\u9fff]+", (flags, [99999, *code[1:]], groups, groupindex, indexgroup)) is None
