"""Rule ``source-fact``: a fact of the source speech standing in the draft as its source said it.

Needs provenance (the fragment of each block, ``<!-- fragment: ID -->`` in the .md or the
.docx's custom properties) and the library's ``facts:`` of that fragment (see
:mod:`speechgen.facts`). Without them the rule says nothing: a sentence naming a person
or a date is no defect in itself — only in a speech it was not written for.
"""

from __future__ import annotations

from speechgen.facts import pattern
from speechgen.lint import Finding, LintContext
from speechgen.lint.base import Para, hit

_KINDS = {"地方": "another place's history", "事件": "a dated event", "人名": "a named person", "数字": "a figure"}


def source_fact(paras: list[Para], context: LintContext) -> list[Finding]:
    """A fact of the block's source fragment, found whole and unblanked in the block.

    Another place's history is reported whatever was filled into it (the brief's 市名 in
    another city's facts); another fact only when its source left nothing blank in it (a
    blank the writer filled is the writer's fact).
    """
    out = []
    for p in paras:
        for fact in context.facts.get(p.source, ()):
            if fact.kind != "地方" and "blank(" in fact.text:
                continue
            m = pattern(fact).search(p.text)
            if m is None:
                continue
            filled = m.groups() if fact.kind == "地方" else (m.group(0),)
            if not any(g and "【" not in g for g in filled):
                continue
            what = _KINDS.get(fact.kind, fact.kind)
            out.append(hit(p, "source-fact", m.group(0),
                           f"a fact of its source speech ({what}, {p.source}) — it holds there, not necessarily here",
                           "replace it with this speech's own fact, or cut it (compose's facts: mark leaves it blank)"))
    return out
