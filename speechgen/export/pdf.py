"""PDF export: the Word manuscript rendered by LibreOffice, with stand-ins for the official fonts.

The .docx names 仿宋_GB2312, 黑体, 楷体_GB2312 and 方正小标宋简体; a Linux machine rarely has
them. ``speechgen/data/fonts.conf`` (fontconfig) maps each to an installed free face (Noto
CJK, AR PL UKai for 楷体 when fonts-arphic-ukai is installed), so the PDF looks like the
Word file. docs/word.md describes the mapping and what each reader does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from speechgen.draft import Draft
from speechgen.errors import OutputError
from speechgen.output import atomic_write_bytes
from speechgen.userfiles import display_path

#: The fontconfig file mapping the manuscript fonts to free ones (use it with FONTCONFIG_FILE).
FONTS_CONF = Path(__file__).resolve().parents[1] / "data" / "fonts.conf"
#: A long speech renders in a few seconds; a stuck LibreOffice must not hang the command.
TIMEOUT_S = 180


def soffice() -> str | None:
    """The LibreOffice command, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def write_pdf(draft: Draft, path: Path, reference_docx: Path | None = None) -> None:
    """Write *draft* as PDF: the .docx of :func:`~speechgen.export.docx.write_docx`, rendered.

    Raises:
        OutputError: LibreOffice is not installed or fails; *path* cannot be written.
    """
    from speechgen.export.docx import write_docx

    shown = display_path(path)
    if soffice() is None:
        raise OutputError(
            f"{shown}: writing PDF needs LibreOffice, which is not installed — install the package "
            "libreoffice-writer (apt-get install libreoffice-writer), or write .docx and print it from Word"
        )
    with tempfile.TemporaryDirectory(prefix="speechgen-pdf-") as work:
        source = Path(work) / "讲话稿.docx"
        write_docx(draft, source, reference_docx=reference_docx)
        atomic_write_bytes(path, render(source, Path(work), shown))


def render(docx: Path, work: Path, shown: str = "") -> bytes:
    """The PDF LibreOffice makes of *docx* (in *work*, with its own profile and the font map)."""
    cmd = [
        str(soffice()),
        f"-env:UserInstallation={(work / 'profile').as_uri()}",  # never the writer's open LibreOffice
        "--headless",
        "--convert-to",
        "pdf",
        "--outdir",
        str(work),
        str(docx),
    ]
    env = dict(os.environ, FONTCONFIG_FILE=str(FONTS_CONF), HOME=str(work))
    pdf = work / (docx.stem + ".pdf")
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise OutputError(f"{shown}: LibreOffice took over {TIMEOUT_S} s to render the PDF — try again, or write .docx") from None
    if not pdf.is_file():
        said = (done.stderr or done.stdout).strip().splitlines()
        raise OutputError(
            f"{shown}: LibreOffice made no PDF ({said[-1] if said else f'exit status {done.returncode}'}) "
            "— write .docx and convert it in LibreOffice or Word"
        )
    return pdf.read_bytes()
