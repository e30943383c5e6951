"""The package layout: data flows one way (ingest → library ← compose → export), no cycles.

Every ``import`` in speechgen/ is read with :mod:`ast`, those inside functions too (a lazy
import is still a dependency), and checked against the layers below; then each module is
imported alone in a fresh interpreter, so none relies on another having been imported first.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PKG = ROOT / "speechgen"

#: Top-level helpers every stage may use; each imports only what is listed for it.
BASE = {
    "speechgen.errors": set(),
    "speechgen.model": set(),
    "speechgen.userfiles": {"speechgen.errors"},
    "speechgen.paths": set(),
    "speechgen.output": {"speechgen.errors", "speechgen.userfiles"},
    "speechgen.words": {"speechgen.paths"},
    "speechgen.numerals": {"speechgen.paths"},
    "speechgen.draft": {"speechgen.errors", "speechgen.userfiles"},
    "speechgen.cachefiles": {"speechgen.paths"},  # private cache files (compiled templates, the Word base)
    "speechgen.warmstart": {"speechgen.cachefiles"},  # compiled regexes and dataclass code between runs (cli)
    "speechgen.facts": {"speechgen.model"},  # facts of a source speech: ingest finds, compose marks, lint reports
}

#: stage → the stages (besides the base helpers) it may import.
STAGES = {
    "library": set(),
    "ingest": {"library", "lint"},  # ingest reads lint's campaign knowledge (campaigns.yaml, phases)
    "compose": {"library", "lint"},  # compose lints the draft it wrote (issue #11)
    "export": set(),
    "lint": {"library"},
    # cli's `serve` imports web lazily (inside the command), so --help never pays for it
    "cli": {"library", "ingest", "compose", "export", "lint", "db", "web"},
    "web": {"library", "ingest", "compose", "export", "lint", "db"},
    "db": {"library", "ingest"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def imports_of(path: Path, name: str) -> set[str]:
    """The speechgen modules *path* imports (at the top or inside a function)."""
    modules = all_modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return {m for m in found if m == "speechgen" or m.startswith("speechgen.")}


def stage_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


GRAPH = {name: imports_of(path, name) for name, path in all_modules().items()}


def test_the_layout_has_the_stages_it_promises() -> None:
    for stage in ("ingest", "library", "compose", "export", "cli"):
        assert (PKG / stage / "__init__.py").is_file(), stage
    assert set(BASE) <= set(GRAPH)


@pytest.mark.parametrize("module", sorted(BASE))
def test_base_helpers_import_only_what_they_need(module: str) -> None:
    assert GRAPH[module] <= BASE[module] | {module}, GRAPH[module] - BASE[module]


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if stage_of(m) in STAGES))
def test_nothing_imports_upward(module: str) -> None:
    stage = stage_of(module)
    allowed = STAGES[stage] | {stage}
    for dep in GRAPH[module]:
        if dep == "speechgen" or dep in BASE:
            continue
        assert stage_of(dep) in allowed, f"{module} imports {dep}: {stage} may use only {sorted(allowed)}"


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over the import graph: all of size one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH or w == v:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            # a package importing its own submodules (re-exports) is not a cycle of code
            if len(scc) > 1 and not all(m == p or m.startswith(p + ".") for p in [min(scc)] for m in scc):
                cycles.append(sorted(scc))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == []


def test_every_module_imports_alone_in_a_fresh_interpreter() -> None:
    code = (
        "import importlib, subprocess, sys\n"
        "bad = []\n"
        "for m in sys.argv[1:]:\n"
        "    r = subprocess.run([sys.executable, '-c', f'import {m}'], capture_output=True, text=True)\n"
        "    if r.returncode: bad.append(m + ': ' + r.stderr.strip().splitlines()[-1])\n"
        "print('\\n'.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *sorted(m for m in GRAPH if not m.endswith("__main__"))], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout.strip()
    assert out == ""


def test_the_command_line_uses_only_the_public_api() -> None:
    """cli/ imports stages through their ``__init__`` (and the base helpers), never their insides."""
    public = {"speechgen", *BASE, *(f"speechgen.{s}" for s in STAGES)}
    for module in (m for m in GRAPH if stage_of(m) == "cli"):
        inner = {d for d in GRAPH[module] if d not in public and stage_of(d) != "cli"}
        assert inner == set(), f"{module} reaches into {sorted(inner)}"
