"""Reading a draft to lint (.md, .txt, .docx) and the brief or front matter it is checked against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from speechgen.draft import Block, Draft, Span, paragraph, read_markdown
from speechgen.errors import SpeechgenError
from speechgen.lint import Finding, LintContext, lint_draft
from speechgen.lint.base import leading_mark
from speechgen.userfiles import display_path, read_user_text

FORMATS = (".md", ".txt", ".docx")


def load_draft(path: Path) -> tuple[Draft, list[int]]:
    """The draft at *path* and the line (paragraph number in .docx) of each block."""
    shown = display_path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise SpeechgenError(f"{shown}: lint reads .md, .txt and .docx drafts, not '{suffix or '(none)'}'")
    if suffix == ".docx":
        return _docx(path, shown)
    text = read_user_text(path, "draft", folder="give a draft file")
    if suffix == ".md":
        return read_markdown(text, shown)
    return text_draft(text)


def text_draft(text: str) -> tuple[Draft, list[int]]:
    """A plain-text draft: one paragraph a line (blank lines skipped); a first line with no
    sentence in it (在…会议上的讲话) is the title."""
    blocks: list[Block] = []
    lines: list[int] = []
    for no, line in enumerate(text.lstrip("\ufeff").split("\n"), 1):
        line = line.strip()
        if line:
            title = not blocks and len(line) <= 50 and not any(c in line for c in "。，；：！？") \
                and not leading_mark(line)
            blocks.append(Block("title" if title else "paragraph", (Span(line),)))  # plain text: no Markdown
            lines.append(no)
    return Draft(blocks[0].text if blocks else "", tuple(blocks)), lines


def _docx(path: Path, shown: str) -> tuple[Draft, list[int]]:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError:  # pragma: no cover - python-docx is a dependency
        raise SpeechgenError("reading .docx needs python-docx — pip install python-docx") from None
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise SpeechgenError(f"{shown}: not a Word document that can be read ({exc}) — save it again as .docx") from None
    blocks: list[Block] = []
    lines: list[int] = []
    for no, para in enumerate(document.paragraphs, 1):
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "").lower()
        kind: Any = "title" if style == "title" else "heading1" if style.startswith("heading") else "paragraph"
        blocks.append(Block(kind, paragraph(text).spans))
        lines.append(no)
    title = next((b.text for b in blocks if b.kind == "title"), blocks[0].text if blocks else "")
    from speechgen.draft import attach_provenance
    from speechgen.lint.docx_props import read_meta, read_provenance

    runs = read_provenance(document)  # compose's custom properties: the fragment of each paragraph
    if runs:
        blocks = attach_provenance(blocks, runs)
    return Draft(title, tuple(blocks), meta=read_meta(document),
                 origins={fid: origin for fid, origin, _, _ in runs if origin}), lines


def context_from(draft: Draft, brief: Path | None) -> LintContext:
    """What the draft is checked against: the brief when given, else the draft's front matter."""
    if brief is not None:
        data = read_brief(brief)
    else:
        data = dict(draft.meta)
        if draft.date is not None:
            data["date"] = draft.date.isoformat()
        elif draft.date_text:
            data["date"] = draft.date_text
    return context_of(data)


def read_brief(path: Path) -> dict[str, Any]:
    """The keys of a brief lint reads (date, campaign, meeting, vars, lint), as plain data."""
    from speechgen.userfiles import parse_yaml

    shown = display_path(path)
    data = parse_yaml(read_user_text(path, "brief", folder="give the brief's .yaml file"), shown)
    if not isinstance(data, dict):
        raise SpeechgenError(f"{shown}: a brief is a mapping of keys (template:, date:, …) — see docs/brief.md")
    out = dict(data)
    lint = data.get("lint")
    if isinstance(lint, dict):
        out["lint_ignore"] = lint.get("ignore") or ()
    return out


def context_of(data: dict[str, Any]) -> LintContext:
    """A context from plain keys: date, campaign, meeting, vars (or 本级/市名 at the top), lint ignore."""
    vars_ = {str(k): str(v) for k, v in (data.get("vars") or {}).items()} if isinstance(data.get("vars"), dict) else {}
    for key in ("本级", "市名", "上级"):
        if key in data and key not in vars_:
            vars_[key] = str(data[key])
    ignore = data.get("lint_ignore") or ()
    if isinstance(ignore, str):
        ignore = tuple(ignore.replace(",", " ").split())
    ignore = tuple(str(r) for r in ignore) if isinstance(ignore, (list, tuple)) else ()
    return LintContext(
        date=str(data.get("date") or ""), campaign=str(data.get("campaign") or ""),
        meeting=str(data.get("meeting") or ""), vars=vars_, ignore=tuple(ignore),
    )


def provenance(draft: Draft, dirs: list[Path] | None) -> tuple[dict[str, int], dict[str, tuple[Any, ...]]]:
    """The source year and the facts of each fragment the draft names (``<!-- fragment: ID -->``
    in .md, the custom properties of a .docx)."""
    ids = {b.source for b in draft.blocks if b.source}
    if not ids:
        return {}, {}
    from speechgen.library import open_store
    from speechgen.paths import library_dirs

    lib = open_store(library_dirs(list(dirs or []))).library()
    found = [lib.get(fid) for fid in ids if lib.has(fid)]
    return {f.id: f.source.year or 0 for f in found}, {f.id: f.facts for f in found if f.facts}


def lint_file(path: Path, brief: Path | None = None, dirs: list[Path] | None = None) -> list[Finding]:
    """Every finding in the draft at *path* (.md, .txt, .docx), against *brief* or its front matter.

    *dirs* are the library folders where the fragments named in a Markdown draft's
    provenance comments are looked up (for ``relative-date``).
    """
    from dataclasses import replace

    draft, lines = load_draft(path)
    context = context_from(draft, brief)
    years, facts = provenance(draft, dirs)
    if years:
        context = replace(context, years=years, facts=facts)
    return lint_draft(draft, context, lines=lines)


def format_findings(shown: str, findings: list[Finding]) -> str:
    """The findings as ``lint`` prints them: one a line, then a count."""
    lines = [f"{shown}:{f.line}: {f.rule}: «{f.text}» — {f.message}" + (f" → {f.suggestion}" if f.suggestion else "")
             for f in findings]
    n = len(findings)
    lines.append(f"{n} finding{'s' if n != 1 else ''}" if n else f"{shown}: no findings")
    return "\n".join(lines)
