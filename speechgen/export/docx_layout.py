"""The Word layout of a speech manuscript (GB/T 9704-2012 conventions), as OOXML.

Everything a writer may want to restyle lives in named paragraph styles (one per
role: title, byline, salutation, body, the two heading levels, the page number), so a
``--reference-docx`` can replace them. docs/word.md explains every number here.

The functions take python-docx objects; only ``speechgen.export.docx`` imports this
module, and only after it has imported python-docx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

#: A4, in millimetres.
PAGE_MM = (210, 297)
#: Margins in millimetres: text area 156 mm x 225 mm.
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
#: Footer distance from the bottom edge: the page number's top sits about 7 mm under the text area.
FOOTER_MM = 22
HEADER_MM = 15
#: Fixed line pitch in twentieths of a point: 28.95 pt, so 22 lines fill the 225 mm text height.
LINE_TWIPS = 579
#: Horizontal scale of 16 pt text, in percent: 28 characters of 15.68 pt fit the 156 mm
#: (442.2 pt) line, where 28 x 16 pt = 448 pt would not. Scaling, not condensed character
#: spacing: LibreOffice drops a punctuation mark hung at the end of a justified line when
#: the spacing is condensed (docs/word.md).
SCALE_PERCENT = 98
#: Text size of the body (三号).
BODY_PT = 16.0

_PPR_SEQ = (
    "w:pStyle", "w:keepNext", "w:keepLines", "w:pageBreakBefore", "w:framePr", "w:widowControl",
    "w:numPr", "w:suppressLineNumbers", "w:pBdr", "w:shd", "w:tabs", "w:suppressAutoHyphens",
    "w:kinsoku", "w:wordWrap", "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE",
    "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
    "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc", "w:textDirection",
    "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
    "w:sectPr", "w:pPrChange",
)  # fmt: skip
_RPR_SEQ = (
    "w:rStyle", "w:rFonts", "w:b", "w:bCs", "w:i", "w:iCs", "w:caps", "w:smallCaps", "w:strike",
    "w:dstrike", "w:outline", "w:shadow", "w:emboss", "w:imprint", "w:noProof", "w:snapToGrid",
    "w:vanish", "w:webHidden", "w:color", "w:spacing", "w:w", "w:kern", "w:position", "w:sz",
    "w:szCs", "w:highlight", "w:u", "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign",
    "w:rtl", "w:cs", "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath",
)  # fmt: skip
_SECT_SEQ = (
    "w:headerReference", "w:footerReference", "w:footnotePr", "w:endnotePr", "w:type", "w:pgSz",
    "w:pgMar", "w:paperSrc", "w:pgBorders", "w:lnNumType", "w:pgNumType", "w:cols", "w:formProt",
    "w:vAlign", "w:noEndnote", "w:titlePg", "w:textDirection", "w:bidi", "w:rtlGutter",
    "w:docGrid", "w:printerSettings", "w:sectPrChange",
)  # fmt: skip
_THEME_ATTRS = ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme")


@dataclass(frozen=True)
class Role:
    """How one kind of paragraph looks: its style name, font, size and paragraph layout."""

    style: str
    font: str
    size_pt: float
    align: str  # w:jc value: left | center | both | right
    indent_chars: int = 0  # first-line indent, in characters of the role's size
    outline: int | None = None  # 0 = level-1 heading in Word's navigation pane
    keep_next: bool = False
    snap: bool = True  # snap to the document grid (28 characters a line)
    exact: bool = True  # fixed line pitch LINE_TWIPS; else single spacing
    scale: int = 100  # horizontal scale of the characters in percent (w:w in w:rPr)


#: The roles of a manuscript, keyed by Block.kind (plus byline, page and base).
ROLES: dict[str, Role] = {
    "base": Role("Normal", "仿宋_GB2312", BODY_PT, "both", scale=SCALE_PERCENT),
    "title": Role("讲话标题", "方正小标宋简体", 22, "center", keep_next=True, snap=False),
    "byline": Role("讲话署名", "楷体_GB2312", BODY_PT, "center", keep_next=True),
    "salutation": Role("讲话称呼", "仿宋_GB2312", BODY_PT, "both", scale=SCALE_PERCENT),
    "paragraph": Role("讲话正文", "仿宋_GB2312", BODY_PT, "both", 2, scale=SCALE_PERCENT),
    "heading1": Role(
        "Heading 1", "黑体", BODY_PT, "both", 2, outline=0, keep_next=True, scale=SCALE_PERCENT
    ),
    "heading2": Role(
        "Heading 2",
        "楷体_GB2312",
        BODY_PT,
        "both",
        2,
        outline=1,
        keep_next=True,
        scale=SCALE_PERCENT,
    ),  # fmt: skip
    "page": Role("讲话页码", "宋体", 14, "right", snap=False, exact=False),
}


def set_child(parent: Any, tag: str, seq: tuple[str, ...], **attrs: str) -> Any:
    """Replace *parent*'s ``tag`` child by a new one with *attrs*, in schema order."""
    old = parent.find(qn(tag))
    if old is not None:
        parent.remove(old)
    el = OxmlElement(tag)
    for name, value in attrs.items():
        el.set(qn(f"w:{name}"), value)
    successors = seq[seq.index(tag) + 1 :]
    parent.insert_element_before(el, *successors)
    return el


def drop_child(parent: Any, tag: str) -> None:
    """Remove every ``tag`` child of *parent*."""
    for el in parent.findall(qn(tag)):
        parent.remove(el)


def set_fonts(rpr: Any, font: str) -> None:
    """Name *font* for every script, East Asian included; theme fonts removed (they win otherwise)."""
    rfonts = rpr.find(qn("w:rFonts"))
    if rfonts is None:
        rfonts = set_child(rpr, "w:rFonts", _RPR_SEQ)
    for attr in _THEME_ATTRS:
        rfonts.attrib.pop(qn(attr), None)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        rfonts.set(qn(attr), font)


def format_run_properties(rpr: Any, role: Role) -> None:
    """Font, size, weight, colour and language of *role* on a ``w:rPr``."""
    set_fonts(rpr, role.font)
    half_points = str(round(role.size_pt * 2))
    set_child(rpr, "w:b", _RPR_SEQ, val="0")
    drop_child(rpr, "w:bCs")
    drop_child(rpr, "w:color")  # auto: built-in headings are blue
    set_child(rpr, "w:spacing", _RPR_SEQ, val="0")  # explicit 0 and 100 %: no inheriting
    set_child(rpr, "w:w", _RPR_SEQ, val=str(role.scale))
    set_child(rpr, "w:sz", _RPR_SEQ, val=half_points)
    set_child(rpr, "w:szCs", _RPR_SEQ, val=half_points)
    set_child(rpr, "w:lang", _RPR_SEQ, val="en-US", eastAsia="zh-CN", bidi="ar-SA")


def format_paragraph_properties(ppr: Any, role: Role) -> None:
    """Alignment, indent, spacing, grid and outline level of *role* on a ``w:pPr``."""
    for tag in ("w:keepNext", "w:keepLines"):
        drop_child(ppr, tag)
    if role.keep_next:
        set_child(ppr, "w:keepNext", _PPR_SEQ)
        set_child(ppr, "w:keepLines", _PPR_SEQ)
    set_child(ppr, "w:snapToGrid", _PPR_SEQ, val="1" if role.snap else "0")
    if role.exact:
        set_child(
            ppr,
            "w:spacing",
            _PPR_SEQ,
            before="0",
            after="0",
            line=str(LINE_TWIPS),
            lineRule="exact",
        )
    else:
        set_child(ppr, "w:spacing", _PPR_SEQ, before="0", after="0", line="240", lineRule="auto")
    twips = round(role.indent_chars * role.size_pt * 20)
    set_child(
        ppr, "w:ind", _PPR_SEQ,
        left="0", right="0", firstLine=str(twips), firstLineChars=str(role.indent_chars * 100),
    )  # fmt: skip
    set_child(ppr, "w:jc", _PPR_SEQ, val=role.align)
    drop_child(ppr, "w:outlineLvl")
    if role.outline is not None:
        set_child(ppr, "w:outlineLvl", _PPR_SEQ, val=str(role.outline))


def apply_role(style: Any, role: Role) -> None:
    """Give a python-docx paragraph style the whole layout of *role*."""
    element = style.element
    format_paragraph_properties(element.get_or_add_pPr(), role)
    format_run_properties(element.get_or_add_rPr(), role)
    link = element.find(qn("w:link"))  # "Heading 1 Char", used when a heading is part-applied
    linked = element.getparent().get_by_id(link.get(qn("w:val"))) if link is not None else None
    if linked is not None:
        format_run_properties(linked.get_or_add_rPr(), role)
    style.hidden = False
    style.quick_style = True


def set_doc_defaults(styles_element: Any) -> None:
    """Body font, size and Chinese language as the document defaults (no theme fonts)."""
    defaults = styles_element.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles_element.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    format_run_properties(rpr, ROLES["base"])
    drop_child(rpr, "w:b")
    ppr_default = defaults.find(qn("w:pPrDefault"))
    if ppr_default is not None:
        defaults.remove(ppr_default)  # its 10 pt after / 1.15 lines would leak into every style


def set_page(section: Any) -> None:
    """A4 portrait, the manuscript margins, and a line grid of 22 lines a page."""
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm

    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    section.top_margin = Mm(MARGINS_MM["top"])
    section.bottom_margin = Mm(MARGINS_MM["bottom"])
    section.left_margin = Mm(MARGINS_MM["left"])
    section.right_margin = Mm(MARGINS_MM["right"])
    section.gutter = Mm(0)
    section.header_distance = Mm(HEADER_MM)
    section.footer_distance = Mm(FOOTER_MM)
    set_child(
        section._sectPr, "w:docGrid", _SECT_SEQ,
        type="lines", linePitch=str(LINE_TWIPS),
    )  # fmt: skip


def add_page_numbers(document: Any, section: Any, style: Any) -> None:
    """Footers "— 1 —": odd pages right, even pages left, one character in from the edge."""
    document.settings.odd_and_even_pages_header_footer = True
    section.footer.is_linked_to_previous = False
    section.even_page_footer.is_linked_to_previous = False
    _page_number(section.footer, style, "right")
    _page_number(section.even_page_footer, style, "left")


def _page_number(footer: Any, style: Any, side: str) -> None:
    for extra in footer.paragraphs[1:]:
        extra._element.getparent().remove(extra._element)
    paragraph = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    for child in list(paragraph._element):
        if child.tag != qn("w:pPr"):
            paragraph._element.remove(child)
    paragraph.style = style
    ppr = paragraph._element.get_or_add_pPr()
    one_char = str(round(ROLES["page"].size_pt * 20))
    set_child(ppr, "w:ind", _PPR_SEQ, **{side: one_char, f"{side}Chars": "100"})
    set_child(ppr, "w:jc", _PPR_SEQ, val=side)
    paragraph.add_run("— ")
    _field(paragraph, "PAGE", "1")
    paragraph.add_run(" —")


def _field(paragraph: Any, instruction: str, shown: str) -> None:
    """A Word field (fldChar begin / instrText / separate / result / end) at the paragraph end."""
    for kind in ("begin", "instr", "separate", "result", "end"):
        run = paragraph.add_run()._r
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            instr.text = f" {instruction} "
            run.append(instr)
        elif kind == "result":
            run.add_t(shown)
        else:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run.append(char)


#: What word/fontTable.xml says of each manuscript font: the name Word falls back to when
#: the machine lacks it (w:altName: plain Windows has 仿宋, 楷体, 黑体, 宋体), the GB2312
#: charset (134 = 0x86), the family and the PANOSE of the Windows face.
FONTS: dict[str, tuple[str, str, str]] = {
    "仿宋_GB2312": ("仿宋", "modern", "02010609030101010101"),
    "楷体_GB2312": ("楷体", "modern", "02010609030101010101"),
    "方正小标宋简体": ("宋体", "script", "02000000000000000000"),
    "黑体": ("SimHei", "modern", "02010609060101010101"),
    "宋体": ("SimSun", "auto", "02010600030101010101"),
}
_RFONT_ATTRS = ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs")


def set_font_table(document: Any, style_facts: Any = None) -> None:
    """word/fontTable.xml lists the fonts the document uses, with their fallbacks.

    python-docx's template lists Japanese and Western defaults (MS Mincho, Calibri …) that the
    draft never uses; a font of a --reference-docx keeps its own entry. *style_facts* is
    :func:`style_fonts` of the document's styles, when they are not to be read (the built-in
    base: speechgen/export/docx.py); the same fonts in the same order as reading them.
    """
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml import etree

    part = next((r.target_part for r in document.part.rels.values() if r.reltype == RT.FONT_TABLE), None)
    if part is None:
        return
    old = etree.fromstring(part.blob)
    kept = {f.get(qn("w:name")): f for f in old.findall(qn("w:font"))}
    if style_facts is None:
        named = [_fonts_in(root) for root in _font_roots(document)]
    else:
        named = _fonts_with(document, style_facts)
    used = list(dict.fromkeys(name for names in named for name in names))
    for font in list(old):
        old.remove(font)
    for name in used:
        old.append(kept[name] if name in kept and name not in FONTS else _font_entry(name))
    xml = etree.tostring(old, xml_declaration=True, encoding="UTF-8", standalone=True)
    if hasattr(part, "_element"):
        part._element = etree.fromstring(xml)
    else:
        part._blob = xml


def _fonts_in(root: Any) -> list[str]:
    """The fonts *root* names (w:rFonts), in document order."""
    return [name for rfonts in root.iter(qn("w:rFonts")) for attr in _RFONT_ATTRS if (name := rfonts.get(qn(attr)))]


def _content_roots(document: Any) -> list[Any]:
    """The body and the headers and footers of their own."""
    roots = [document.element]
    for section in document.sections:
        for part in (section.header, section.footer, section.even_page_header, section.even_page_footer,
                     section.first_page_header, section.first_page_footer):  # fmt: skip
            if not part.is_linked_to_previous:
                roots.append(part._element)
    return roots


def _font_roots(document: Any) -> list[Any]:
    """The XML that names fonts: the styles in use, body, headers and footers."""
    roots = _content_roots(document)
    styles = document.styles.element
    by_id = {s.get(qn("w:styleId")): s for s in styles.findall(qn("w:style"))}
    wanted = [s.get(qn("w:styleId")) for s in by_id.values() if s.get(qn("w:default")) == "1"]
    for root in roots:
        wanted += [el.get(qn("w:val")) for tag in ("w:pStyle", "w:rStyle") for el in root.iter(qn(tag))]
    seen: set[str] = set()
    while wanted:  # the styles used, and the styles they are based on or linked to
        sid = wanted.pop()
        if sid in seen or sid not in by_id:
            continue
        seen.add(sid)
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = by_id[sid].find(qn(tag))
            if ref is not None:
                wanted.append(ref.get(qn("w:val")))
    roots += [style for sid, style in by_id.items() if sid in seen]  # in document order: the same table every run
    defaults = styles.find(qn("w:docDefaults"))
    return roots + ([defaults] if defaults is not None else [])


def style_fonts(styles: Any) -> tuple[list[tuple[Any, bool, tuple[Any, ...], tuple[str, ...]]], tuple[str, ...] | None]:
    """What :func:`_font_roots` reads of a w:styles element, to use without it: for each style
    id (the last style of an id, in the order ids first appear) whether it is a default,
    the ids it names (w:basedOn, w:link, w:next) and its fonts; the fonts of w:docDefaults."""
    by_id = {s.get(qn("w:styleId")): s for s in styles.findall(qn("w:style"))}
    facts = []
    for sid, style in by_id.items():
        refs = []
        for tag in ("w:basedOn", "w:link", "w:next"):
            ref = style.find(qn(tag))
            if ref is not None:
                refs.append(ref.get(qn("w:val")))
        facts.append((sid, style.get(qn("w:default")) == "1", tuple(refs), tuple(_fonts_in(style))))
    defaults = styles.find(qn("w:docDefaults"))
    return facts, (tuple(_fonts_in(defaults)) if defaults is not None else None)


def _fonts_with(document: Any, style_facts: Any) -> list[list[str]]:
    """:func:`_font_roots`' fonts, root by root, from :func:`style_fonts` instead of the styles."""
    styles, defaults = style_facts
    refs = {sid: named for sid, _default, named, _fonts in styles}
    roots = _content_roots(document)
    wanted = [sid for sid, default, _named, _fonts in styles if default]
    for root in roots:
        wanted += [el.get(qn("w:val")) for tag in ("w:pStyle", "w:rStyle") for el in root.iter(qn(tag))]
    seen: set[Any] = set()
    while wanted:
        sid = wanted.pop()
        if sid in seen or sid not in refs:
            continue
        seen.add(sid)
        wanted += refs[sid]
    named = [_fonts_in(root) for root in roots]
    named += [list(fonts) for sid, _default, _named, fonts in styles if sid in seen]
    return named + ([list(defaults)] if defaults is not None else [])


def _font_entry(name: str) -> Any:
    font = OxmlElement("w:font")
    font.set(qn("w:name"), name)
    alt, family, panose = FONTS.get(name, ("", "auto", ""))
    if alt:
        _child(font, "w:altName", alt)
    if panose:
        _child(font, "w:panose1", panose)
    if name in FONTS:
        _child(font, "w:charset", "86")
    _child(font, "w:family", family)
    _child(font, "w:pitch", "variable" if family == "script" else "fixed" if name in FONTS else "default")
    return font


def _child(parent: Any, tag: str, value: str) -> None:
    """Append ``<tag w:val="value"/>`` to *parent*."""
    child = OxmlElement(tag)
    child.set(qn("w:val"), value)
    parent.append(child)
