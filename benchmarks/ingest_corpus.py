"""Score ingest on the speech structure fixtures (tests/fixtures/speeches/, issue #10).

    python benchmarks/ingest_corpus.py [FOLDER] [--verbose]

Each NAME.txt is ingested on its own (the real pipeline, into a temporary folder) and
the fragment files are compared with NAME.yaml: point count, the first six characters
of each heading, title, salutation, closing, announced count, sub-point counts, noise
that must be gone and text that must stay. Prints one line per fixture, then the totals
the issue measures (counts, headings %, titles, salutations, closings, false ones).
``tests/ingest/test_speech_corpus.py`` checks the same expectations one fixture a test.
"""

from __future__ import annotations

import html
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "speeches"
_WS = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?/?>")


def norm(text: str | None) -> str:
    """Text compared without white space, tags or entities (the fixtures' README)."""
    text = html.unescape(_TAG.sub("", text or ""))
    return _WS.sub("", text)


@dataclass
class Found:
    """What ingest made of one fixture, merged over the speeches it found."""

    speeches: int = 0
    title: str | None = None
    salutation: str | None = None
    closing: str | None = None
    headings: list[str] = field(default_factory=list)
    subpoints: list[int] = field(default_factory=list)
    announced: int | None = None
    texts: list[str] = field(default_factory=list)  # every text of every fragment
    warnings: list[str] = field(default_factory=list)


def run_ingest(txt: Path) -> Found:
    """Ingest *txt* alone with the real pipeline and read back the fragment files."""
    from speechgen.ingest import ingest

    found = Found()
    with tempfile.TemporaryDirectory() as tmp:
        report = ingest([txt], Path(tmp) / "out")
        if report.problems:
            found.warnings += report.problems
        for path in sorted((Path(tmp) / "out").glob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            _merge(found, data)
    return found


def _merge(found: Found, data: dict[str, Any]) -> None:
    src = data["source"]
    found.speeches += 1
    if found.title is None and src.get("title"):
        found.title = src["title"]
    if found.announced is None:
        found.announced = src.get("announced_points")
    found.warnings += src.get("warnings") or []
    for frag in data["fragments"]:
        kind = frag["kind"]
        if kind == "salutation" and found.salutation is None:
            found.salutation = frag["text"]
        elif kind == "closing":
            found.closing = frag["text"]
        elif kind == "point":
            found.headings.append(frag.get("heading", ""))
            found.subpoints.append(len(frag.get("subpoints") or []))
        parts = [frag.get("heading", ""), frag.get("text", ""), frag.get("tail", "")]
        parts += [s["lead"] + s["text"] for s in frag.get("subpoints") or []]
        found.texts.append("\n".join(parts))
    found.texts.append(src.get("title") or "")


@dataclass
class Score:
    """One fixture's results; each check is (passed, detail)."""

    name: str
    count: tuple[bool, str]
    headings: tuple[int, int, list[str]]  # right, expected, misses
    title: tuple[bool, str] | None
    salutation: tuple[bool, str]
    closing: tuple[bool, str]
    false_salutation: bool
    false_closing: bool
    announced: tuple[bool, str]
    subpoints: tuple[bool, str]
    removed: tuple[bool, str]
    kept: tuple[bool, str]
    speeches: int

    def failures(self) -> list[str]:
        """Every check that failed, as a short line."""
        out = []
        for label, check in (
            ("count", self.count), ("title", self.title), ("salutation", self.salutation),
            ("closing", self.closing), ("announced", self.announced), ("subpoints", self.subpoints),
            ("removed", self.removed), ("kept", self.kept),
        ):
            if check is not None and not check[0]:
                out.append(f"{label}: {check[1]}")
        if self.headings[2]:
            out.append("headings: " + "; ".join(self.headings[2]))
        if self.speeches != 1:
            out.append(f"speeches: found {self.speeches}, expected 1")
        return out


def _title_ok(want: str, got: str | None, subtitle: str | None) -> bool:
    got_n = norm(got)
    return got_n == norm(want) or (bool(subtitle) and got_n == norm(want) + norm(subtitle))


def score(name: str, expect: dict[str, Any], found: Found) -> Score:
    """Compare what ingest found with the fixture's expectations."""
    want_heads = [norm(h) for h in expect.get("headings") or []]
    got_heads = [norm(h) for h in found.headings]
    misses = []
    right = 0
    for i, want in enumerate(want_heads):
        got = got_heads[i] if i < len(got_heads) else ""
        if got.startswith(want) or (len(want) < 6 and got == want):
            right += 1
        else:
            misses.append(f"{i + 1}: want {want!r} got {got[:12]!r}")
    count = len(found.headings) == expect["count"]
    title: tuple[bool, str] | None = None
    if expect.get("title") is not None:
        ok = _title_ok(expect["title"], found.title, expect.get("subtitle"))
        title = (ok, f"want {expect['title']!r} got {found.title!r}")
    sal_want, clo_want = expect.get("salutation"), expect.get("closing")
    sal_ok = norm(found.salutation) == norm(sal_want) if sal_want else found.salutation is None
    clo_ok = norm(found.closing).startswith(norm(clo_want)) if clo_want else found.closing is None
    found_sub = [found.subpoints[k - 1] if k - 1 < len(found.subpoints) else 0 for k in (expect.get("subpoints") or {})]
    want_sub = list((expect.get("subpoints") or {}).values())
    all_text = norm("\n".join(found.texts))
    left = [r for r in expect.get("removed") or [] if norm(r) and norm(r) in all_text]
    lost = [k for k in expect.get("kept") or [] if norm(k) not in all_text]
    return Score(
        name=name,
        count=(count, f"want {expect['count']} got {len(found.headings)}"),
        headings=(right, len(want_heads), misses),
        title=title,
        salutation=(sal_ok, f"want {sal_want!r} got {(found.salutation or '')[:30]!r}" if found.salutation else f"want {sal_want!r} got None"),
        closing=(clo_ok, f"want {clo_want!r} got {(found.closing or '')[:20]!r}" if found.closing else f"want {clo_want!r} got None"),
        false_salutation=sal_want is None and found.salutation is not None,
        false_closing=clo_want is None and found.closing is not None,
        announced=(found.announced == expect.get("announced"), f"want {expect.get('announced')} got {found.announced}"),
        subpoints=(found_sub == want_sub, f"want {want_sub} got {found_sub}"),
        removed=(not left, f"still there: {left}"),
        kept=(not lost, f"lost: {lost}"),
        speeches=found.speeches,
    )


def fixtures(folder: Path = FIXTURES) -> list[Path]:
    """The fixture texts that have an expectation file next to them."""
    return sorted(p for p in folder.glob("*.txt") if p.with_suffix(".yaml").exists())


def expectation(txt: Path) -> dict[str, Any]:
    """The expectations of one fixture."""
    data = yaml.safe_load(txt.with_suffix(".yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv or "-v" in argv
    args = [a for a in argv if not a.startswith("-")]
    folder = Path(args[0]) if args else FIXTURES
    scores = []
    for txt in fixtures(folder):
        s = score(txt.stem, expectation(txt), run_ingest(txt))
        scores.append(s)
        fails = s.failures()
        mark = "ok  " if not fails else "FAIL"
        print(f"{mark} {s.name:42} points {'ok' if s.count[0] else s.count[1]:>12}  headings {s.headings[0]}/{s.headings[1]}")
        if verbose:
            for f in fails:
                print(f"       {f}")
    n = len(scores)
    heads_right = sum(s.headings[0] for s in scores)
    heads_all = sum(s.headings[1] for s in scores)
    titled = [s for s in scores if s.title is not None]
    sal = [s for s in scores if s.salutation[0] and not s.false_salutation]
    sal_want = [s for s in scores if "want None" not in s.salutation[1]]
    clo_want = [s for s in scores if "want None" not in s.closing[1]]
    print()
    print(f"fixtures            {n}   (fully right: {sum(1 for s in scores if not s.failures())})")
    print(f"point counts        {sum(1 for s in scores if s.count[0])}/{n}")
    print(f"headings (6 chars)  {heads_right}/{heads_all} = {100 * heads_right / max(1, heads_all):.1f}%")
    print(f"titles              {sum(1 for s in titled if s.title and s.title[0])}/{len(titled)}")
    print(f"salutations         {sum(1 for s in sal_want if s.salutation[0])}/{len(sal_want)}")
    print(f"closings            {sum(1 for s in clo_want if s.closing[0])}/{len(clo_want)}")
    print(f"false salutations   {sum(1 for s in scores if s.false_salutation)}")
    print(f"false closings      {sum(1 for s in scores if s.false_closing)}")
    print(f"announced counts    {sum(1 for s in scores if s.announced[0])}/{n}")
    print(f"sub-point counts    {sum(1 for s in scores if s.subpoints[0])}/{n}")
    print(f"noise removed       {sum(1 for s in scores if s.removed[0])}/{n}")
    print(f"text kept           {sum(1 for s in scores if s.kept[0])}/{n}")
    print(f"one speech a file   {sum(1 for s in scores if s.speeches == 1)}/{n}")
    del sal
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
