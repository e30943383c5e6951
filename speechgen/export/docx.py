"""Word export: the draft as a speech manuscript laid out per GB/T 9704-2012 conventions.

The layout itself (page, styles, page numbers) is in :mod:`speechgen.export.docx_layout`;
this module opens the base document (python-docx's blank one, or the writer's own
``--reference-docx``), writes the draft's paragraphs in named styles, and saves atomically.
docs/word.md describes the result.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from pathlib import Path
from typing import Any, NamedTuple

from speechgen.draft import Block, Draft, Span, spans_of
from speechgen.errors import OutputError
from speechgen.output import atomic_write_bytes, check_target
from speechgen.userfiles import display_path

#: The most a --reference-docx may hold, packed and unpacked: an office template is a few
#: hundred kilobytes; a zip that expands to gigabytes is an attack, not a template.
MAX_REFERENCE_BYTES = 50 * 1024 * 1024
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
    if reference_docx is None:
        document, styles = _styled_base()
    else:
        document = _open_reference(reference_docx)
        styles = _styles(document, reference_docx)
        section = document.sections[-1]
        if not section._sectPr.findall(_qn("w:footerReference")):
            lay.add_page_numbers(document, section, styles["page"])
    paragraphs = _write_body(document, draft, styles)
    _add_notes(document, draft, paragraphs)
    _set_properties(document, draft)
    from speechgen.export.custom_props import write_provenance

    write_provenance(document, draft)
    lay.set_font_table(document, _unread_style_facts(document))
    # Saved in memory, then written in one go: a zip file left half-written by a full disk
    # would otherwise print a ZipFile.__del__ traceback after the error message.
    buffer = io.BytesIO()
    document.save(buffer)
    atomic_write_bytes(path, buffer.getvalue())


#: The pre-styled base document (page, styles, page numbers) as saved bytes, and what the
#: export needs of its styles (:func:`_style_facts`), once built.
_BASE: list[tuple[bytes, dict[str, Any] | None]] = []
_BASE_FORMAT = 2  # of the cache file: (format, facts, bytes)


def _styled_base() -> tuple[Any, dict[str, Any]]:
    """A new document on the built-in layout, and the style of every role.

    Laying out the page and some thirty style properties is the same for every draft: it
    is done once and kept as the saved bytes, in memory and in the cache folder (``docx/``,
    :mod:`speechgen.cachefiles`: this user's only, named by the hash of python-docx's
    version and of this module's and the layout's source). Every draft opens those bytes,
    so a fresh and a cached base give the same document.

    Its styles part (350 KB of XML: python-docx's latent styles) is parsed only if
    something reads it (:class:`_LazyStyles`): parsing it and writing it out again was
    11 ms of each export. What the export needs of it — each role's style id, and the
    fonts of each style for the font table — is worked out when the base is built and kept
    with it. A role's style is then a :class:`_StyleId`.
    """
    import docx

    from speechgen import cachefiles
    from speechgen.export import docx_layout as lay

    if not _BASE:
        key = cachefiles.digest(docx.__version__, Path(__file__).read_bytes(), Path(lay.__file__).read_bytes())
        folder = cachefiles.private_folder("docx")
        stored = _unpack(cachefiles.read_value(folder, key)) if folder else None
        if stored is None:
            document = _blank()
            styles = _styles(document, None)
            lay.add_page_numbers(document, document.sections[-1], styles["page"])
            buffer = io.BytesIO()
            document.save(buffer)
            data = buffer.getvalue()
            stored = (_style_facts(data), data)
            if folder:
                cachefiles.write_value(folder, key, (_BASE_FORMAT, *stored))
        _BASE.append((stored[1], stored[0]))
    data, facts = _BASE[0]
    document = _open_lazy(data) if facts is not None else None
    if document is None or facts is None:
        document = docx.Document(io.BytesIO(data))
        return document, _role_styles(document, lay.ROLES)
    return document, {kind: _StyleId(sid) for kind, sid in facts["roles"].items()}


def _unpack(value: Any) -> tuple[dict[str, Any] | None, bytes] | None:
    """(facts, base bytes) of a cache file's value, or None when it is not one this code wrote."""
    if not (isinstance(value, tuple) and len(value) == 3 and value[0] == _BASE_FORMAT and isinstance(value[2], bytes)
            and (value[1] is None or isinstance(value[1], dict))):
        return None
    return value[1], value[2]


class _StyleId(NamedTuple):
    """A role's paragraph style where only its id is needed (the base's styles unread)."""

    style_id: str


def _style_facts(data: bytes) -> dict[str, Any] | None:
    """What the export reads of the base's styles, from the saved base *data*: the style id
    of every role, and for each style in document order its id, whether it is a default,
    the styles it names (w:basedOn, w:link, w:next) and the fonts it names — the inputs of
    :func:`speechgen.export.docx_layout.font_names`. None (parse the styles in every
    export, as before) unless writing the parsed styles out again gives the very bytes
    saved, so that an unread part is saved as it would have been."""
    import zipfile

    import docx
    from docx.opc.oxml import serialize_part_xml

    from speechgen.export import docx_layout as lay

    document = docx.Document(io.BytesIO(data))
    part = _styles_part(document)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        if part.partname.membername not in z.namelist() or z.read(part.partname.membername) != serialize_part_xml(
                part.element):
            return None
    return {
        "roles": {kind: style.style_id for kind, style in _role_styles(document, lay.ROLES).items()},
        "styles": lay.style_fonts(part.element),
    }


def _styles_part(document: Any) -> Any:
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    return document.part.part_related_by(RT.STYLES)


def _unread_style_facts(document: Any) -> Any:
    """The base's :func:`~speechgen.export.docx_layout.style_fonts` while *document*'s styles
    part is the base's, unread; else None (the font table reads the styles)."""
    if not _BASE or _BASE[0][1] is None or getattr(_styles_part(document), "parsed", True):
        return None
    return _BASE[0][1]["styles"]


def _open_lazy(data: bytes) -> Any:
    """The base document opened as ``docx.Document`` opens it, its styles part unparsed
    until read; None where this python-docx is not built as expected (then
    ``docx.Document`` opens it)."""
    try:
        from docx.opc.constants import CONTENT_TYPE as CT
        from docx.opc.package import Unmarshaller
        from docx.opc.part import PartFactory
        from docx.opc.pkgreader import PackageReader
        from docx.package import Package
    except ImportError:
        return None
    lazy = _lazy_class()
    if lazy is None:
        return None

    def parts(partname: Any, content_type: str, reltype: str, blob: bytes, package: Any) -> Any:
        if content_type == CT.WML_STYLES:
            return lazy(partname, content_type, blob, package)
        return PartFactory(partname, content_type, reltype, blob, package)

    try:
        package = Package()
        Unmarshaller.unmarshal(PackageReader.from_file(io.BytesIO(data)), package, parts)
        document = package.main_document_part.document
    except Exception:  # noqa: BLE001 - python-docx changed inside: docx.Document reads the base (and reports)
        return None
    return document if document.part.content_type == CT.WML_DOCUMENT_MAIN else None


_LAZY: list[Any] = []


def _lazy_class() -> Any:
    """:class:`docx.parts.styles.StylesPart` whose XML is parsed on first use, and which saves
    the bytes it was read from while nothing has read them (see :func:`_style_facts`)."""
    if _LAZY:
        return _LAZY[0]
    try:
        from docx.opc.oxml import serialize_part_xml
        from docx.oxml.parser import parse_xml
        from docx.parts.styles import StylesPart
    except ImportError:
        return None

    class _LazyStyles(StylesPart):
        def __init__(self, partname: Any, content_type: str, blob: bytes, package: Any) -> None:
            self.__dict__["_raw"] = blob
            self.__dict__["_parsed"] = None
            super().__init__(partname, content_type, None, package)  # type: ignore[arg-type]

        @property
        def _element(self) -> Any:
            if self.__dict__["_parsed"] is None:
                self.__dict__["_parsed"] = parse_xml(self.__dict__["_raw"])
            return self.__dict__["_parsed"]

        @_element.setter
        def _element(self, element: Any) -> None:
            if element is not None:
                self.__dict__["_parsed"] = element

        @property
        def blob(self) -> bytes:
            if self.__dict__["_parsed"] is None:
                return self.__dict__["_raw"]
            return serialize_part_xml(self.__dict__["_parsed"])

        @property
        def parsed(self) -> bool:
            return self.__dict__["_parsed"] is not None

    _LAZY.append(_LazyStyles)
    return _LazyStyles


def _role_styles(document: Any, roles: dict[str, Any]) -> dict[str, Any]:
    """``{kind: document.styles[role.style]}``, the styles found by name in one pass.

    python-docx looks a name up with an XPath search over every style (0.3–0.4 ms each,
    3 ms for the roles); this reads each style's w:name once. The first style in document
    order holding that name, as the XPath's first match; a name not there goes to python-docx.
    """
    from docx.styles import BabelFish
    from docx.styles.style import StyleFactory

    by_name: dict[str, Any] = {}
    name_tag, val = _qn("w:name"), _qn("w:val")
    for style in document.styles.element.iterchildren(_qn("w:style")):
        for name in style.iterchildren(name_tag):
            by_name.setdefault(name.get(val), style)
    out = {}
    for kind, role in roles.items():
        found = by_name.get(BabelFish.ui2internal(role.style))
        out[kind] = StyleFactory(found) if found is not None else document.styles[role.style]
    return out


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
    data = _read_reference(path, shown)
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


def _read_reference(path: Path, shown: str) -> bytes:
    """The bytes of a regular file of sane size whose zip directory promises a sane size."""
    import stat

    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(
                f"{shown}: not a regular file (a device, pipe or socket) — give a Word document (.docx)"
            )
        if info.st_size > MAX_REFERENCE_BYTES:
            raise OutputError(f"{shown}: {_mb(info.st_size)} — {_too_big()}")
        data = path.read_bytes()  # a regular file of a known, bounded size
    except FileNotFoundError:
        raise OutputError(
            f"{shown}: reference document not found — check the path given to --reference-docx"
        ) from None
    except PermissionError:
        raise OutputError(
            f"{shown}: cannot read it (permission denied) — give a readable .docx"
        ) from None
    except OSError as exc:
        raise OutputError(f"{shown}: cannot read it ({exc.strerror or exc}) — give a readable .docx") from None
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
        if unpacked > MAX_REFERENCE_BYTES:
            raise OutputError(f"{shown}: unpacks to {_mb(unpacked)} — {_too_big()}")
    return data


def _mb(size: int) -> str:
    return f"{size // (1024 * 1024):,} MB"


def _too_big() -> str:
    limit = _mb(MAX_REFERENCE_BYTES)
    return f"a reference document holds styles and page setup, not over {limit}; give a smaller .docx"


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


def _write_body(document: Any, draft: Draft, styles: dict[str, Any]) -> dict[int, Any]:
    """Title, byline (speaker, date line), an empty line, then the blocks in order.

    Each paragraph of a block is remembered by the block's index, for the notes.
    """
    from speechgen.export.titles import title_lines

    at = next((i for i, b in enumerate(draft.blocks) if b.kind == "title"), None)
    spans = draft.blocks[at].spans if at is not None else spans_of(draft.title)
    lines = title_lines("".join(s.text for s in spans))
    title = _paragraph(document, styles["title"], _broken(spans, lines))
    paragraphs: dict[int, Any] = {at: title} if at is not None else {}
    for line in (draft.speaker, draft.date_line):
        if line:
            _paragraph(document, styles["byline"], spans_of(line))
    _paragraph(document, styles["paragraph"], ())
    for i, block in enumerate(draft.blocks):
        if block.kind != "title":
            paragraphs[i] = _paragraph(document, styles[_kind(block)], block.spans)
    return paragraphs


def _broken(spans: tuple[Span, ...], lines: list[str]) -> tuple[Span, ...]:
    """*spans* with a line break ("\n") where each title line ends."""
    if len(lines) < 2:
        return spans
    cuts, pos = set(), 0
    for line in lines[:-1]:
        pos += len(line)
        cuts.add(pos)
    out: list[Span] = []
    pos = 0
    for span in spans:
        piece = ""
        for ch in span.text:
            if pos in cuts and (piece or out):
                piece += "\n"
            piece += ch
            pos += 1
        out.append(Span(piece, span.style))
    return tuple(out)


def _kind(block: Block) -> str:
    return block.kind if block.kind in ("salutation", "heading1", "heading2") else "paragraph"


def _paragraph(document: Any, style: Any, spans: tuple[Span, ...]) -> Any:
    """One paragraph in *style*: bold runs for leads, yellow-highlighted runs for blanks."""
    paragraph = document.add_paragraph()
    # The style id straight into w:pStyle: python-docx's style setter scans every style of
    # the document for the default one on each paragraph (a third of the export's time).
    paragraph._p.style = style.style_id
    for span in spans:
        add_run(paragraph._p, span.text, span.style)
    return paragraph


_TAGS: dict[str, str] = {}
#: What python-docx's run text writer turns into an element of its own (w:tab, w:br).
_BREAKS = re.compile(r"[\t\r\n]")


def add_run(p: Any, text: str, style: str = "") -> Any:
    """Append to *p* the run ``paragraph.add_run(text)`` makes, bold (``style == "bold"``) or
    highlighted yellow (``"mark"``) as ``run.bold = True`` and ``run.font.highlight_color``
    make it: the same elements, attributes and order, built with lxml's ``SubElement``.

    python-docx creates each element by parsing a namespace declaration and walks the
    schema's child order for each insertion, and writes the text one character at a time:
    about a quarter of the export. A paragraph here holds its w:pPr and runs only, so each
    run goes last. ``tests/export/test_docx_runs.py`` compares the XML with python-docx's.
    """
    from lxml.etree import SubElement

    tag = _TAGS or _tags()
    r = SubElement(p, tag["r"])
    if style == "bold":
        SubElement(SubElement(r, tag["rPr"]), tag["b"])
    elif style == "mark":
        SubElement(SubElement(r, tag["rPr"]), tag["highlight"]).set(tag["val"], "yellow")
    pos = 0
    for m in _BREAKS.finditer(text):
        _text(r, text[pos : m.start()], tag)
        SubElement(r, tag["tab"] if m.group() == "\t" else tag["br"])
        pos = m.end()
    _text(r, text[pos:], tag)
    return r


def _text(r: Any, text: str, tag: dict[str, str]) -> None:
    from lxml.etree import SubElement

    if text:
        t = SubElement(r, tag["t"])
        t.text = text
        if len(text.strip()) < len(text):
            t.set(tag["space"], "preserve")


def _tags() -> dict[str, str]:
    from docx.oxml.ns import qn

    for name in ("r", "rPr", "b", "highlight", "val", "t", "tab", "br"):
        _TAGS[name] = qn(f"w:{name}")
    _TAGS["space"] = qn("xml:space")
    return _TAGS


def _add_notes(document: Any, draft: Draft, paragraphs: dict[int, Any]) -> None:
    """Each :class:`~speechgen.draft.Note` as a Word comment anchored on its words."""
    for note in draft.notes:
        paragraph = paragraphs.get(note.block)
        if paragraph is None:  # a note on no block of this draft: on the title, not lost
            paragraph = document.paragraphs[0]
        runs = _anchor(paragraph, note.text)
        text = f"{note.message}（{note.rule}）" if note.rule else note.message
        author = note.author or "speechgen"
        document.add_comment(runs, text=text, author=author, initials=author[:2])


def _anchor(paragraph: Any, words: str) -> list[Any]:
    """The runs covering the first occurrence of *words* in *paragraph*, split out of their
    neighbours; the whole paragraph when the words are not there (edited, or empty)."""
    runs = list(paragraph.runs)
    text = "".join(r.text for r in runs)
    start = text.find(words) if words else -1
    if start < 0 or not runs:
        return runs[:1] + runs[-1:] if runs else [paragraph.add_run("")]
    end = start + len(words)
    first = _split_at(paragraph, start)
    last = _split_at(paragraph, end)
    ordered = list(paragraph.runs)
    begin = ordered[first]
    stop = ordered[last - 1]
    return [begin, stop]


def _split_at(paragraph: Any, offset: int) -> int:
    """Split the run holding character *offset* there; the index of the run starting at it."""
    import copy

    pos = 0
    for i, run in enumerate(paragraph.runs):
        n = len(run.text)
        if offset == pos:
            return i
        if pos < offset < pos + n:
            cut = offset - pos
            twin = copy.deepcopy(run._r)
            run._r.addnext(twin)
            head, tail = run.text[:cut], run.text[cut:]
            run.text = head
            paragraph.runs[i + 1].text = tail
            return i + 1
        pos += n
    return len(paragraph.runs)


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
    props.keywords = "; ".join(_keywords(draft))
    props.category = "讲话稿"


def _keywords(draft: Draft) -> list[str]:
    """The meeting, then the speech's keywords, for Windows search.

    A composed draft brings its own (its fragments' tags, :func:`speechgen.compose.pipeline.
    draft_keywords`); for one read from Markdown they are the text's TF-IDF keywords (jieba,
    about a second to load: only on that path).
    """
    meeting = draft.meta.get("meeting", "")
    if draft.keywords is not None:
        found = [w for w in draft.keywords if w != meeting]
    else:
        from speechgen.draft import MARK_RE
        from speechgen.words import keywords

        text = MARK_RE.sub("", "\n".join(b.text for b in draft.blocks))
        found = [w for w in keywords(text, 6) if w != meeting] if text.strip() else []
    return ([meeting] if meeting else []) + found[:5]
