"""Reading back what compose wrote in a .docx's custom properties (docProps/custom.xml): the
fragment of each run of paragraphs and the front matter (written by
:mod:`speechgen.export.custom_props`; docs/word.md)."""

from __future__ import annotations

from typing import Any

from speechgen.draft import CUSTOM_PROPS_NS as _NS
from speechgen.draft import CUSTOM_PROPS_RELTYPE as RELTYPE
from speechgen.draft import META_PROPERTY, PROVENANCE_PROPERTY, parse_provenance


def _part(document: Any) -> Any:
    """The package's custom-properties part, or None."""
    for rel in document.part.package.rels.values():
        if rel.reltype == RELTYPE and not rel.is_external:
            return rel.target_part
    return None


def read_properties(document: Any) -> dict[str, str]:
    """Name → text of every custom property of a python-docx *document* (text-valued ones)."""
    from lxml import etree

    part = _part(document)
    if part is None:
        return {}
    try:
        root = etree.fromstring(part.blob)
    except etree.XMLSyntaxError:
        return {}  # a damaged part: no provenance, not an unreadable draft
    out = {}
    for prop in root.findall(f"{{{_NS}}}property"):
        value = next(iter(prop), None)
        if value is not None and value.text is not None:
            out[prop.get("name", "")] = value.text
    return out


def read_meta(document: Any) -> dict[str, str]:
    """The front matter a .docx records (date, meeting, template, campaign, vars)."""
    return {name[len(META_PROPERTY):]: value for name, value in read_properties(document).items()
            if name.startswith(META_PROPERTY) and name[len(META_PROPERTY):]}


def read_provenance(document: Any) -> list[tuple[str, str, int, str]]:
    """The runs ``speechgen N`` properties record, in order of N."""
    found = []
    for name, value in read_properties(document).items():
        number = name[len(PROVENANCE_PROPERTY):]
        run = parse_provenance(value)
        if name.startswith(PROVENANCE_PROPERTY) and number.isdigit() and run:
            found.append((int(number), run))
    return [run for _, run in sorted(found)]
