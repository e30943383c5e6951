"""Word export: the draft as a speech manuscript laid out per GB/T 9704-2012 conventions.

The layout itself (page, styles, page numbers) is in :mod:`speechgen.export.docx_layout`;
this module opens the base document (python-docx's blank one, or the writer's own
``--reference-docx``), writes the draft's paragraphs in named styles, and saves atomically.
docs/word.md describes the result.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib
from pathlib import Path
from typing import Any

from speechgen.draft import Block, Draft, Span, spans_of
from speechgen.errors import OutputError
from speechgen.output import atomic_write, check_target
from speechgen.userfiles import display_path

_WORDML = b"application/vnd.openxmlformats-officedocument.wordprocessingml."
_CORE_REL = b"/2006/relationships/metadata/core-properties"
#: member -> (bytes python-docx cannot read, what it can)
_FIXES = {
    "[Content_Types].xml": (_WORDML + b"template.main+xml", _WORDML + b"document.main+xml"),
    "_rels/.rels": (
        b"openxmlformats.org/officedocument" + _CORE_REL,
        b"openxmlformats.org/package" + _CORE_REL,
    ),
}


def write_docx(draft: Draft, path: Path, reference_docx: Path | None = None) -> None:
    """Write *draft* to *path* as a Word manuscript (atomic).

    Args:
        draft: the speech to write.
        path: the .docx to create or replace; its folder must exist.
        reference_docx: the writer's own office document or template (.docx/.dotx). Its
            page setup, headers/footers and styles are kept; styles it lacks are added
            with the built-in layout; its body text is dropped.

    Raises:
        OutputError: *path* cannot be written, or *reference_docx* is missing or not a
            Word document.
    """
    from speechgen.export import docx_layout as lay

    check_target(path)  # before the slow part, and before a bad reference hides it
    document = _open_reference(reference_docx) if reference_docx else _blank()
    styles = _styles(document, reference_docx)
    section = document.sections[-1]
    if reference_docx is None or not section._sectPr.findall(_qn("w:footerReference")):
        lay.add_page_numbers(document, section, styles["page"])
    _write_body(document, draft, styles)
    _set_properties(document, draft)
    atomic_write(path, lambda tmp: document.save(str(tmp)))


def _blank() -> Any:
    import docx

    from speechgen.export import docx_layout as lay

    document = docx.Document()
    lay.set_doc_defaults(document.styles.element)
    lay.set_page(document.sections[0])
    return document


def _open_reference(path: Path) -> Any:
    """The writer's document with its body emptied; page setup and styles kept."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    shown = display_path(path)
    if path.is_dir():
        raise OutputError(
            f"{shown}: is a folder — give a Word document (.docx) as --reference-docx"
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise OutputError(
            f"{shown}: reference document not found — check the path given to --reference-docx"
        ) from None
    except PermissionError:
        raise OutputError(
            f"{shown}: cannot read it (permission denied) — give a readable .docx"
        ) from None
    try:
        document = docx.Document(io.BytesIO(_as_document(data)))
    except (
        PackageNotFoundError,
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        ValueError,
        XMLSyntaxError,
        EOFError,
        NotImplementedError,  # a zip feature python's zipfile lacks
    ):
        raise OutputError(
            f"{shown}: not a valid .docx (corrupt or not a Word file) — give a Word document saved as .docx"
        ) from None
    _empty_body(document)
    return document


def _as_document(data: bytes) -> bytes:
    """The package with the fixes python-docx needs to open it as a document.

    A Word template (.dotx) is retyped as a document. LibreOffice spells the core
    properties relationship ``officedocument/…``; python-docx misses it and would save a
    second ``docProps/core.xml``, so it is respelt as the standard ``package/…``.
    """
    if not zipfile.is_zipfile(io.BytesIO(data)):
        return data
    src = zipfile.ZipFile(io.BytesIO(data))
    members = {i.filename: src.read(i.filename) for i in src.infolist() if i.filename in _FIXES}
    if not any(old in members.get(name, b"") for name, (old, _) in _FIXES.items()):
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename in _FIXES:
                old, new = _FIXES[item.filename]
                body = body.replace(old, new)
            dst.writestr(item, body)
    return out.getvalue()


def _empty_body(document: Any) -> None:
    from docx.oxml.ns import qn

    body = document.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    if body.find(qn("w:sectPr")) is None:
        from speechgen.export import docx_layout as lay

        body.get_or_add_sectPr()
        lay.set_page(document.sections[0])


def _styles(document: Any, reference: Path | None) -> dict[str, Any]:
    """The style of every role; in a reference document, only missing ones get our layout."""
    from docx.enum.style import WD_STYLE_TYPE

    from speechgen.export import docx_layout as lay

    styles = document.styles
    by_name = {s.name: s for s in styles}
    out: dict[str, Any] = {}
    for kind, role in lay.ROLES.items():
        if role.style not in by_name:
            style = styles.add_style(role.style, WD_STYLE_TYPE.PARAGRAPH)
            if role.style != "Normal":
                style.base_style = by_name["Normal"]
            lay.apply_role(style, role)
            by_name[role.style] = style
        else:
            style = by_name[role.style]
            if reference is None:
                lay.apply_role(style, role)
            elif style.type != WD_STYLE_TYPE.PARAGRAPH:
                raise OutputError(
                    f"{display_path(reference)}: style '{role.style}' is not a paragraph style "
                    "— make it a paragraph style in Word or rename it"
                )
        out[kind] = style
    _chain(out)
    return out


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return str(qn(tag))


def _chain(styles: dict[str, Any]) -> None:
    """Enter after the title gives the byline; after a heading, body text."""
    styles["title"].next_paragraph_style = styles["byline"]
    for kind in ("byline", "salutation", "heading1", "heading2", "paragraph"):
        styles[kind].next_paragraph_style = styles["paragraph"]


def _write_body(document: Any, draft: Draft, styles: dict[str, Any]) -> None:
    """Title, byline (speaker, date line), an empty line, then the blocks in order."""
    title = next((b for b in draft.blocks if b.kind == "title"), None)
    _paragraph(document, styles["title"], title.spans if title else spans_of(draft.title))
    for line in (draft.speaker, draft.date_line):
        if line:
            _paragraph(document, styles["byline"], spans_of(line))
    _paragraph(document, styles["paragraph"], ())
    for block in draft.body:
        _paragraph(document, styles[_kind(block)], block.spans)


def _kind(block: Block) -> str:
    return block.kind if block.kind in ("salutation", "heading1", "heading2") else "paragraph"


def _paragraph(document: Any, style: Any, spans: tuple[Span, ...]) -> None:
    """One paragraph in *style*: bold runs for leads, yellow-highlighted runs for blanks."""
    from docx.enum.text import WD_COLOR_INDEX

    paragraph = document.add_paragraph()
    # The style id straight into w:pStyle: python-docx's style setter scans every style of
    # the document for the default one on each paragraph (a third of the export's time).
    paragraph._p.style = style.style_id
    for span in spans:
        run = paragraph.add_run(span.text)
        if span.style == "bold":
            run.bold = True
        elif span.style == "mark":
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _set_properties(document: Any, draft: Draft) -> None:
    """Title, author (the speaker), creation time and language; the template's own cleared."""
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    props = document.core_properties
    props.title = draft.title
    props.author = draft.speaker
    props.last_modified_by = draft.speaker
    props.created = now
    props.modified = now
    props.revision = 1
    props.language = "zh-CN"
    props.comments = ""
    props.subject = draft.meta.get("meeting", "")
    props.keywords = ""
    props.category = "讲话稿"
