"""Custom document properties (docProps/custom.xml): where each part of the draft came from.

Word shows them under File › Info › Properties › Advanced › Custom; ``speechgen lint``
reads them back (:mod:`speechgen.lint.docx_props`) to know the fragment of each paragraph
(``relative-date``, ``source-fact``).
One property a run of paragraphs composed from one fragment: name ``speechgen 1``, ``speechgen
2``…, text value ``ID; FILE; PARAGRAPHS; FIRST WORDS`` (see :func:`speechgen.draft.provenance_value`);
and what the .md keeps in its front matter, ``speechgen:date``, ``speechgen:本级``…, so lint
checks a .docx against the same brief.
python-docx has no API for the part, so it is written as OOXML here (ECMA-376 part 1, 22.3).
"""

from __future__ import annotations

from typing import Any

from speechgen.draft import CUSTOM_PROPS_NS as _NS
from speechgen.draft import CUSTOM_PROPS_RELTYPE as RELTYPE
from speechgen.draft import (
    META_PROPERTY,
    PROVENANCE_PROPERTY,
    Draft,
    provenance_runs,
    provenance_value,
)

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
#: The format id every user-defined property carries (FMTID_UserDefinedProperties).
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"


def _part(document: Any) -> Any:
    """The package's custom-properties part, or None."""
    for rel in document.part.package.rels.values():
        if rel.reltype == RELTYPE and not rel.is_external:
            return rel.target_part
    return None


def write_provenance(document: Any, draft: Draft) -> None:
    """Record the provenance of *draft* in *document*'s custom properties, keeping any other
    custom property a reference document brought (and dropping its old ``speechgen N``)."""
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from lxml import etree

    runs = provenance_runs(draft)
    meta = dict(draft.meta)
    if draft.date is not None:
        meta["date"] = draft.date.isoformat()
    elif draft.date_text:
        meta["date"] = draft.date_text
    part = _part(document)
    if part is None and not runs and not meta:
        return
    root = etree.fromstring(part.blob) if part is not None else etree.Element(f"{{{_NS}}}Properties", nsmap={None: _NS, "vt": _VT})
    for prop in root.findall(f"{{{_NS}}}property"):
        if prop.get("name", "").startswith((PROVENANCE_PROPERTY, META_PROPERTY)):
            root.remove(prop)
    pids = [int(p.get("pid", "1")) for p in root.findall(f"{{{_NS}}}property") if p.get("pid", "").isdigit()]
    pid = max([1, *pids])
    values = [(f"{META_PROPERTY}{k}", v) for k, v in meta.items()]
    values += [(f"{PROVENANCE_PROPERTY}{n}", provenance_value(run)) for n, run in enumerate(runs, 1)]
    for name, value in values:
        pid += 1
        prop = etree.SubElement(root, f"{{{_NS}}}property", fmtid=_FMTID, pid=str(pid), name=name)
        etree.SubElement(prop, f"{{{_VT}}}lpwstr").text = value
    blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    if part is not None:
        part._blob = blob
        return
    package = document.part.package
    new = Part(PackURI("/docProps/custom.xml"), CONTENT_TYPE, blob, package)
    package.relate_to(new, RELTYPE)
