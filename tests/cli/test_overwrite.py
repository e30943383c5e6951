"""compose and export never destroy work: edited outputs, inputs named as outputs, bad disks.

An output is replaced silently only when it is byte-identical to what speechgen last wrote
there (the SHA-256 kept in .NAME.speechgen beside it); otherwise exit 2 naming --force,
the file untouched; --force keeps the old file as NAME~ (then NAME.~1~, …).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from test_errors import BRIEF, LIB
from typer.testing import CliRunner

from speechgen.cli import app

runner = CliRunner()


def run(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.yaml").write_text(LIB, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(BRIEF, encoding="utf-8")
    return tmp_path


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("out", ["讲话稿.docx", "讲话稿.md", "讲话稿.txt"])
def test_unchanged_output_is_rewritten_silently(here: Path, out: str) -> None:
    assert run("compose", "b.yaml", "-L", "lib", "-o", out)[0] == 0
    assert Path(f".{out}.speechgen").read_text(encoding="ascii").startswith("sha256 ")
    code, stdout, err = run("compose", "b.yaml", "-L", "lib", "-o", out)
    assert (code, err) == (0, "")
    assert "Kept the old" not in stdout
    assert listing(here) == sorted(["b.yaml", "lib", "lib/a.yaml", out, f".{out}.speechgen"])


@pytest.mark.parametrize("out", ["讲话稿.docx", "讲话稿.md", "讲话稿.txt"])
def test_edited_output_is_refused_and_left_byte_identical(here: Path, out: str) -> None:
    assert run("compose", "b.yaml", "-L", "lib", "-o", out)[0] == 0
    with Path(out).open("ab") as f:
        f.write(b"\n")  # the writer's edit
    edited = Path(out).read_bytes()
    code, stdout, err = run("compose", "b.yaml", "-L", "lib", "-o", out)
    assert (code, stdout) == (2, "")
    assert err == (
        f"Error: {out}: changed since speechgen wrote it (edited by hand?) — give -o another file, "
        f"or use --force to replace it (the old file is kept as {out}~)\n"
    )
    assert Path(out).read_bytes() == edited
    assert not Path(f"{out}~").exists()


def test_a_file_speechgen_never_wrote_is_refused(here: Path) -> None:
    doc = docx.Document()
    doc.add_paragraph("领导改过的稿子")
    doc.save("讲话稿.docx")
    before = Path("讲话稿.docx").read_bytes()
    code, _, err = run("export", "b.yaml", "-o", "讲话稿.docx")
    assert code == 2  # (export reads .md only)
    Path("d.md").write_text("# 讲话\n\n同志们：\n", encoding="utf-8")
    code, stdout, err = run("export", "d.md", "-o", "讲话稿.docx")
    assert (code, stdout) == (2, "")
    assert err == (
        "Error: 讲话稿.docx: was not written by speechgen (edited by hand?) — give -o another file, "
        "or use --force to replace it (the old file is kept as 讲话稿.docx~)\n"
    )
    assert Path("讲话稿.docx").read_bytes() == before


def test_force_keeps_the_old_file_as_a_backup_then_numbered_ones(here: Path) -> None:
    assert run("compose", "b.yaml", "-L", "lib", "-o", "讲话稿.md")[0] == 0
    Path("讲话稿.md").write_text("第一次修改\n", encoding="utf-8")
    code, stdout, err = run("compose", "b.yaml", "-L", "lib", "-o", "讲话稿.md", "--force")
    assert (code, err) == (0, "")
    assert stdout.endswith("Kept the old 讲话稿.md as 讲话稿.md~\n")
    assert Path("讲话稿.md~").read_text(encoding="utf-8") == "第一次修改\n"
    Path("讲话稿.md").write_text("第二次修改\n", encoding="utf-8")
    code, stdout, err = run("compose", "b.yaml", "-L", "lib", "-o", "讲话稿.md", "--force")
    assert stdout.endswith("Kept the old 讲话稿.md as 讲话稿.md.~1~\n")
    assert Path("讲话稿.md.~1~").read_text(encoding="utf-8") == "第二次修改\n"
    assert Path("讲话稿.md~").read_text(encoding="utf-8") == "第一次修改\n"
    assert Path("讲话稿.md").read_text(encoding="utf-8").startswith("---\n")
    assert run("compose", "b.yaml", "-L", "lib", "-o", "讲话稿.md")[0] == 0  # ours again: no --force needed


def test_export_with_force_replaces_a_docx_edited_in_word(here: Path) -> None:
    assert run("compose", "b.yaml", "-L", "lib", "-o", "d.md")[0] == 0
    assert run("export", "d.md", "-o", "讲话稿.docx")[0] == 0
    doc = docx.Document("讲话稿.docx")
    doc.add_paragraph("在Word里加的一段")
    doc.save("讲话稿.docx")
    assert run("export", "d.md", "-o", "讲话稿.docx")[0] == 2
    code, stdout, _ = run("export", "d.md", "-o", "讲话稿.docx", "--force")
    assert code == 0 and stdout.endswith("Kept the old 讲话稿.docx as 讲话稿.docx~\n")
    assert "在Word里加的一段" in [p.text for p in docx.Document("讲话稿.docx~").paragraphs]


# --------------------------------------------------------------------------- outputs that are inputs


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compose", "b.yaml", "-L", "lib", "-o", "b.txt"], None),
        (["export", "d.md", "-o", "d.md"],
         "Error: d.md: is the draft being exported 'd.md' — writing the draft there would destroy it; "
         "give -o another file\n"),
        (["export", "d.md", "-o", "same.md"],
         "Error: same.md: is the draft being exported 'd.md' — writing the draft there would destroy it; "
         "give -o another file\n"),
        (["compose", "brief.txt", "-L", "lib", "-o", "brief.txt"],
         "Error: brief.txt: is the brief 'brief.txt' — writing the draft there would destroy it; "
         "give -o another file\n"),
        (["compose", "b.yaml", "-L", "lib", "-o", "link.txt"],
         "Error: link.txt: is the brief 'b.yaml' — writing the draft there would destroy it; "
         "give -o another file\n"),
        (["compose", "b.yaml", "-L", "lib", "-o", "office.docx", "--reference-docx", "office.docx"],
         "Error: office.docx: is the reference document 'office.docx' — writing the draft there would "
         "destroy it; give -o another file\n"),
        (["compose", "b.yaml", "-L", "lib", "-o", "lib/frag.md"],
         "Error: lib/frag.md: is the fragment library file 'lib/a.yaml' — writing the draft there "
         "would destroy it; give -o another file\n"),
        (["compose", "b.yaml", "-L", "lib", "-o", "loop.docx"],
         "Error: loop.docx: is a symbolic link that loops — remove it (rm 'loop.docx') or give -o another file\n"),
    ],
    ids=["fine", "export-onto-its-draft", "hard-link-to-the-draft", "compose-onto-its-brief",
         "symlink-to-the-brief", "onto-the-reference", "onto-a-library-file", "symlink-loop"],
)
def test_outputs_that_would_destroy_an_input_are_refused(here: Path, args: list[str], message: str | None) -> None:
    Path("d.md").write_text("# 讲话\n\n同志们：\n", encoding="utf-8")
    os.link("d.md", "same.md")
    Path("brief.txt").write_text(BRIEF, encoding="utf-8")
    os.symlink("b.yaml", "link.txt")
    os.symlink("loop.docx", "loop.docx")
    os.symlink("a.yaml", "lib/frag.md")
    doc = docx.Document()
    doc.save("office.docx")
    before = {p: p.read_bytes() for p in here.rglob("*") if p.is_file() and not p.is_symlink()}
    code, stdout, err = run(*args)
    if message is None:
        assert (code, err) == (0, "")
        return
    assert (code, stdout, err) == (2, "", message)
    assert {p: p.read_bytes() for p in here.rglob("*") if p.is_file() and not p.is_symlink()} == before
    assert Path("loop.docx").is_symlink() and Path("link.txt").is_symlink()


# --------------------------------------------------------------------------- bad disks and archives


def test_a_write_that_fails_half_way_prints_one_message_and_no_traceback(here: Path) -> None:
    """A real failing write: a file-size limit (as a full disk) set just before the output is
    written, after the caches are read. One message, no ZipFile.__del__ noise after it."""
    code = (
        "import resource, signal, sys\n"
        "import speechgen.output as output\n"
        "real = output.atomic_write\n"
        "def limited(path, write):\n"
        "    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "    resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))\n"
        "    return real(path, write)\n"
        "output.atomic_write = limited\n"
        "sys.argv = ['speechgen', 'compose', 'b.yaml', '-L', 'lib', '-o', '讲话稿.docx']\n"
        "from speechgen.cli import main\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "Error: 讲话稿.docx: cannot write here (File too large) — choose another path\n"
    assert listing(here) == ["b.yaml", "lib", "lib/a.yaml"]


def bomb(path: Path, size: int) -> Path:
    """A .docx whose zip directory promises *size* bytes unpacked (zeros compress 1000:1)."""
    doc = docx.Document()
    doc.save(str(path))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as z:
        with z.open("word/media/zeros.bin", "w", force_zip64=True) as f:
            block = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(block)
    return path


def test_a_reference_docx_that_unpacks_hugely_is_refused_unread(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb(here / "office.docx", 70 << 20)
    assert Path("office.docx").stat().st_size < 1 << 20
    import speechgen.export.docx

    opened: list[object] = []
    monkeypatch.setattr(speechgen.export.docx, "_as_document", lambda data: opened.append(1) or data)
    code, stdout, err = run("compose", "b.yaml", "-L", "lib", "-o", "out.docx", "--reference-docx", "office.docx")
    assert (code, stdout) == (2, "")
    assert err == (
        "Error: office.docx: unpacks to 70 MB — a reference document holds styles and page setup, "
        "not over 50 MB; give a smaller .docx\n"
    )
    assert opened == [] and not Path("out.docx").exists()


def test_a_reference_docx_that_is_a_device_or_too_big_is_refused(here: Path) -> None:
    code, _, err = run("compose", "b.yaml", "-L", "lib", "-o", "out.docx", "--reference-docx", "/dev/zero")
    assert (code, err) == (
        2, "Error: /dev/zero: not a regular file (a device, pipe or socket) — give a Word document (.docx)\n"
    )
    with Path("big.docx").open("wb") as f:
        f.truncate(51 << 20)  # sparse: 51 MB on paper
    code, _, err = run("compose", "b.yaml", "-L", "lib", "-o", "out.docx", "--reference-docx", "big.docx")
    assert (code, err) == (
        2, "Error: big.docx: 51 MB — a reference document holds styles and page setup, not over 50 MB; "
        "give a smaller .docx\n"
    )
    assert not Path("out.docx").exists()


def test_a_reference_docx_that_cannot_be_read(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    docx.Document().save("office.docx")
    real = Path.read_bytes

    def failing(self: Path) -> bytes:
        if self.name == "office.docx":
            raise OSError(errno.EIO, "Input/output error")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", failing)
    code, _, err = run("compose", "b.yaml", "-L", "lib", "-o", "out.docx", "--reference-docx", "office.docx")
    assert (code, err) == (2, "Error: office.docx: cannot read it (Input/output error) — give a readable .docx\n")
