"""userfiles.compose_yaml reads with libyaml when it gives what PyYAML's pure parser gives."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

from speechgen import userfiles
from speechgen.errors import SpeechgenError

pytestmark = pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML built without libyaml")


def _tree(node: Any) -> Any:
    if node is None:
        return None
    base = (type(node).__name__, node.tag, node.start_mark.line, node.start_mark.column)
    if isinstance(node, yaml.ScalarNode):
        return (*base, node.value)
    if isinstance(node, yaml.SequenceNode):
        return (*base, tuple(_tree(v) for v in node.value))
    return (*base, tuple((_tree(k), _tree(v)) for k, v in node.value))


def _pure(text: str) -> Any:
    try:
        return _tree(yaml.compose(text, Loader=yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError):
        return "error"


_PIECES = [
    "a: 1\n", "- x\n", "  - y\n", "b: [1, 2]\n", "c: {d: e}\n", "'q': \"w\"\n", "k: |\n  line\n  more\n",
    "&a x: *a\n", "? z\n: v\n", "date: 2024-13-45\n", "t: !!python/name:os.system\n", "#c\n", "x: 'it''s'\n",
    "- - a\n", "e: >-\n  f\n  g\n", "中文：值\n", "中文: 值\n", "n: ~\n", "m: 0x1F\n", ": \n", "- \n", "\r\n",
    "y: @\n", "%YAML 1.1\n---\n", "...\n", "--- \n", "<<: {a: 1}\n", "{a: 1, a: 2}\n", "[1, [2, [3]]]\n",
    "  \n", 'u: "\\u00e9\\x41\\N\\_"\n', 'v: "\\ud800"\n', "- !!str 1\n", "- !custom x\n", "l" * 1100 + ": 1\n",
    "p: 'a\n  b'\n", "  q: r\n", "r: a # c\n", "[a, b]: c\n", "- 'x\n", '"\\q"\n', "* a\n", "| \n",
    "x:\n- 1\n- 2\n", "\u00a0a: b\n", "\x7f\n", "\x01\n", "𠮷: 字\n", "\t", "\ufeff", "\u2028", "\x85",
]


def _texts() -> list[str]:
    files = [*ROOT.glob("examples/*.yaml"), *ROOT.glob("tests/**/*.yaml")]
    texts = [p.read_bytes().decode("utf-8", "replace") for p in files if "golden" not in p.parts]
    rnd = random.Random(17)
    return texts + ["".join(rnd.choice(_PIECES) for _ in range(rnd.randint(1, 8))) for _ in range(6000)]


def test_libyaml_nodes_are_the_pure_parsers_or_it_is_not_used() -> None:
    used = 0
    for text in _texts():
        node = userfiles._c_compose(text)
        if node is userfiles._FAILED:
            continue  # the pure parser reads it (and words any error)
        used += 1
        assert _tree(node) == _pure(text), repr(text[:80])
    assert used > 1000


def test_errors_still_come_with_the_line(tmp_path: Path) -> None:
    with pytest.raises(SpeechgenError, match=r"brief\.yaml:3"):
        userfiles.compose_yaml("a: 1\nb: [1, 2\nc: {\n", "brief.yaml")
    _, problems = userfiles.compose_yaml("a: 1\nt: !!python/name:os.system\n", "brief.yaml")
    assert problems and "brief.yaml:2" in problems[0]
