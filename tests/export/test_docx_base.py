"""The pre-styled base of Word drafts, built once and kept as bytes (memory and cache folder):
a draft written on a fresh, a remembered and a stored base is the same document."""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT, docx_parts

from speechgen import cachefiles
from speechgen.draft import from_markdown
from speechgen.export import docx as wd

FIXTURE = ROOT / "tests" / "fixtures" / "draft.md"


def parts(path: Path) -> dict[str, bytes]:
    return docx_parts(path)  # without the time of writing


def test_fresh_remembered_and_stored_bases_give_the_same_document(tmp_path: Path) -> None:
    draft = from_markdown(FIXTURE.read_text(encoding="utf-8"), FIXTURE.name)
    wd._BASE.clear()
    folder = cachefiles.private_folder("docx")
    assert folder is not None
    for old in folder.iterdir():
        old.unlink()
    wd.write_docx(draft, tmp_path / "fresh.docx")
    assert len(list(folder.iterdir())) == 1 and (next(folder.iterdir()).stat().st_mode & 0o777) == 0o600
    wd.write_docx(draft, tmp_path / "remembered.docx")
    wd._BASE.clear()
    wd.write_docx(draft, tmp_path / "stored.docx")
    fresh = parts(tmp_path / "fresh.docx")
    assert fresh == parts(tmp_path / "remembered.docx") == parts(tmp_path / "stored.docx")
