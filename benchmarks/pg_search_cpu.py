"""CPU of PostgreSQL searches, server and client apart, on a database already imported.

    python benchmarks/pg_search_cpu.py postgresql://bench@127.0.0.1:55432/m1 [--rounds 8] [--limit 30]

Runs ``store.search(q)`` for ``benchmarks/run.py``'s QUERIES, *rounds* times, in one
process on one connection (as ``serve``'s worker threads keep theirs), and prints the
server's CPU per search (the backend's utime + stime from ``/proc``: the server must run on
this machine), this process's CPU per search, and the p50 / p95 of the searches' wall time.
CPU time moves less than wall time on a shared machine: compare two versions of the code by
running this alternately (``PYTHONPATH=<other tree>``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from run import QUERIES

    from speechgen.library import open_store

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--limit", type=int, default=10, help="results a search (serve's library page asks for 30)")
    args = ap.parse_args()
    store = open_store([], database=args.url)
    store.remember = False  # every search asked of the database (older trees: no such attribute)
    store.search("预热")
    pid = store.conn.info.backend_pid
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        raise SystemExit(f"the server's backend (pid {pid}) is not a process of this machine")

    def server_cpu() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    times: list[float] = []
    s0, c0 = server_cpu(), time.process_time()
    for _ in range(args.rounds):
        for q in QUERIES:
            t = time.perf_counter()
            store.search(q, limit=args.limit)
            times.append(time.perf_counter() - t)
    n = len(times)
    times.sort()
    print(f"{n} searches: server CPU {(server_cpu() - s0) / n * 1000:.1f} ms a search, "
          f"client CPU {(time.process_time() - c0) / n * 1000:.1f} ms a search; "
          f"wall p50 {statistics.median(times) * 1000:.1f} ms, p95 {times[max(0, int(n * 0.95) - 1)] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
