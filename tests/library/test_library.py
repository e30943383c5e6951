"""The fragment library: loading, validation (exact messages), filters, look-ups."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from speechgen.errors import LibraryError, SpeechgenError
from speechgen.library import Filters, load_library, parse_library_file
from speechgen.paths import library_dirs, shipped

GOOD = """\
source:
  file: 000_demo.txt
  title: "{{ 市名 }}推进会上的讲话"
  meeting: 推进会
  year: 2023
fragments:
  - id: demo.opening.1
    kind: opening
    text: "{{ 上级 }}已对第二批主题教育作出安排。"
    tags: [主题教育]
    slots: [上级]
  - id: demo.point.1
    kind: point
    number: 1
    heading: 大兴调查研究之风
    text: "共召开{{ blank('数量') }}次会议。"
    subpoints:
      - {lead: 坚定理想信念。, text: 理想信念是精神支柱。}
    tags: [调查研究]
    slots: []
    blanks: [数量]
    review: true
  - id: demo.closing.1
    kind: closing
    text: 我就讲这么多。谢谢大家。
    slots: []
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def lib_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "lib", "demo.yaml", GOOD)
    return Path("lib")


def problems_of(folder: Path) -> str:
    with pytest.raises(LibraryError) as info:
        load_library([folder])
    return str(info.value)


@pytest.mark.parametrize("use_cache", [True, False])
def test_loads_fragments_in_file_order(lib_dir: Path, use_cache: bool) -> None:
    lib = load_library([lib_dir], use_cache=use_cache)
    assert lib.ids() == ["demo.opening.1", "demo.point.1", "demo.closing.1"]
    point = lib.get("demo.point.1")
    assert point.heading == "大兴调查研究之风"
    assert point.subpoints[0].lead == "坚定理想信念。"
    assert point.blanks == ("数量",)
    assert point.review is True
    assert point.source.meeting == "推进会"
    assert point.source.year == 2023
    assert point.path == "lib/demo.yaml"
    assert point.line == 12


def test_filters(lib_dir: Path) -> None:
    lib = load_library([lib_dir])
    assert [f.id for f in lib.select(Filters(kind="point"))] == ["demo.point.1"]
    assert [f.id for f in lib.select(Filters(tag="主题教育"))] == ["demo.opening.1"]
    assert [f.id for f in lib.select(Filters(needs_review=True))] == ["demo.point.1"]
    assert lib.select(Filters(year=2019)) == []
    assert len(lib.select(Filters(meeting="推进会", source="000_demo"))) == 3


def test_unknown_id_suggests_the_closest(lib_dir: Path) -> None:
    lib = load_library([lib_dir])
    with pytest.raises(SpeechgenError) as info:
        lib.get("demo.piont.1")
    assert str(info.value) == "unknown fragment id 'demo.piont.1' — did you mean 'demo.point.1'?"


def test_yaml_syntax_error_names_file_line_and_column(lib_dir: Path) -> None:
    write(lib_dir, "bad.yaml", "fragments:\n  - id: x\n    kind: [opening\n")
    assert problems_of(lib_dir) == (
        "fragment library: lib/bad.yaml:4:1: YAML syntax error: did not find expected ',' or ']' "
        "— check the indentation and quoting near this line"
    )


def test_python_tags_are_refused(lib_dir: Path) -> None:
    write(lib_dir, "evil.yaml", "fragments: !!python/object/apply:os.system ['touch pwned']\n")
    assert problems_of(lib_dir) == (
        "fragment library: lib/evil.yaml:1:12: the YAML tag !!python/object/apply:os.system "
        "is not allowed — only plain YAML (text, numbers, lists, mappings) is read, nothing that builds "
        "Python objects"
    )
    assert not Path("pwned").exists()


def test_duplicate_ids_across_files(lib_dir: Path) -> None:
    write(lib_dir, "zz.yaml", "fragments:\n  - id: demo.point.1\n    kind: closing\n    text: 谢谢。\n")
    assert problems_of(lib_dir) == (
        "fragment library: lib/zz.yaml:2: duplicate id 'demo.point.1' "
        "(first defined at lib/demo.yaml:12) — rename one of them"
    )


def test_every_problem_is_reported_at_once(lib_dir: Path) -> None:
    write(
        lib_dir,
        "many.yaml",
        "fragments:\n"
        "  - id: m.1\n    kind: piont\n    text: 正文\n"
        "  - id: m.2\n    kind: point\n    text: 正文\n"
        "  - id: m.3\n    kind: opening\n    text: '{{ 市名 }}的同志们'\n    slots: [本级]\n"
        "  - id: m.4\n    kind: opening\n    text: '{% if %}'\n",
    )
    assert problems_of(lib_dir).splitlines() == [
        "5 problems in the fragment library:",
        "  lib/many.yaml:2: fragment 'm.1' has unknown kind 'piont' — did you mean 'point'?",
        "  lib/many.yaml:5: point 'm.2' has no heading — add 'heading:'",
        "  lib/many.yaml:8: fragment 'm.3' uses slot '市名' but does not declare it — add it to 'slots:'",
        "  lib/many.yaml:8: fragment 'm.3' declares slot '本级' but its text never uses it — "
        "remove it from 'slots:'",
        "  lib/many.yaml:12: fragment 'm.4': Jinja syntax error: Expected an expression, got 'end of "
        "statement block' — check the {{ }} and {% %} in its text",
    ]


def test_text_missing_and_kind_list(lib_dir: Path) -> None:
    write(lib_dir, "empty.yaml", "fragments:\n  - id: e.1\n    kind: weird\n")
    assert problems_of(lib_dir).splitlines() == [
        "2 problems in the fragment library:",
        "  lib/empty.yaml:2: fragment 'e.1' has unknown kind 'weird' — use one of: title, salutation, "
        "opening, transition, point, closing, requirements, paragraph",
        "  lib/empty.yaml:2: fragment 'e.1' has no text — add 'text:'",
    ]


def test_jinja_reaching_for_internals_is_a_problem(lib_dir: Path) -> None:
    write(
        lib_dir,
        "hostile.yaml",
        "fragments:\n  - id: h.1\n    kind: opening\n"
        "    text: \"{{ cycler.__init__.__globals__.os.system('touch pwned') }}\"\n",
    )
    assert problems_of(lib_dir).splitlines() == [
        "2 problems in the fragment library:",
        "  lib/hostile.yaml:2: fragment 'h.1': reaches for Python internals (__globals__) — remove it",
        "  lib/hostile.yaml:2: fragment 'h.1': reaches for Python internals (__init__) — remove it",
    ]
    assert not Path("pwned").exists()


def test_not_a_fragment_file(lib_dir: Path) -> None:
    write(lib_dir, "notes.yaml", "- just\n- a list\n")
    assert problems_of(lib_dir) == (
        "fragment library: lib/notes.yaml: not a fragment file — it needs a 'fragments:' list "
        "(see docs/fragments.md)"
    )


def test_missing_library_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LibraryError) as info:
        load_library([Path("nowhere")])
    assert str(info.value) == (
        "nowhere: library folder does not exist — check --library / SPEECHGEN_LIBRARY"
    )


def test_parse_reports_instead_of_raising(lib_dir: Path) -> None:
    write(lib_dir, "bin.yaml", "")
    (lib_dir / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    lf = parse_library_file(lib_dir / "bin.yaml")
    assert lf.problems == ("lib/bin.yaml: not UTF-8 text — save it as UTF-8",)
    assert lf.fragments == ()


def test_library_dirs_from_env_and_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    monkeypatch.setenv("SPEECHGEN_LIBRARY", os.pathsep.join([str(a), str(b)]))
    dirs = library_dirs([c, a])
    assert dirs == [shipped("fragments"), a, b, c]


def test_shipped_library_is_found_and_valid() -> None:
    lib = load_library([shipped("fragments")])
    assert len(lib) > 0
    assert {"opening", "point", "closing"} <= {f.kind for f in lib.fragments}


def test_dates_in_fragment_files_stay_text(lib_dir: Path) -> None:
    write(
        lib_dir,
        "dated.yaml",
        "source: {file: x.txt, date: 2024-13-45}\nfragments:\n  - {id: t.1, kind: opening, text: 正文}\n",
    )
    frag = load_library([lib_dir]).get("t.1")
    assert frag.source.date == "2024-13-45"


def test_variants_are_one_family_however_they_are_linked(tmp_path: Path) -> None:
    from speechgen.library import Library
    from speechgen.model import Fragment, Variant

    def frag(fid: str, *links: str) -> Fragment:
        return Fragment(fid, "point", text="正文", heading="题", variants=tuple(Variant("x.txt", v) for v in links))

    # a canonical fragment listing two copies, and a near-duplicate linked only to a copy
    lib = Library([frag("a", "b", "c"), frag("b", "a"), frag("c", "a"), frag("d", "c"), frag("e")])
    assert [f.id for f in lib.variants_of(lib.get("b"))] == ["a", "c", "d"]
    assert [f.id for f in lib.variants_of(lib.get("d"))] == ["a", "b", "c"]
    assert lib.variants_of(lib.get("e")) == []


def test_campaign_phase_and_facts_fields(lib_dir: Path) -> None:
    write(lib_dir, "ok.yaml", "fragments:\n  - id: k.1\n    kind: opening\n    text: 今天召开推进会。\n"
          "    campaign: 主题教育\n    phase: 推进\n    facts: [{kind: 事件, text: 今天召开推进会。}]\n")
    frag = load_library([lib_dir]).get("k.1")
    assert (frag.campaign, frag.phase) == ("主题教育", "推进")
    assert [(f.kind, f.text) for f in frag.facts] == [("事件", "今天召开推进会。")]
    assert frag.to_dict()["facts"] == [{"kind": "事件", "text": "今天召开推进会。"}]
    write(lib_dir, "ok.yaml", "fragments:\n  - id: k.1\n    kind: opening\n    text: 今天召开推进会。\n"
          "    phase: 收尾\n    facts: [今天召开推进会。]\n")
    assert problems_of(lib_dir).splitlines()[1:] == [
        "  lib/ok.yaml:2: fragment 'k.1': 'phase' is 筹备, 启动, 推进 or 总结, not '收尾' — or leave it out",
        "  lib/ok.yaml:2: fragment 'k.1': 'facts' must be a list of {kind: 地方, text: …}",
    ]
