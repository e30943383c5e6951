"""Outside checks of every .docx the tests write: Microsoft's schema validator and two readers.

* :class:`Validator` runs ``tests/ooxml_validate.mjs`` (the Open XML SDK compiled for Node,
  npm package ``@ooxml-tools/validate``) as one long-lived process; ``.ci/run`` installs it
  and names its folder in ``SPEECHGEN_OOXML_VALIDATE``.
* :func:`reader_paragraphs` reads a .docx with python-docx, docx2python and mammoth, which
  must agree on every paragraph's text.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "@ooxml-tools/validate"


def validator_problem() -> tuple[str, bool]:
    """Why the validator cannot run here ("" when it can), and whether that is a skip.

    Without Node a local run skips the validation; in CI (CI=true) nothing skips.
    """
    if shutil.which("node") is None:
        return "Node.js (node) is not installed — apt-get install nodejs npm", not os.environ.get("CI")
    prefix = os.environ.get("SPEECHGEN_OOXML_VALIDATE", "")
    entry = Path(prefix, "node_modules", *PACKAGE.split("/"), "package.json")
    if not prefix or not entry.is_file():
        return (
            f"the validator is not installed — npm install --prefix DIR {PACKAGE}, then "
            "export SPEECHGEN_OOXML_VALIDATE=DIR (.ci/run does this)",
            False,
        )
    return "", False


class Validator:
    """One Node process validating .docx files in the background, in the order given."""

    def __init__(self) -> None:
        env = dict(os.environ)
        self._proc = subprocess.Popen(
            ["node", str(HERE / "ooxml_validate.mjs")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, bufsize=1,
        )  # fmt: skip
        self._lock = threading.Lock()
        self.results: dict[str, list[dict[str, object]]] = {}

    def check(self, path: Path) -> list[dict[str, object]]:
        """The validator's errors for *path* (waits for it)."""
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(f"{path}\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the OOXML validator stopped")
        found = json.loads(line)
        return list(found["errors"])

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()


def describe(errors: list[dict[str, object]]) -> str:
    """The validator's errors, one a line: part, XPath and description."""
    out = []
    for e in errors:
        where = e.get("path") or {}
        assert isinstance(where, dict)
        out.append(f"{where.get('partUri', '')} {where.get('xpath', '')}: {e.get('description')}")
    return "\n".join(out)


def reader_paragraphs(path: Path) -> dict[str, list[str]]:
    """The body paragraphs' text as python-docx, docx2python and mammoth read it.

    A line break inside a paragraph (the title's) is dropped: mammoth's raw text drops it.
    """
    import docx
    import mammoth
    from docx2python import docx2python

    flat = [p.text.replace("\n", "") for p in docx.Document(str(path)).paragraphs]
    with docx2python(str(path)) as read:
        d2p = [p.replace("\n", "") for table in read.body for row in table for cell in row for p in cell]
    with path.open("rb") as f:
        raw = mammoth.extract_raw_text(f).value
    mam = raw.split("\n\n")
    if mam and mam[-1] == "":
        mam.pop()
    return {"python-docx": flat, "docx2python": d2p, "mammoth": [p.replace("\n", "") for p in mam]}
