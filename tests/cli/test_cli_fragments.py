"""`speechgen fragments list|show|search|slots` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speechgen.cli import app

LIB = """\
source: {file: 000_demo.txt, title: 推进会上的讲话, meeting: 推进会, year: 2023}
fragments:
  - id: d.opening.1
    kind: opening
    text: "{{ 上级 }}已对第二批主题教育作出安排。"
    tags: [主题教育]
    slots: [上级]
  - id: d.point.1
    kind: point
    heading: 大兴调查研究之风
    text: "深入基层，共召开{{ blank('数量') }}次座谈会，摸清实情。"
    tags: [调查研究]
    blanks: [数量]
    review: true
  - id: d.point.2
    kind: point
    heading: 力戒形式主义
    text: 坚决力戒形式主义、官僚主义，切实为基层减负。
    tags: [形式主义]
    variants: [{source: 001_demo.txt, id: e.point.2, similarity: 0.97}]
"""

OTHER = """\
source: {file: 001_demo.txt, meeting: 领导小组会议, year: 2019}
fragments:
  - id: e.point.2
    kind: point
    heading: 力戒形式主义官僚主义
    text: 坚决力戒形式主义、官僚主义，为基层减负。
"""

runner = CliRunner()


@pytest.fixture()
def lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "lib"
    d.mkdir()
    (d / "a.yaml").write_text(LIB, encoding="utf-8")
    (d / "b.yaml").write_text(OTHER, encoding="utf-8")
    return "lib"


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> list[dict]:
    code, out, err = run(*args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_list_json_carries_the_contract_fields(lib: str) -> None:
    rows = [r for r in run_json("fragments", "list", "-L", lib) if r["file"].startswith("lib/")]
    assert [r["id"] for r in rows] == ["d.opening.1", "d.point.1", "d.point.2", "e.point.2"]
    first = rows[1]
    assert first["kind"] == "point"
    assert first["heading"] == "大兴调查研究之风"
    assert first["text"].startswith("深入基层")
    assert first["tags"] == ["调查研究"]
    assert first["source"] == "000_demo.txt"


@pytest.mark.parametrize(
    ("args", "ids"),
    [
        (["--kind", "opening"], ["d.opening.1"]),
        (["--tag", "形式主义"], ["d.point.2"]),
        (["--meeting", "领导小组"], ["e.point.2"]),
        (["--year", "2019"], ["e.point.2"]),
        (["--source", "001_demo"], ["e.point.2"]),
        (["--needs-review"], ["d.point.1"]),
    ],
)
def test_list_filters(lib: str, args: list[str], ids: list[str]) -> None:
    rows = run_json("fragments", "list", "-L", lib, *args)
    assert [r["id"] for r in rows if r["file"].startswith("lib/")] == ids


def test_list_table_shows_ids_and_headings(lib: str) -> None:
    code, out, _ = run("fragments", "list", "-L", lib, "--kind", "point", "--source", "000_demo")
    assert code == 0
    assert "d.point.2" in out
    assert "力戒形式主义" in out
    assert "2 fragments" in out


def test_unknown_kind_is_an_error(lib: str) -> None:
    code, out, err = run("fragments", "list", "-L", lib, "--kind", "piont")
    assert code == 2
    assert err == "Error: --kind: unknown kind 'piont' — did you mean 'point'?\n"


def test_show_prints_the_whole_fragment_and_its_variants(lib: str) -> None:
    code, out, _ = run("fragments", "show", "d.point.2", "-L", lib)
    assert code == 0
    assert "力戒形式主义" in out
    assert "坚决力戒形式主义、官僚主义，切实为基层减负。" in out
    assert "variants: e.point.2 (001_demo.txt)" in out
    assert "tags: 形式主义" in out


def test_show_marks_blanks_and_review(lib: str) -> None:
    code, out, _ = run("fragments", "show", "d.point.1", "-L", lib)
    assert code == 0
    assert "{{ blank('数量') }}" in out
    assert "blanks: 数量" in out
    assert "review: yes — a boundary was guessed" in out


def test_show_unknown_id_exits_2_with_did_you_mean(lib: str) -> None:
    code, out, err = run("fragments", "show", "d.piont.2", "-L", lib)
    assert code == 2
    assert out == ""
    assert err == "Error: unknown fragment id 'd.piont.2' — did you mean 'd.point.2'?\n"


def test_show_unknown_id_with_nothing_close(lib: str) -> None:
    code, _, err = run("fragments", "show", "zzz", "-L", lib)
    assert code == 2
    assert err == (
        "Error: unknown fragment id 'zzz' — run 'speechgen fragments list' to see the ids\n"
    )


@pytest.mark.parametrize(("query", "best"), [("调查研究", "d.point.1"), ("形式主义", "d.point.2")])
def test_search_puts_the_fragment_with_the_phrase_first(lib: str, query: str, best: str) -> None:
    rows = run_json("fragments", "search", query, "-L", lib, "--source", "demo")
    assert rows[0]["id"] == best
    assert rows[0]["score"] > 0
    assert query in rows[0]["heading"] + rows[0]["text"]


def test_search_table_shows_score_and_snippet(lib: str) -> None:
    code, out, _ = run("fragments", "search", "调查研究", "-L", lib, "--source", "000_demo")
    assert code == 0
    assert "d.point.1" in out
    assert "score" in out


def test_search_with_filters_and_limit(lib: str) -> None:
    rows = run_json("fragments", "search", "形式主义", "-L", lib, "--year", "2019", "--source", "demo")
    assert [r["id"] for r in rows] == ["e.point.2"]
    rows = run_json("fragments", "search", "形式主义", "-L", lib, "--source", "demo", "-n", "1")
    assert len(rows) == 1


def test_search_without_hits(lib: str) -> None:
    code, out, _ = run("fragments", "search", "量子力学", "-L", lib, "--source", "demo")
    assert code == 0
    assert "no fragment matches '量子力学'" in out


def test_slots_counts_slots_and_blanks(lib: str) -> None:
    code, out, err = run("fragments", "slots", "-L", lib, "--json")
    assert code == 0, err
    usage = json.loads(out)
    assert "d.opening.1" in usage["上级"]["fragments"]
    assert usage["上级"]["type"] == "slot"
    assert "d.point.1" in usage["blank:数量"]["fragments"]
    assert usage["blank:数量"]["type"] == "blank"
    code, out, _ = run("fragments", "slots", "-L", lib)
    assert code == 0
    assert "上级" in out and "blank" in out


def test_library_problem_is_one_clear_error(lib: str) -> None:
    Path("lib/c.yaml").write_text("fragments:\n  - id: d.point.1\n    kind: closing\n    text: 谢谢。\n", encoding="utf-8")
    code, out, err = run("fragments", "list", "-L", lib)
    assert code == 2
    assert err == (
        "Error: fragment library: lib/c.yaml:2: duplicate id 'd.point.1' "
        "(first defined at lib/a.yaml:8) — rename one of them\n"
    )


def test_library_from_environment(lib: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGEN_LIBRARY", lib)
    rows = run_json("fragments", "list", "--source", "001_demo")
    assert [r["id"] for r in rows] == ["e.point.2"]


def test_missing_library_folder_is_an_error(lib: str) -> None:
    code, _, err = run("fragments", "list", "-L", "nope")
    assert code == 2
    assert err == "Error: nope: library folder does not exist — check --library / SPEECHGEN_LIBRARY\n"


def test_internal_errors_ask_for_a_report(lib: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.library.sqlite

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(speechgen.library.sqlite.Index, "rows", boom)
    code, _, err = run("fragments", "list", "-L", lib)
    assert code == 1
    assert err == (
        "speechgen: internal error (RuntimeError: kaput). This is a bug — please report it "
        "with the output of the same command run with --debug.\n"
    )
    result = runner.invoke(app, ["--debug", "fragments", "list", "-L", lib])
    assert isinstance(result.exception, RuntimeError)


def test_help_and_version() -> None:
    code, out, _ = run("--help")
    assert code == 0 and "fragments" in out
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("speechgen ")
    code, out, _ = run("fragments", "search", "--help")
    assert code == 0 and "Example: speechgen fragments search" in out


@pytest.mark.parametrize("query", ["调查研究", "形式主义", "政治自觉"])
def test_shipped_library_search_puts_a_fragment_with_the_phrase_first(query: str) -> None:
    rows = run_json("fragments", "search", query)
    assert rows, f"nothing found for {query}"
    first = rows[0]
    whole = first["heading"] + first["text"] + "".join(
        s["lead"] + s["text"] for s in first.get("subpoints", [])
    ) + first.get("tail", "")
    assert query in whole


def test_snippets_never_cut_a_placeholder() -> None:
    from speechgen.cli.browse import snippet

    text = "开场" * 20 + "{{ 本级 }}委要求，切实增强推动第二批主题教育的政治自觉" + "正文" * 30
    for width in range(3, 30):
        piece = snippet(text, ["政治自觉"], width).plain
        assert piece.count("{{") == piece.count("}}"), piece
        assert "政治自觉" in piece


@pytest.mark.parametrize("columns", ["50", "80", "140"])
def test_list_table_keeps_ids_whole_and_fits_the_terminal(lib: str, columns: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    code, out, _ = run("fragments", "list", "-L", lib, "--source", "demo")
    assert code == 0
    for fid in ("d.opening.1", "d.point.1", "d.point.2", "e.point.2"):
        assert fid in out
    from rich.cells import cell_len

    assert max(cell_len(line) for line in out.splitlines()) <= int(columns)
    assert ("000_demo.txt" in out) == (int(columns) >= 120)


def test_list_json_streams_the_same_text_as_one_dump(lib: str) -> None:
    from speechgen.cli.browse import fragment_json
    from speechgen.library import load_library
    from speechgen.paths import library_dirs

    frags = load_library(library_dirs([Path(lib)])).fragments
    for args, chosen in ((), frags), (("--tag", "没有这个标签"), ()), (("--limit", "1", "--offset", "1"), frags[1:2]):
        code, out, err = run("fragments", "list", "-L", lib, "--json", *args)
        assert code == 0, err
        assert out == json.dumps([fragment_json(f) for f in chosen], ensure_ascii=False, indent=1) + "\n"


def test_list_pages_with_limit_and_offset(lib: str) -> None:
    code, out, _ = run("fragments", "list", "-L", lib, "--limit", "2", "--offset", "1")
    assert code == 0
    n = len(run_json("fragments", "list", "-L", lib))
    assert f"fragments 2–3 of {n}" in out
    assert f"{n - 3} more — --offset 3 for the next page, --limit 0 for all, --json for scripts" in out
    code, out, _ = run("fragments", "list", "-L", lib, "--limit", "0")
    assert f"{n} fragments" in out and "more —" not in out


def test_show_never_loads_the_whole_library(lib: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen.library.sqlite import Index

    def whole(_self: Index) -> None:
        raise AssertionError("the whole library was loaded")

    monkeypatch.setattr(Index, "library", whole)
    code, out, err = run("fragments", "show", "d.point.2", "-L", lib)
    assert code == 0, err
    assert "e.point.2" in out
    code, _, err = run("fragments", "show", "d.piont.2", "-L", lib)
    assert code == 2 and "did you mean 'd.point.2'?" in err


def test_emoji_codes_in_a_fragment_print_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fragment's words are printed as they stand, :thumbs_up: included (never as 👍)."""
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "lib"
    d.mkdir()
    (d / "a.yaml").write_text(
        "source: {file: x.txt}\nfragments:\n  - id: x.point.1\n    kind: point\n"
        "    heading: 点赞:thumbs_up:环节\n    text: 群众说:thumbs_up:好。\n", encoding="utf-8")
    for args in (("fragments", "list", "-L", "lib"), ("fragments", "show", "x.point.1", "-L", "lib")):
        code, out, err = run(*args)
        assert code == 0, err
        assert ":thumbs_up:" in out and "👍" not in out
