"""Shared fixtures: every test gets its own cache folder and no stray library paths."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "corpus" / "seeds"
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("SPEECHGEN_LIBRARY", raising=False)
    monkeypatch.delenv("SPEECHGEN_NO_CACHE", raising=False)
    monkeypatch.delenv("SPEECHGEN_DEBUG", raising=False)
    monkeypatch.delenv("SPEECHGEN_DATABASE", raising=False)


# --------------------------------------------------------------------------- every .docx written
# Each .docx that speechgen writes during a test (python-docx's save, through
# speechgen.export.docx) is copied aside and, when the test ends, read by python-docx,
# docx2python and mammoth (they must agree on every paragraph) and checked by Microsoft's
# schema validator (tests/docx_checks.py): a failure is an error of that test.

_validated: dict[str, list[dict[str, object]]] = {}  # normalised content hash → errors
_read: set[str] = set()  # documents the three readers agreed on
_pending: list[tuple[str, Path, Any]] = []  # (test, copy, future of the validator's errors)
_state: dict[str, object] = {}


def normalised_hash(data: bytes, words: bool = False) -> str:
    """The hash of a .docx without its timestamps (and its words, unless *words*), so the
    copies of one document are read once and those of one layout validated once."""
    import hashlib
    import io
    import re
    import zipfile

    digest = hashlib.sha256()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in sorted(z.namelist()):
            body = z.read(name)
            # the words do not change what the schema checks; dates and text are left out
            body = re.sub(rb"<dcterms:(created|modified)[^<]*</dcterms:\1>", b"", body)
            body = re.sub(rb' w:date="[^"]*"', b"", body)
            if not words:
                body = re.sub(rb"(<(w:t|w:instrText|dc:\w+|cp:\w+)(?: [^>]*)?>)[^<]*(</\2>)", rb"\1\3", body)
            digest.update(name.encode() + b"\0" + body + b"\0")
    return digest.hexdigest()


def docx_parts(path: Path) -> dict[str, bytes]:
    """Every part of a .docx by name, less what only says when it was written: the core
    properties (created, modified) and each comment's ``w:date``."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}
    if "word/comments.xml" in parts:
        parts["word/comments.xml"] = re.sub(rb' w:date="[^"]*"', b"", parts["word/comments.xml"])
    return parts


def validator() -> object | None:
    """The session's validator process, or None when it cannot run here."""
    from docx_checks import Validator, validator_problem

    if "validator" not in _state:
        _state["validator"] = None if validator_problem()[0] else Validator()
    return _state["validator"]


@pytest.fixture(autouse=True)
def _outside_checks(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> object:
    import speechgen.export.docx as writer

    written: list[Path] = []
    real = writer.atomic_write_bytes

    def keep_a_copy(path: Path, data: bytes) -> None:
        real(path, data)
        copy = tmp_path_factory.mktemp("written") / path.name
        copy.write_bytes(data)
        written.append(copy)

    monkeypatch.setattr(writer, "atomic_write_bytes", keep_a_copy)
    yield
    check_written(written, request.node.nodeid)


def check_written(written: list[Path], nodeid: str) -> None:
    from docx_checks import Validator, describe, reader_paragraphs

    for copy in written:
        data = copy.read_bytes()
        same = normalised_hash(data, words=True)
        if same not in _read:  # mammoth takes over a second a document
            readers = reader_paragraphs(copy)
            assert readers["docx2python"] == readers["python-docx"], f"{copy}: docx2python reads other paragraphs"
            assert readers["mammoth"] == readers["python-docx"], f"{copy}: mammoth reads other paragraphs"
            _read.add(same)
        check = validator()
        if check is None:
            continue
        assert isinstance(check, Validator)
        key = normalised_hash(data)
        if key not in _validated:  # validated in the background (seconds a document)
            _validated[key] = []
            _pending.append((nodeid, copy, _pool().submit(check.check, copy)))


def _pool() -> Any:
    from concurrent.futures import ThreadPoolExecutor

    if "pool" not in _state:
        _state["pool"] = ThreadPoolExecutor(max_workers=1)
    return _state["pool"]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Wait for the validator; a .docx with schema errors fails the run, naming its test."""
    from docx_checks import describe

    failed = []
    for nodeid, copy, future in _pending:
        errors = future.result()
        if errors:
            failed.append(f"{nodeid}: {copy}\n{describe(errors)}")
    check = _state.get("validator")
    if check is not None:
        check.close()  # type: ignore[attr-defined]
        print(f"\nOOXML validator (Open XML SDK): {len(_pending)} distinct .docx layouts, "
              f"{len(failed)} with errors")
    if failed:
        print("\n".join(failed))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

