"""Drafts and fragments as HTML: the manuscript preview, search snippets, highlighted slots.

Every piece of text is escaped here; the page templates receive :class:`markupsafe.Markup`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from markupsafe import Markup

from speechgen.draft import Draft, Span
from speechgen.lint import Finding

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
_CLASS = {
    "title": "d-title",
    "salutation": "d-salutation",
    "heading1": "d-h1",
    "heading2": "d-h2",
    "paragraph": "d-p",
}

Range = tuple[int, int, str, str]  # start, end, message, rule


def _ranges(draft: Draft, findings: Iterable[Finding]) -> dict[int, list[Range]]:
    """Character ranges to underline, by block: each finding's text where it stands."""
    out: dict[int, list[Range]] = {}
    notes = [(n.block, n.text, n.message, n.rule) for n in draft.notes]
    items = [(f.block, f.text, f.message + (f" — {f.suggestion}" if f.suggestion else ""), f.rule) for f in findings]
    for block, text, message, rule in items + notes:
        if not text:
            continue
        blocks = [block] if 0 <= block < len(draft.blocks) else range(len(draft.blocks))
        for i in blocks:
            start = draft.blocks[i].text.find(text)
            if start >= 0:
                taken = out.setdefault(i, [])
                if not any(s < start + len(text) and start < e for s, e, _, _ in taken):
                    taken.append((start, start + len(text), message, rule))
                break
    return out


def _span_html(text: str, style: str) -> str:
    if style == "bold":
        return f"<strong>{escape(text)}</strong>"
    if style == "mark":
        return f'<mark class="blank">{escape(text)}</mark>'
    return escape(text)


def _block_html(spans: tuple[Span, ...], ranges: list[Range]) -> str:
    """The spans of one block, with the finding ranges wrapped in underlined spans."""
    cuts = sorted({0, *(r[0] for r in ranges), *(r[1] for r in ranges)})
    parts: list[str] = []
    pos = 0
    for span in spans:
        end = pos + len(span.text)
        inner = sorted({pos, end, *(c for c in cuts if pos < c < end)})
        for a, b in zip(inner, inner[1:], strict=False):
            piece = _span_html(span.text[a - pos : b - pos], span.style)
            hit = next((r for r in ranges if r[0] <= a and b <= r[1]), None)
            if hit:
                piece = f'<span class="lint" data-rule="{escape(hit[3])}" title="{escape(hit[2])}">{piece}</span>'
            parts.append(piece)
        pos = end
    return "".join(parts)


def draft_html(draft: Draft, findings: Iterable[Finding] = ()) -> Markup:
    """The draft as a manuscript page body: title, byline, salutation, headings, paragraphs."""
    ranges = _ranges(draft, findings)
    html: list[str] = []
    for i, block in enumerate(draft.blocks):
        inner = _block_html(block.spans, ranges.get(i, []))
        source = f' data-source="{escape(block.source)}"' if block.source else ""
        if block.kind == "title":
            html.append(f'<h2 class="d-title"{source}>{inner}</h2>')
            byline = " ".join(x for x in (draft.speaker, draft.date_line) if x)
            if byline:
                html.append(f'<p class="d-byline">{escape(byline)}</p>')
            continue
        html.append(f'<p class="{_CLASS.get(block.kind, "d-p")}"{source}>{inner}</p>')
    return Markup("\n".join(html))


def snippet(text: str, words: list[str], width: int = 48) -> Markup:
    """A piece of *text* around the first query word, every word marked."""
    flat = " ".join(text.split())
    first = min((i for w in words if w and (i := flat.find(w)) >= 0), default=0)
    start = max(0, first - width // 3)
    end = min(len(flat), start + width)
    piece = flat[start:end]
    marked = escape(piece)
    for w in sorted({w for w in words if w}, key=len, reverse=True):
        marked = marked.replace(escape(w), f"<mark>{escape(w)}</mark>")
    return Markup(("…" if start else "") + marked + ("…" if end < len(flat) else ""))


def inline_slots(text: str) -> Markup:
    """One line of fragment text (a heading, a label) with its ``{{ slots }}`` shown as chips."""
    parts: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(text):
        parts.append(escape(text[pos : m.start()]))
        name = m.group(0).strip("{}% ").strip()
        cls = "frag-blank" if "blank" in name else "frag-slot"
        parts.append(f'<span class="{cls}">{escape(name)}</span>')
        pos = m.end()
    parts.append(escape(text[pos:]))
    return Markup("".join(parts))


def slots_html(text: str) -> Markup:
    """Fragment text with ``{{ slots }}`` and blanks highlighted, paragraphs kept."""
    out: list[str] = []
    for para in [p for p in text.split("\n") if p.strip()]:
        pos = 0
        parts: list[str] = []
        for m in _PLACEHOLDER.finditer(para):
            parts.append(escape(para[pos : m.start()]))
            cls = "frag-blank" if "blank" in m.group(0) else "frag-slot"
            parts.append(f'<span class="{cls}">{escape(m.group(0))}</span>')
            pos = m.end()
        parts.append(escape(para[pos:]))
        out.append("<p>" + "".join(parts) + "</p>")
    return Markup("\n".join(out))
