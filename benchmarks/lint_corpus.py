"""Recall and precision of ``speechgen lint`` on tests/fixtures/lint (per rule and overall).

    python benchmarks/lint_corpus.py [-v]

A finding matches an expected one when rule and line agree and the texts overlap (one
contains the other, or they share 3 characters in a row). -v lists misses and false alarms.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

from speechgen.lint import RULES, Finding, lint_draft
from speechgen.lint.files import context_of, text_draft

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "lint"


def overlaps(a: str, b: str) -> bool:
    """The texts overlap: one inside the other, or three characters in a row in common."""
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    return any(a[i : i + 3] in b for i in range(len(a) - 2))


def lint_case(case: dict) -> list[Finding]:
    """Lint one fixture file as its case says (brief and provenance)."""
    from dataclasses import replace

    draft, lines = text_draft((FIXTURES / case["file"]).read_text(encoding="utf-8"))
    from speechgen.model import Fact

    prov = {int(k): int(v) for k, v in (case.get("provenance") or {}).items()}
    facts = {int(k): tuple(Fact(f["kind"], f["text"]) for f in v) for k, v in (case.get("facts") or {}).items()}
    blocks = tuple(replace(b, source=f"line {n}" if n in prov or n in facts else "")
                   for b, n in zip(draft.blocks, lines, strict=True))
    draft = replace(draft, blocks=blocks)
    context = context_of(dict(case.get("brief") or {}))
    context = replace(context, years={f"line {n}": y for n, y in prov.items()},
                      facts={f"line {n}": f for n, f in facts.items()})
    return lint_draft(draft, context, lines=lines)


def score() -> tuple[Counter[str], Counter[str], Counter[str], list[str], list[str], list[str]]:
    """(true positives, expected, reported) per rule; misses; false alarms; findings on clean files."""
    cases = yaml.safe_load((FIXTURES / "cases.yaml").read_text(encoding="utf-8"))
    tp: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    reported: Counter[str] = Counter()
    misses: list[str] = []
    false: list[str] = []
    clean: list[str] = []
    for case in cases:
        found = lint_case(case)
        want = case.get("findings") or []
        used: set[int] = set()
        for w in want:
            expected[w["rule"]] += 1
            match = next((i for i, f in enumerate(found) if i not in used and f.rule == w["rule"]
                          and f.line == w["line"] and overlaps(f.text, str(w["text"]))), None)
            if match is None:
                misses.append(f"{case['file']}:{w['line']} {w['rule']} «{w['text']}»")
            else:
                used.add(match)
                tp[w["rule"]] += 1
        for i, f in enumerate(found):
            reported[f.rule] += 1
            if i not in used:
                line = f"{case['file']}:{f.line} {f.rule} «{f.text}» {f.message}"
                (clean if case["file"].startswith("clean/") else false).append(line)
    return tp, expected, reported, misses, false, clean


def main() -> None:
    tp, expected, reported, misses, false, clean = score()
    print(f"{'rule':16} {'recall':>12} {'precision':>12}")
    for rule in RULES:
        r = f"{tp[rule]}/{expected[rule]}" if expected[rule] else "-"
        p = f"{tp[rule]}/{reported[rule]}" if reported[rule] else "-"
        print(f"{rule:16} {r:>12} {p:>12}")
    t, e, n = sum(tp.values()), sum(expected.values()), sum(reported.values())
    print(f"{'all':16} {t}/{e} = {t / e:.2f}   {t}/{n} = {t / max(n, 1):.2f}; on clean files: {len(clean)}")
    if "-v" in sys.argv:
        for title, items in (("missed", misses), ("false alarms", false), ("on clean files", clean)):
            print(f"\n{title}:")
            print("\n".join("  " + x for x in items) or "  none")


if __name__ == "__main__":
    main()
