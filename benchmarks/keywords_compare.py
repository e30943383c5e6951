"""Keywords of ingest, ranked (the default) against exact (``--exact-keywords``), on the same texts.

Each file is ingested on its own (the real pipeline, into a temporary folder); every text
ingest asks keywords for is kept, and its keywords are then computed both ways. Prints, per
run, how many fragments have the same five keywords, how many keywords the two lists share,
and every word only one way keeps (with how often). docs/ingest.md, "Keywords", shows the
figures for the seeds and the test fixtures.

    python benchmarks/keywords_compare.py 'corpus/seeds/*.txt'
    python benchmarks/keywords_compare.py 'tests/fixtures/speeches/*.txt' [-v]
"""

from __future__ import annotations

import glob
import sys
import tempfile
from collections import Counter
from pathlib import Path


def main() -> None:
    verbose = "-v" in sys.argv[1:]
    files = sorted(f for g in sys.argv[1:] if g != "-v" for f in glob.glob(g))
    from speechgen.ingest import tags
    from speechgen.ingest.pipeline import ingest

    asked: list[tuple[str, int, tuple[str, ...]]] = []
    keywords = tags.keywords

    def record(text: str, top: int = 6, skip: tuple[str, ...] = ()) -> list[str]:
        asked.append((text, top, skip))
        return keywords(text, top, skip)

    tags.keywords = record  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            ingest([Path(f)], Path(tmp) / Path(f).stem)
    tags.keywords = keywords  # type: ignore[assignment]
    same = shared = total = 0
    only_exact: Counter[str] = Counter()
    only_ranked: Counter[str] = Counter()
    for text, top, skip in asked:
        ranked = keywords(text, top, skip)
        with tags.exact_keywords():
            exact = keywords(text, top, skip)
        same += ranked == exact
        shared += len(set(ranked) & set(exact))
        total += max(len(ranked), len(exact))
        only_exact.update(w for w in exact if w not in ranked)
        only_ranked.update(w for w in ranked if w not in exact)
        if verbose and ranked != exact:
            print(f"  {text[:24]!r}: {exact} -> {ranked}")
    n = len(asked)
    print(f"{len(files)} files, {n} fragments: same keywords {same} ({same / max(n, 1):.0%}), "
          f"keywords in common {shared}/{total} ({shared / max(total, 1):.1%})")
    print("only exact: ", " ".join(f"{w}×{c}" if c > 1 else w for w, c in only_exact.most_common()))
    print("only ranked:", " ".join(f"{w}×{c}" if c > 1 else w for w, c in only_ranked.most_common()))


if __name__ == "__main__":
    main()
