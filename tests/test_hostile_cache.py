"""Cache faults (issue 16, class 7): the cache and jieba's cache can fail; speechgen must not.

Whole-process tests run speechgen in a child with a memory limit (``resource.setrlimit``)
and a generous timeout; each asserts the exit status, the exact message and that no file
of the user changed. Tests run as root, so a missing permission is simulated where the
check happens (as in test_errors.py).
"""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEEDS
from typer.testing import CliRunner

from speechgen.cli import app

LIB = """\
source: {file: a.txt, meeting: 推进会, year: 2024}
fragments:
  - id: a.point.1
    kind: point
    heading: 深入调查研究
    text: 大兴调查研究之风，深入基层摸实情。
  - id: a.point.2
    kind: point
    heading: 力戒形式主义
    text: 坚决力戒形式主义，为基层减负。
"""
MEMORY = 1024 * 1024 * 1024  # bytes of address space a child may use
runner = CliRunner()


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def speechgen(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "speechgen.cli", *args], cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_limit,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.yaml").write_text(LIB, encoding="utf-8")
    return tmp_path


def child_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, SPEECHGEN_CACHE=str(tmp_path / "cache"), TMPDIR=str(tmp_path))
    env.pop("SPEECHGEN_NO_CACHE", None)
    env.pop("SPEECHGEN_LIBRARY", None)
    env.update(extra)
    return env


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_concurrent_cold_searches_all_succeed(here: Path) -> None:
    lib = snapshot(here / "lib")
    env = child_env(here)
    procs = [speechgen("fragments", "search", "调查研究", "-L", "lib", cwd=here, env=env) for _ in range(6)]
    results = [finish(p) for p in procs]
    assert [(code, err) for code, _, err in results] == [(0, "")] * 6
    assert len({out for _, out, _ in results}) == 1 and "a.point.1" in results[0][1]
    assert snapshot(here / "lib") == lib


def test_a_cache_path_that_is_a_folder_runs_uncached_with_a_warning(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen.library.sqlite import _db_path
    from speechgen.paths import library_dirs

    monkeypatch.setenv("SPEECHGEN_CACHE", str(here / "cache"))
    monkeypatch.delenv("SPEECHGEN_NO_CACHE", raising=False)
    db = Path(_db_path(library_dirs([Path("lib")])))
    db.mkdir(parents=True)
    code, out, err = finish(speechgen("fragments", "search", "形式主义", "-L", "lib", cwd=here, env=child_env(here)))
    assert code == 0 and "a.point.2" in out
    assert err == (
        f"warning: cannot use the cache {db} (it is a folder) — running without a cache, which is "
        "slower; make it a writable folder or set SPEECHGEN_CACHE to one\n"
    )
    assert db.is_dir() and not any(db.iterdir())


def test_a_read_only_cache_folder_runs_uncached_with_a_warning(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = here / "cache"
    cache.mkdir()
    monkeypatch.setenv("SPEECHGEN_CACHE", str(cache))
    monkeypatch.delenv("SPEECHGEN_NO_CACHE", raising=False)
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if Path(p) == cache else real(p, mode, **k))
    import speechgen.library.sqlite as store

    monkeypatch.setattr(store, "_warned", set())
    result = runner.invoke(app, ["fragments", "show", "a.point.1", "-L", "lib"])
    assert result.exit_code == 0 and "深入调查研究" in result.stdout
    assert result.stderr == (
        f"warning: cannot use the cache {cache} (the folder cannot be created or written) — running "
        "without a cache, which is slower; make it a writable folder or set SPEECHGEN_CACHE to one\n"
    )
    assert list(cache.iterdir()) == []


def test_jieba_never_uses_the_shared_temporary_cache(here: Path) -> None:
    planted = here / "jieba.cache"  # TMPDIR is here: where jieba would look by default
    planted.write_bytes(b"planted by another user")
    speech = here / "in" / SEEDS.glob("*.txt").__next__().name
    speech.parent.mkdir()
    speech.write_bytes(next(iter(sorted(SEEDS.glob("*.txt")))).read_bytes())
    env = child_env(here, SPEECHGEN_NO_CACHE="1")
    code, _, err = finish(speechgen("ingest", "in", "--out", "out", "--json", cwd=here, env=env))
    assert code == 0, err
    assert err == ""
    assert planted.read_bytes() == b"planted by another user"
    assert not list(here.glob("speechgen-jieba-*"))  # the private folder is gone


def test_jieba_says_nothing_when_its_cache_cannot_be_written(here: Path) -> None:
    (here / "cache" / "jieba.cache").mkdir(parents=True)  # jieba cannot write its cache there
    speech = here / "in" / "s.txt"
    speech.parent.mkdir()
    speech.write_bytes(sorted(SEEDS.glob("*.txt"))[0].read_bytes())
    code, _, err = finish(speechgen("ingest", "in", "--out", "out", "--json", cwd=here, env=child_env(here)))
    assert code == 0
    assert err == ""


def test_a_file_readable_again_is_read_again(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chmod changes neither size nor mtime, only ctime: the cache keys on all three."""
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self.name == "a.yaml":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    result = runner.invoke(app, ["fragments", "show", "a.point.1", "-L", "lib"])
    assert result.exit_code == 2
    assert result.stderr == "Error: fragment library: lib/a.yaml: cannot read (Permission denied)\n"
    monkeypatch.setattr(Path, "read_bytes", real)
    st = (here / "lib" / "a.yaml").stat()
    os.chmod(here / "lib" / "a.yaml", 0o644)  # made readable again: ctime moves
    assert (here / "lib" / "a.yaml").stat().st_mtime_ns == st.st_mtime_ns
    result = runner.invoke(app, ["fragments", "show", "a.point.1", "-L", "lib"])
    assert result.exit_code == 0, result.stderr


def test_an_unreadable_subfolder_is_reported(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sub = here / "lib" / "more"
    sub.mkdir()
    (sub / "b.yaml").write_text(LIB.replace("a.point", "b.point"), encoding="utf-8")
    real = os.scandir

    def scandir(path: object = ".") -> object:
        if Path(str(path)).resolve() == sub.resolve():
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    result = runner.invoke(app, ["fragments", "list", "-L", "lib"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: fragment library: lib/more: cannot read this folder (Permission denied) — make it "
        "readable, or move it out of the library folder\n"
    )


def test_a_duplicate_id_in_one_file_is_reported_at_its_own_line(here: Path) -> None:
    (here / "lib" / "a.yaml").write_text(LIB + LIB.split("fragments:\n")[1], encoding="utf-8")
    before = snapshot(here / "lib")
    result = runner.invoke(app, ["fragments", "list", "-L", "lib"])
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: 2 problems in the fragment library:\n"
        "  lib/a.yaml:11: duplicate id 'a.point.1' (first defined at lib/a.yaml:3) — rename one of them\n"
        "  lib/a.yaml:15: duplicate id 'a.point.2' (first defined at lib/a.yaml:7) — rename one of them\n"
    )
    assert snapshot(here / "lib") == before


# --------------------------------------------------------------------------- scale (issue 16, class 8)


def test_a_brief_beyond_any_real_use_is_refused_at_once(here: Path) -> None:
    points = "".join(f"  - a.point.{i}\n" for i in range(60_000))
    (here / "big.yaml").write_text(f"template: 推进会\ndate: 2024-03-15\npoints:\n{points}", encoding="utf-8")
    size = len((here / "big.yaml").read_text(encoding="utf-8"))
    code, out, err = finish(speechgen("compose", "big.yaml", "-L", "lib", "-o", "x.docx", cwd=here, env=child_env(here)))
    assert (code, out) == (2, "")
    assert err == (
        f"Error: big.yaml: {size:,} characters — a brief is a page or two; more than 200,000 is "
        "refused: split it, or list fewer points\n"
    )
    assert not (here / "x.docx").exists()


def test_a_brief_with_too_many_points_is_refused_before_any_lookup(here: Path) -> None:
    points = "".join("  - a.piont.1\n" for _ in range(1001))  # each would need a did-you-mean
    (here / "many.yaml").write_text(f"template: 推进会\ndate: 2024-03-15\npoints:\n{points}", encoding="utf-8")
    code, out, err = finish(speechgen("check", "many.yaml", "-L", "lib", cwd=here, env=child_env(here)))
    assert (code, out) == (2, "")
    assert err == (
        "Error: many.yaml:3: 'points' has 1,001 items — a speech has a handful; more than 1,000 is "
        "refused: split the brief\n"
    )


def test_a_30_mb_one_line_speech_is_refused_with_a_message(here: Path) -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0].read_text(encoding="utf-8").replace("\n", "")
    text = (seed * (10_000_000 // len(seed) + 1))[:10_000_000]
    (here / "in").mkdir()
    (here / "in" / "one.txt").write_text(text, encoding="utf-8")  # 30 MB of UTF-8
    size = (here / "in" / "one.txt").stat().st_size
    code, _, err = finish(speechgen("ingest", "in", "--out", "out", cwd=here, env=child_env(here)))
    assert code == 2
    assert err == (
        "Error: 1 problem while ingesting:\n"
        f"  in/one.txt: {size:,} bytes — a speech is rarely over 100,000 characters; more than "
        "2,000,000 characters is refused (is this one speech? split it)\n"
    )
    assert not (here / "out").exists()


def test_a_long_speech_under_the_limit_counts_characters(here: Path) -> None:
    """Between 2,000,000 characters and 8,000,000 bytes the decoded length decides."""
    (here / "in").mkdir()
    (here / "in" / "two.txt").write_text("同志们好。" * 420_000, encoding="utf-8")  # 2.1 M characters, 6.3 MB
    code, _, err = finish(speechgen("ingest", "in", "--out", "out", cwd=here, env=child_env(here)))
    assert code == 2
    assert err.endswith(
        "in/two.txt: 2,100,000 characters — a speech is rarely over 100,000 characters; more than "
        "2,000,000 characters is refused (is this one speech? split it)\n"
    )
    assert not (here / "out").exists()
