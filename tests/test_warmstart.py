"""warmstart: what an earlier run compiled is the same as a fresh compile."""

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
from speechgen import warmstart
warmstart.install()
import speechgen.lint.text, speechgen.lint.names, speechgen.lint.level, speechgen.facts  # their patterns
import speechgen.model, speechgen.draft  # their dataclasses
re.compile(r"(?P<n>[\u4e00-\u9fff]+)第(?P<k>[一二三])批")
"""

_SECOND = r"""
import dataclasses, inspect, re, sys
from speechgen import warmstart
compile_fresh = re._compiler.compile
warmstart.install()
patterns, codes = warmstart._state["patterns"], warmstart._state["codes"]
for (pattern, flags) in patterns:
    cached = re._cache[(type(pattern), pattern, flags)]
    fresh = compile_fresh(pattern, flags)
    assert cached == fresh and cached.groupindex == fresh.groupindex and cached.groups == fresh.groups, pattern
for source, code in codes.items():
    assert code == compile(source, "<string>", "exec", dont_inherit=True), source
m = re.compile(r"(?P<n>[\u4e00-\u9fff]+)第(?P<k>[一二三])批").search("xx主题教育第二批")
assert m and m.group("n") == "主题教育" and m.group("k") == "二"
from speechgen.model import Fragment, Source
assert not warmstart._state["sources"]  # every dataclass method came from the stored code
shown = (str(inspect.signature(Fragment)), repr(Fragment.__init__.__annotations__), Source.__eq__.__qualname__)
print(len(patterns), len(codes), shown)
"""

_PLAIN = r"""
import inspect
from speechgen.model import Fragment, Source
print(0, 0, (str(inspect.signature(Fragment)), repr(Fragment.__init__.__annotations__), Source.__eq__.__qualname__))
"""


def _run(script: str, cache: Path) -> str:
    env = dict(os.environ, SPEECHGEN_CACHE=str(cache))
    env.pop("SPEECHGEN_NO_CACHE", None)
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert done.stderr == "", done.stderr
    return done.stdout.strip()


def test_stored_patterns_and_code_are_a_fresh_compiles(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(_FIRST, cache)
    files = list((cache / "warm").iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600 and stat.S_IMODE((cache / "warm").stat().st_mode) == 0o700
    n_patterns, n_codes, shown = _run(_SECOND, cache).split(" ", 2)
    assert int(n_patterns) >= 10 and int(n_codes) >= 20  # the CJK classes of lint and facts; model's and draft's methods
    assert shown == _run(_PLAIN, cache).split(" ", 2)[2]  # the classes are the same as without warmstart


def test_a_damaged_or_foreign_file_is_not_read(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _run(_FIRST, cache)
    (path,) = (cache / "warm").iterdir()
    path.write_bytes(b"\x00garbage")
    _run(_FIRST + "\nassert warmstart._state['patterns'] == {} == warmstart._state['codes']\n", cache)
    assert int(_run(_SECOND, cache).split()[0]) >= 10  # stored again by the run that found it damaged
    path.chmod(0o666)  # writable by others: never read
    _run(_FIRST + "\nassert warmstart._state['patterns'] == {} == warmstart._state['codes']\n", cache)


def test_bad_code_is_refused_by_the_engine() -> None:
    from speechgen import warmstart

    flags, code, groups, groupindex, indexgroup = warmstart.entry(r"[\u4e00-\u9fff]+", 0)
    assert warmstart._build(r"[\u4e00-\u9fff]+", (flags, code, groups, groupindex, indexgroup)) is not None
    assert warmstart._build(r"[\u4e00-\u9fff]+", (flags, [99999, *code[1:]], groups, groupindex, indexgroup)) is None


def test_the_command_line_writes_the_golden_drafts_from_a_warm_start(tmp_path: Path) -> None:
    """The console script's first run stores the warm file, the next ones read it: the drafts
    (and the lint findings compose prints) stay the golden ones."""
    from conftest import ROOT

    env = dict(os.environ, SPEECHGEN_CACHE=str(tmp_path / "cache"))
    for key in ("SPEECHGEN_NO_CACHE", "SPEECHGEN_LIBRARY", "PYTHONPATH"):
        env.pop(key, None)
    for brief in ("推进会", "动员部署会"):
        outputs = []
        for run in range(2):
            out = tmp_path / f"{brief}-{run}.md"
            done = subprocess.run(
                [sys.executable, "-m", "speechgen.cli", "compose", str(ROOT / "examples" / f"{brief}.yaml"), "-o", str(out)],
                env=env, cwd=tmp_path, capture_output=True, text=True, check=True,
            )
            outputs.append((out.read_text(encoding="utf-8"), done.stdout.replace(out.name, "OUT")))
        assert (tmp_path / "cache" / "warm").is_dir() and any((tmp_path / "cache" / "warm").iterdir())
        assert outputs[0] == outputs[1]
        assert outputs[1][0] == (ROOT / "tests" / "golden" / f"{brief}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "early"), [("speechgen", True), ("speechgen-script.py", True), ("other.py", False)])
def test_the_console_script_starts_before_typer_is_imported(tmp_path: Path, name: str, early: bool) -> None:
    """pip's ``speechgen`` launcher imports speechgen.cli first: the warm file is read before
    typer (whose patterns it then holds too); any other program importing it starts nothing."""
    script = tmp_path / name
    script.write_text(
        "import sys\n"
        "from speechgen.cli import main\n"
        "from speechgen import warmstart\n"
        "print(bool(warmstart._state), 'typer' in sys.modules)\n", encoding="utf-8")
    env = dict(os.environ, SPEECHGEN_CACHE=str(tmp_path / "cache"))
    env.pop("SPEECHGEN_NO_CACHE", None)
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == [str(early), "True"]
    if early:
        assert (tmp_path / "cache" / "warm").is_dir()
