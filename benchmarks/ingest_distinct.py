"""Ingest throughput on distinct text: the seed speeches once each, no copies to reuse work from.

`benchmarks/run.py` measures ingest over copies of the seeds, where exact copies are cheap by
design. This measures the other end, in one process so that start-up (about 1 s: Python, jieba's
dictionary, its IDF table) does not swamp 56 kB of text: `ingest()` over the five seeds with the
tagging caches emptied before each run, against `jieba.lcut` and jieba's part-of-speech tagger
(`jieba.posseg`, which the TF-IDF keywords use) over the same texts. Median of --repeat runs.

    python benchmarks/ingest_distinct.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="speechgen-distinct-") as tmp:
        os.environ["SPEECHGEN_CACHE"] = str(Path(tmp) / "cache")
        from speechgen.ingest import tags
        from speechgen.ingest.pipeline import ingest
        from speechgen.words import _jieba

        jb = _jieba()
        import jieba.analyse  # noqa: F401  (loaded before timing, as in a long run)
        import jieba.posseg

        seeds = sorted((ROOT / "corpus" / "seeds").glob("*.txt"))
        texts = [p.read_text(encoding="utf-8") for p in seeds]
        mb = sum(p.stat().st_size for p in seeds) / 1e6
        runs: dict[str, list[float]] = {"ingest": [], "lcut": [], "posseg": []}
        for k in range(args.repeat):
            tags._tagged.cache_clear()
            tags._keywords.cache_clear()
            tags._candidates.cache_clear()
            tags._run_tags.cache_clear()
            start = time.perf_counter()
            ingest(seeds, Path(tmp) / f"out{k}")
            runs["ingest"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for t in texts:
                jb.lcut(t)
            runs["lcut"].append(time.perf_counter() - start)
            start = time.perf_counter()
            for t in texts:
                list(jieba.posseg.dt.cut(t))
            runs["posseg"].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{mb:.3f} MB of distinct text, in-process, median of {args.repeat}:")
    for k in ("ingest", "lcut", "posseg"):
        print(f"  {k:7s} {mb / med[k]:.2f} MB/s")
    print(f"  ingest / lcut: {med['lcut'] / med['ingest']:.2f}x")


if __name__ == "__main__":
    main()
