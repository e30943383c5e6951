"""compose → .docx against its baseline by CPU time, the runs alternating (for a shared machine).

The baseline is `benchmarks/run.py`'s: a script that imports typer, yaml, jinja2.sandbox and
docx and writes the draft's paragraphs with python-docx. Each round runs the baseline, then
``speechgen compose examples/推进会.yaml`` for each tree given (a copy of another checkout,
put first on ``PYTHONPATH``; none: this one), each with its own cache folder; the medians of
``wait4``'s user + system time are compared. Two warm-up rounds first.

    python benchmarks/compose_cpu.py [--repeat 15] [--tree /path/to/other/checkout ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import docx_baseline  # noqa: E402  (the baseline script of run.py's compose row)

SCRIPT = Path(sys.executable).with_name("speechgen")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--tree", action="append", default=[], help="another checkout to compare (run with PYTHONPATH)")
    args = ap.parse_args()
    speechgen = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "speechgen.cli"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "SPEECHGEN_LIBRARY")}
    with tempfile.TemporaryDirectory(prefix="speechgen-cpu-") as tmp:
        work = Path(tmp)
        md = work / "draft.md"
        subprocess.run([*speechgen, "compose", str(ROOT / "examples" / "推进会.yaml"), "-o", str(md)],
                       env=dict(env, SPEECHGEN_CACHE=str(work / "cache")), check=True, capture_output=True)
        base = docx_baseline(work, md, "baseline.py", "import typer, yaml, jinja2.sandbox\n")
        runs: dict[str, tuple[list[str], dict[str, str]]] = {"baseline": ([sys.executable, str(base)], env)}
        for i, tree in enumerate([*args.tree, str(ROOT)]):
            t = Path(tree).resolve()
            tree_env = dict(env, SPEECHGEN_CACHE=str(work / f"cache{i}"))
            if t != ROOT:
                tree_env["PYTHONPATH"] = str(t)
            runs[str(t)] = ([*speechgen, "compose", str(t / "examples" / "推进会.yaml"), "-o", str(work / f"x{i}.docx"),
                             "--force"], tree_env)
        cpu: dict[str, list[float]] = {k: [] for k in runs}
        wall: dict[str, list[float]] = {k: [] for k in runs}
        start_load = os.getloadavg()[0]
        for round_ in range(args.repeat + 2):
            for name, (cmd, cmd_env) in runs.items():
                start = time.perf_counter()
                proc = subprocess.Popen(cmd, env=cmd_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _, status, usage = os.wait4(proc.pid, 0)
                if os.waitstatus_to_exitcode(status) != 0:
                    raise SystemExit(f"failed: {' '.join(cmd)}")
                if round_ >= 2:
                    cpu[name].append(usage.ru_utime + usage.ru_stime)
                    wall[name].append(time.perf_counter() - start)
    print(f"load average {start_load:.1f} at start, {os.getloadavg()[0]:.1f} at end; "
          f"{args.repeat} runs each, alternating; medians")
    b = statistics.median(cpu["baseline"])
    for name in runs:
        c = statistics.median(cpu[name])
        print(f"  {name:40s} CPU {c * 1000:5.0f} ms (wall {statistics.median(wall[name]) * 1000:5.0f} ms)  {c / b:.2f}x")


if __name__ == "__main__":
    main()
