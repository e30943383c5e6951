"""Hypothesis properties over rendering and the brief loader (issue 6: bad and hostile input).

Cleaning (idempotent, never raises) is held in tests/ingest/test_clean.py and segmentation (never
raises, loses no text) in tests/ingest/test_segment.py; this file adds:

* every shipped fragment, rendered in every shipped template's numbering with all of its
  slots filled by arbitrary text and its blanks filled or not, leaves no ``{{``, ``{%`` or
  raw redaction token;
* the brief loader, fed random YAML structures and random text, only ever returns a Brief
  or raises a SpeechgenError — never anything else;
* compose, fed random briefs over the shipped library, likewise.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speechgen.compose.brief import (
    KEYS,
    POINT_KEYS,
    Brief,
    brief_from_file,
    parse_brief,
    raise_problems,
)
from speechgen.compose.render import Renderer, render_pick
from speechgen.compose.selection import Pick
from speechgen.compose.templates import available, load_template, template_dirs
from speechgen.errors import SpeechgenError
from speechgen.ingest.slots import has_raw_token
from speechgen.library import load_library
from speechgen.paths import shipped

SHIPPED = load_library([shipped("fragments")], use_cache=False).fragments
TEMPLATES = [load_template(name, template_dirs()) for name in sorted(available(template_dirs()))]

# Slot values a writer types: Chinese, digits, punctuation, Latin letters, spaces, % and #
# (a value is never read as Jinja). Braces are left out: two values side by side could
# spell {{ without any Jinja being involved.
VALUE = st.text(
    alphabet=st.sampled_from(list("临江市省委县区第二批主题教育李华同志0123456789年月日，。、（）() abcXYZ%#")),
    min_size=1,
    max_size=12,
).filter(lambda v: not has_raw_token(v))


def rendered_texts(part: dict[str, Any]) -> list[str]:
    """Every text of a rendered fragment as render_pick returns it."""
    out = [part["label"], part["heading"], *part["paragraphs"], *part["tail"]]
    for sp in part["subpoints"]:
        out += [sp["label"], sp["lead"], sp["text"]]
    return out


@settings(max_examples=150, deadline=None)
@given(
    frag=st.sampled_from(SHIPPED),
    template=st.sampled_from(TEMPLATES),
    seed=st.data(),
)
def test_every_shipped_fragment_renders_clean_with_all_slots_filled(
    frag: Any, template: Any, seed: st.DataObject
) -> None:
    names = sorted({*frag.slots, "点数", "年份", "日期", "讲话人", "会议"})
    values = {name: seed.draw(VALUE, label=name) for name in names}
    fills = seed.draw(
        st.dictionaries(st.integers(1, max(1, len(frag.blanks))), VALUE, max_size=len(frag.blanks)),
        label="blank fills",
    )
    r = Renderer(values, {frag.id: fills})
    role = "point" if frag.kind == "point" else "opening"
    part = render_pick(r, Pick(frag, role), 1, template)
    for text in rendered_texts(part):
        assert "{{" not in text and "{%" not in text and "}}" not in text and "%}" not in text, text
        assert not has_raw_token(text), text
    # each blank is either the brief's fill or a visible mark, never lost
    marks = sum(text.count("【＿＿】") for text in rendered_texts(part))
    assert marks == len([i for i in range(1, len(frag.blanks) + 1) if i not in fills])


# --------------------------------------------------------------------------- brief loader fuzz

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-5, 2**40)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["auto", "none", "2024-03-15", "2024-13-45", "s000.point.1", "s004.opening.1",
                      "推进会", "调查研究", "临江市", ""])
    | st.dates().map(str)
)
KEY = st.sampled_from([*KEYS, *POINT_KEYS, "市名", "本级", "pionts", "lead"]) | st.text(max_size=6)
TREE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEY | st.integers(0, 3), inner, max_size=4),
    max_leaves=25,
)
BRIEFISH = st.dictionaries(st.sampled_from([*KEYS, "pionts"]), TREE, max_size=8)
YAML_BITS = st.lists(
    st.sampled_from(
        ["template: ", "points:", "\n", "  ", "- ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "!!python/object/apply:os.system ['touch pwned']",
         "!!str ", "!!binary ", "? ", "'", '"', "#", "---\n", "...\n", "|\n", "%YAML 1.1\n", "\t",
         "s000.point.1", "2024-02-30", "vars:", "市名: 临江市", "query: 调查研究", "count: x", "<<: *a"]
    ),
    max_size=30,
).map("".join)


def load(text: str) -> Brief | SpeechgenError:
    """What the loader gives for *text*: a Brief or the SpeechgenError it raised."""
    try:
        brief, problems = parse_brief(text, "brief.yaml")
        raise_problems(brief.path, problems)
        return brief
    except SpeechgenError as exc:
        assert str(exc).startswith(("brief.yaml", "2 errors", "3 errors")) or " errors in brief.yaml:" in str(exc), str(exc)
        assert "Traceback" not in str(exc)
        return exc


@settings(max_examples=250, deadline=None)
@given(BRIEFISH | TREE | st.deferred(lambda: COMPOSE_BRIEF))
def test_brief_loader_survives_random_yaml_structures(data: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=bool(hash(str(data)) % 2))
    assert isinstance(load(text), (Brief, SpeechgenError))


@settings(max_examples=250, deadline=None)
@given(YAML_BITS | st.text(max_size=120))
def test_brief_loader_survives_random_text(text: str) -> None:
    assert isinstance(load(text), (Brief, SpeechgenError))
    assert not Path("pwned").exists()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200) | YAML_BITS.map(lambda t: t.encode("gbk", "replace")))
def test_brief_file_loader_survives_random_bytes(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "brief.yaml"
        path.write_bytes(data)
        try:
            assert isinstance(brief_from_file(path), Brief)
        except SpeechgenError as exc:
            assert str(exc)


# --------------------------------------------------------------------------- compose fuzz

IDS = sorted(f.id for f in SHIPPED)
POINT_IDS = sorted(f.id for f in SHIPPED if f.kind == "point")
# Mostly what a writer would write (so compose gets past selection and renders), with
# one choice in four anything at all.
GOOD_POINT = (
    st.sampled_from(POINT_IDS)
    | st.builds(lambda q: {"query": q}, st.sampled_from(["调查研究", "形式主义", "理论学习", "整改"]))
    | st.builds(lambda t: {"tags": t}, st.sampled_from([["主题教育"], ["推进会"], ["调查研究"]]))
)
BAD_POINT = (
    st.sampled_from(IDS + ["zzz", ""])
    | st.builds(lambda i, s: {"id": i, "subpoints": s}, st.sampled_from(IDS), st.lists(st.integers(-1, 5), max_size=3))
    | st.builds(lambda q, n: {"query": q, "count": n}, st.sampled_from(["调查研究", "量子", "学习"]), st.integers(0, 9))
    | TREE
)
COMPOSE_BRIEF = st.fixed_dictionaries(
    {
        "template": st.sampled_from(["推进会", "动员部署会", "领导小组会议"]),
        "points": st.lists(st.one_of(GOOD_POINT, GOOD_POINT, GOOD_POINT, BAD_POINT), min_size=1, max_size=4, unique_by=str),
        "vars": st.fixed_dictionaries({"市名": VALUE, "本级": VALUE, "上级": VALUE}),
    },
    optional={
        "date": st.sampled_from(["2024-03-15", "2019-09-26", "2024-02-30", 20240315]),
        "speaker": VALUE,
        "opening": st.sampled_from(["auto", "none", "s000.opening.1", "s000.point.1", "zzz"]) | TREE,
        "closing": st.sampled_from(["auto", "none", "s000.closing.1"]) | st.lists(st.sampled_from(IDS), max_size=2),
        "blanks": st.dictionaries(st.sampled_from(IDS), st.lists(VALUE, max_size=3) | TREE, max_size=2),
        "title": VALUE | st.just("{{ 市名 }}{{ meeting }}"),
        "campaign": VALUE,
        "speaking_rate": SCALARS,
    },
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=COMPOSE_BRIEF, allow_blanks=st.booleans())
def test_compose_ends_in_a_draft_or_a_speechgen_error(
    data: dict[str, Any], allow_blanks: bool, tmp_path: Path
) -> None:
    from speechgen.compose.pipeline import compose_file
    from speechgen.draft import to_markdown

    path = tmp_path / "brief.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    try:
        result = compose_file(path, [shipped("fragments")], template_dirs(), allow_blanks=allow_blanks)
    except SpeechgenError as exc:
        assert str(exc)
        return
    md = to_markdown(result.draft)
    assert "{{" not in md and "{%" not in md
    body = md.split("\n---\n", 1)[-1].replace("**", "")  # no front matter, no bold markup
    assert not has_raw_token(body)
