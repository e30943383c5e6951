"""Does this tree's ingest write the same bytes as another tree's? (a check script, not a test)

Runs `speechgen ingest` with each tree's code (``PYTHONPATH=<tree>``, the same interpreter and
virtualenv) on the seed speeches (corpus/seeds/) and the fixture speeches
(tests/fixtures/speeches/: the folder at once, and each file on its own), in the default mode and
with --exact-keywords, and compares every fragment file written and the --json report byte for
byte. The folder runs are real `speechgen` processes (short runs: keywords walk jieba's route in
Python); the 41 single files run in one process per tree and mode through the same `ingest()` the
command calls, with the compiled route (jieba-rs, `tags.COMPILED_FROM = 0`) from the start, and
the caches ingest keeps between files.

    python tests/ingest/same_output.py --before /tmp/main-copy [--after .]

Exit status 0 when everything is identical, 1 otherwise (the differing files are listed).
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "corpus" / "seeds"
SPEECHES = ROOT / "tests" / "fixtures" / "speeches"

# One process: ingest each fixture file on its own into out/<name>/ (argv: out, exact, files...).
_EACH = """
import json, sys
from pathlib import Path
from speechgen.ingest import exact_keywords, ingest, tags
tags.COMPILED_FROM = 0  # this tree's compiled route (jieba-rs) from the first block, where it has one
out, exact, files = Path(sys.argv[1]), sys.argv[2] == "1", sys.argv[3:]
for f in files:
    with exact_keywords(exact):
        report = ingest([Path(f)], out / Path(f).stem, progress=False)
    (out / (Path(f).stem + ".json")).write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
"""


def _run(tree: Path, args: list[str], out: Path) -> subprocess.CompletedProcess[str]:
    # run in *out* (not in a tree: `python -c` puts the working folder first on sys.path), so
    # the report shows the outputs as relative paths, the same for both trees
    env = dict(os.environ, PYTHONPATH=str(tree), SPEECHGEN_CACHE=str(out / "cache"))
    env.pop("SPEECHGEN_LIBRARY", None)
    env.pop("SPEECHGEN_DATABASE", None)
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, cwd=out)


def outputs(tree: Path, out: Path) -> None:
    """Everything *tree*'s ingest writes for the cases above, under *out*."""
    out.mkdir(parents=True)
    cli = ["-c", "import sys; sys.argv[0] = 'speechgen'; from speechgen.cli import main; main()", "ingest"]
    files = sorted(str(p) for p in SPEECHES.glob("*.txt"))
    for mode, flag in (("default", []), ("exact", ["--exact-keywords"])):
        for name, src in (("seeds", SEEDS), ("speeches", SPEECHES)):
            dest = out / mode / name
            done = _run(tree, [*cli, str(src), "--out", str(dest), "--json", *flag], out)
            (out / mode / f"{name}.json").write_text(done.stdout + f"\n[exit {done.returncode}]\n" + done.stderr)
        done = _run(tree, ["-c", _EACH, str(out / mode / "each"), "1" if flag else "0", *files], out)
        if done.returncode:
            raise SystemExit(f"{tree}: single-file ingest failed:\n{done.stderr}")


def differences(a: Path, b: Path) -> tuple[list[str], int]:
    """Relative paths that differ or exist on one side only, and how many files were compared."""
    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "cache" not in p.relative_to(a).parts}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "cache" not in p.relative_to(b).parts}
    differ = sorted(str(n) for n in names_a ^ names_b)
    for n in sorted(names_a & names_b):
        if not filecmp.cmp(a / n, b / n, shallow=False):
            differ.append(str(n))
    return differ, len(names_a | names_b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", type=Path, required=True, help="the other tree (e.g. an unpacked copy of main)")
    ap.add_argument("--after", type=Path, default=ROOT, help="this tree (default)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="speechgen-same-") as tmp:
        a, b = Path(tmp) / "before", Path(tmp) / "after"
        outputs(args.before.resolve(), a)
        outputs(args.after.resolve(), b)
        differ, n = differences(a, b)
        yaml_files = sum(1 for p in b.rglob("*.yaml"))
        print(f"compared {n} files ({yaml_files} fragment files): {len(differ)} differ")
        for d in differ:
            print("  differs:", d)
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
