"""Ingest throughput on distinct text: the seed speeches once each, no copies to reuse work from.

`benchmarks/run.py` measures ingest over copies of the seeds, where exact copies are cheap by
design. This measures the other end, in one process so that start-up (about 1 s: Python, jieba's
dictionary, its IDF table) does not swamp 56 kB of text: `ingest()` over the five seeds with the
tagging caches emptied before each run, against `jieba.lcut` and jieba's part-of-speech tagger
(`jieba.posseg`, which the exact TF-IDF keywords use) over the same texts. Median of --repeat
runs, by wall clock and by CPU time of this process (steadier on a shared machine: the runs of
ingest and lcut alternate, so a busy spell slows both). --exact-keywords measures ingest with
jieba's own extract_tags (every word tagged), as before the ranked keywords.

The figure is a long run's (its steady state): like jieba's dictionary, the jieba-rs tokenizer
that walks jieba's route for the keywords is built before timing (a process builds it once it
has cut 200,000 characters, about 0.26 s; `tags.COMPILED_FROM`). --python-route measures a
short run instead, whose keywords walk the route in Python.

    python benchmarks/ingest_distinct.py [--repeat 7] [--exact-keywords] [--python-route]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--exact-keywords", action="store_true", help="ingest with jieba's extract_tags keywords")
    ap.add_argument("--python-route", action="store_true",
                    help="a short run's keywords: jieba's route walked in Python, no jieba-rs tokenizer")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="speechgen-distinct-") as tmp:
        os.environ["SPEECHGEN_CACHE"] = str(Path(tmp) / "cache")
        from speechgen.ingest import tags
        from speechgen.ingest.pipeline import ingest
        from speechgen.words import _jieba

        jb = _jieba()
        import jieba.analyse  # noqa: F401  (loaded before timing, as in a long run)
        import jieba.posseg

        if hasattr(tags, "COMPILED_FROM"):  # (older trees have no compiled route)
            if args.python_route:
                tags.COMPILED_FROM = 1 << 62
            else:  # built before timing, as in a long run
                tags.COMPILED_FROM = 0
                tags._compiled_route(jb.dt, "的")

        seeds = sorted((ROOT / "corpus" / "seeds").glob("*.txt"))
        texts = [p.read_text(encoding="utf-8") for p in seeds]
        mb = sum(p.stat().st_size for p in seeds) / 1e6
        runs: dict[str, list[float]] = {"ingest": [], "lcut": [], "posseg": []}
        cpu: dict[str, list[float]] = {"ingest": [], "lcut": []}
        # caches of tagging work, emptied before each run (getattr: the script also measures older trees)
        caches = [getattr(tags, name) for name in ("_tagged", "_keywords", "_candidates", "_run_tags") if hasattr(tags, name)]
        exact = getattr(tags, "exact_keywords", None)
        for k in range(args.repeat):
            for cache in caches:
                cache.cache_clear()
            start, start_cpu = time.perf_counter(), time.process_time()
            with exact(args.exact_keywords) if exact else contextlib.nullcontext():
                ingest(seeds, Path(tmp) / f"out{k}")
            runs["ingest"].append(time.perf_counter() - start)
            cpu["ingest"].append(time.process_time() - start_cpu)
            start, start_cpu = time.perf_counter(), time.process_time()
            for t in texts:
                jb.lcut(t)
            runs["lcut"].append(time.perf_counter() - start)
            cpu["lcut"].append(time.process_time() - start_cpu)
            start = time.perf_counter()
            for t in texts:
                list(jieba.posseg.dt.cut(t))
            runs["posseg"].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{mb:.3f} MB of distinct text, in-process, median of {args.repeat}:")
    for k in ("ingest", "lcut", "posseg"):
        print(f"  {k:7s} {mb / med[k]:.2f} MB/s")
    print(f"  ingest / lcut: {med['lcut'] / med['ingest']:.2f}x")
    cpu_med = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"  CPU time: ingest {cpu_med['ingest'] * 1000:.0f} ms, lcut {cpu_med['lcut'] * 1000:.0f} ms: "
          f"ingest / lcut {cpu_med['lcut'] / cpu_med['ingest']:.2f}x")


if __name__ == "__main__":
    main()
