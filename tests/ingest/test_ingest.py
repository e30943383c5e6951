"""ingest: the CLI command, the shipped library, encodings, safety, bad files, variants."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SEEDS
from typer.testing import CliRunner

from speechgen.cli import app
from speechgen.library import load_library, parse_library_file

FRAGMENTS = ROOT / "fragments"
RAW = re.compile(r"(^|[^A-Za-z])(X{1,4}|x{1,3})([^A-Za-z]|$)|\*|＊")
runner = CliRunner()


def run(*args: str | Path) -> object:
    return runner.invoke(app, [str(a) for a in args])


def err(result: object) -> str:
    return getattr(result, "stderr", "") or getattr(result, "output", "")


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(SEEDS, folder)
    return folder


def structure(path: Path) -> list[tuple[str, str, int]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(f["kind"], f.get("heading", ""), len(f.get("subpoints") or [])) for f in data["fragments"]]


# --------------------------------------------------------------------------- the shipped library


def test_shipped_library_is_what_ingest_writes(seeds: Path, tmp_path: Path) -> None:
    # fragments/ was written with jieba's own keywords (--exact-keywords); the default keywords
    # differ in one word of one fragment (docs/ingest.md, "Keywords"), and the golden drafts
    # and search tests are pinned to the shipped files as they are
    out = tmp_path / "out"
    result = run("ingest", seeds, "--out", out, "--exact-keywords")
    assert result.exit_code == 0, err(result)
    written = sorted(p.name for p in out.glob("*.yaml"))
    assert written == sorted(p.name for p in FRAGMENTS.glob("*.yaml"))
    for name in written:
        # hand corrections to fragments/ would show here: re-run ingest or update this test
        assert (out / name).read_bytes() == (FRAGMENTS / name).read_bytes(), name


def test_shipped_library_is_valid_and_has_no_raw_tokens() -> None:
    lib = load_library([FRAGMENTS])
    assert len(lib) > 30
    for path in FRAGMENTS.glob("*.yaml"):
        assert not parse_library_file(path).problems
        for no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.lstrip().startswith("#"):
                assert not RAW.search(line), f"{path.name}:{no}: {line}"


def test_shipped_library_ground_truth() -> None:
    lib = load_library([FRAGMENTS])
    points = {p: [f for f in lib.fragments if f.kind == "point" and f.id.startswith(p + ".")] for p in
              ("s000", "s001a", "s001b", "s002", "s003", "s004")}
    assert {k: len(v) for k, v in points.items()} == {"s000": 4, "s001a": 4, "s001b": 3, "s002": 3, "s003": 3, "s004": 3}
    assert lib.get("s002.point.1").heading == "突出“快”，在思想上要高度重视，夯实主题教育组织基础"
    assert lib.get("s000.closing.1").text == "我就讲这么多。谢谢大家。"
    assert lib.get("s004.salutation.1").text == "尊敬的{{ 上级 }}指导组领导、同志们："
    assert lib.get("s003.transition.1").text.endswith("我讲{{ 点数 }}点意见。")
    # 003 is a province's speech: its 省委 is its own, a {{ 本级 }} slot (speechgen.ingest.annotate)
    assert lib.get("s003.transition.1").slots == ("点数", "本级")
    s003 = lib.get("s003.point.1").source
    assert s003.announced_points == 6 and s003.speaker == "{{ 讲话人 }}" and s003.year == 2019
    assert "announced 6 points, found 3 (truncated?)" in s003.warnings
    assert lib.get("s000.point.1").source.title == "{{ 市名 }}2023年第二批主题教育启动部署推进会上的培训讲话"
    p1 = lib.get("s000.point.1")
    assert p1.heading == "认真学习领会大会精神和{{ 本级 }}委要求，切实增强推动第二批主题教育的政治自觉"
    assert p1.text.startswith("开展学习贯彻习近平新时代中国特色社会主义思想主题教育")
    assert "习近平新时代中国特色社会主义思想 ← 003_8c4e1ce7e0dd5b49.txt" in p1.restored
    assert {"推进会", "主题教育", "第二批"} <= set(p1.tags)


def test_near_duplicates_are_variants_of_each_other() -> None:
    lib = load_library([FRAGMENTS])
    for n in (1, 2, 3, 4):
        a, b = lib.get(f"s000.point.{n}"), lib.get(f"s001a.point.{n}")
        assert [v.id for v in lib.variants_of(a)] == [b.id]
        assert any(v.id == a.id and v.source == "000_6e77d68632e4004c.txt" for v in b.variants)
    assert not lib.get("s001b.point.1").variants


# --------------------------------------------------------------------------- encodings


def test_gb18030_bom_and_docx_give_the_same_structure(tmp_path: Path) -> None:
    import docx

    src = SEEDS / "004_e1ab214ab082fba0.txt"
    text = src.read_text(encoding="utf-8")
    variants = {"gb": text.encode("gb18030"), "bom": text.encode("utf-8-sig")}
    for key, data in variants.items():
        folder = tmp_path / key
        folder.mkdir()
        (folder / src.name).write_bytes(data)
    folder = tmp_path / "docx"
    folder.mkdir()
    document = docx.Document()
    for line in text.splitlines():
        para = document.add_paragraph()
        para.add_run(line).bold = line.startswith("第")  # headings as bold runs
    document.save(str(folder / (src.stem + ".docx")))
    shapes = []
    for key in ("gb", "bom", "docx"):
        result = run("ingest", tmp_path / key, "--out", tmp_path / f"out-{key}")
        assert result.exit_code == 0, err(result)
        shapes.append(structure(tmp_path / f"out-{key}" / (src.stem + ".yaml")))
    assert shapes[0] == shapes[1] == shapes[2] == structure(FRAGMENTS / (src.stem + ".yaml"))


# --------------------------------------------------------------------------- safety


def test_rerun_is_byte_identical_and_hand_corrections_are_kept(seeds: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run("ingest", seeds, "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.glob("*.yaml")}
    again = run("ingest", seeds / "000_6e77d68632e4004c.txt", "--out", out)
    assert again.exit_code == 0, err(again)
    assert {p.name: p.read_bytes() for p in out.glob("*.yaml")} == before
    target = out / "000_6e77d68632e4004c.yaml"
    edited = target.read_text(encoding="utf-8").replace("同志们：", "同志们、朋友们：", 1)
    target.write_text(edited, encoding="utf-8")
    kept = run("ingest", seeds, "--out", out)
    assert kept.exit_code == 2
    assert err(kept).rstrip().endswith(
        f"{target}: exists and differs (hand corrections?) — use --force to overwrite"
    )
    assert target.read_text(encoding="utf-8") == edited
    assert run("ingest", seeds, "--out", out, "--force").exit_code == 0
    assert target.read_bytes() == before[target.name]


def test_ingesting_one_file_again_writes_what_the_whole_run_wrote(seeds: Path, tmp_path: Path) -> None:
    """With three copies of a speech: the first lists the others, each other the first, every time."""
    for name in ("005_copy.txt", "006_copy.txt"):
        shutil.copy(seeds / "000_6e77d68632e4004c.txt", seeds / name)
    out = tmp_path / "out"
    assert run("ingest", seeds, "--out", out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.glob("*.yaml")}
    lib = load_library([out], use_cache=False)
    assert [v.id for v in lib.get("s000.point.4").variants] == ["s001a.point.4", "005_copy.point.4", "006_copy.point.4"]
    assert [v.id for v in lib.get("006_copy.point.4").variants] == ["s000.point.4"]
    assert [(v.id, v.similarity) for v in lib.get("s001a.point.1").variants] == [("s000.point.1", 0.98)]
    for src in sorted(seeds.iterdir()):
        again = run("ingest", src, "--out", out)
        assert again.exit_code == 0, err(again)
        assert {p.name: p.read_bytes() for p in out.glob("*.yaml")} == before, src.name


def test_dry_run_writes_nothing_and_json_reports(seeds: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run("ingest", seeds, "--out", out, "--dry-run", "--json")
    assert result.exit_code == 0, err(result)
    assert not out.exists()
    report = json.loads(result.stdout)
    by_name = {Path(f["source"]).name: f for f in report["files"]}
    f003 = by_name["003_8c4e1ce7e0dd5b49.txt"]
    assert f003["points"] == 3 and f003["review"] == 3 and f003["slots"] == ["本级", "点数"]
    assert f003["status"] == ["would write"]
    assert "announced 6 points, found 3 (truncated?)" in f003["warnings"]
    assert by_name["001_ea232bbc68f5e29d.txt"]["speeches"] == 2


def test_bad_files_are_named_and_the_others_go_on(seeds: Path, tmp_path: Path) -> None:
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "bad.docx").write_bytes(b"this is not a zip")
    (seeds / "gbk.txt").write_bytes(bytes(range(0x80, 0x100)) * 10)
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x00\x01\x02\x03" * 100)
    out = tmp_path / "out"
    result = run("ingest", seeds, binary, "--out", out)
    assert result.exit_code == 2
    assert len(list(out.glob("*.yaml"))) == 6
    lines = err(result).strip().splitlines()
    assert lines[0] == "Error: 4 problems while ingesting:"
    assert sorted(line.strip() for line in lines[1:]) == sorted([
        f"{seeds}/bad.docx: not a valid .docx (corrupt or not a Word file) — re-save it from Word",
        f"{seeds}/empty.txt: empty file — nothing to ingest",
        f"{seeds}/gbk.txt: cannot decode the text (not UTF-8, GB18030 or another known encoding) — save it as UTF-8",
        f"{binary}: binary file, not a speech — give a .txt or .docx",
    ])


def test_empty_folder_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    result = run("ingest", tmp_path / "folder", tmp_path / "nope.txt", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert err(result).strip().splitlines()[1:] == [
        f"  {tmp_path}/folder/: no .txt or .docx speeches found — check the folder",
        f"  {tmp_path}/nope.txt: no such file or folder — check the path",
    ]


def test_junk_list_option(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("在会议上的讲话\n同志们：\n今天开会。欢迎关注某某号\n谢谢大家！", encoding="utf-8")
    junk = tmp_path / "junk.txt"
    junk.write_text("# site watermarks\n欢迎关注某某号\n", encoding="utf-8")
    assert run("ingest", src, "--out", tmp_path / "out", "--junk", junk).exit_code == 0
    assert "某某号" not in (tmp_path / "out" / "in.yaml").read_text(encoding="utf-8")
    junk.write_text("ok\n(unclosed\n", encoding="utf-8")
    bad = run("ingest", src, "--out", tmp_path / "out2", "--junk", junk)
    assert bad.exit_code == 2
    assert err(bad).strip() == (
        f"Error: {junk}:2: not a valid regular expression (missing ), unterminated subpattern) — "
        "escape special characters such as ( ) [ ] * ? with a backslash"
    )


# --------------------------------------------------------------------------- YAML writing


@pytest.mark.parametrize("path", sorted(FRAGMENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_libyaml_and_pure_python_write_the_same_bytes(path: Path) -> None:
    from speechgen.ingest.pipeline import dump

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert dump(data, fast=True) == dump(data, fast=False)
    assert path.read_text(encoding="utf-8").endswith(dump(data))


@pytest.mark.parametrize("text", ["吉𠮷祥", "一\u2028二", "NEL\x85", "保留结尾空行\n\n"])
def test_text_libyaml_would_write_differently_goes_the_pure_way(text: str) -> None:
    from speechgen.ingest.pipeline import dump

    data = {"source": {"file": "a.txt"}, "fragments": [{"id": "a", "text": text, "tail": text}]}
    assert dump(data) == dump(data, fast=False)


def test_the_node_tree_is_pyyamls_for_every_kind_of_value() -> None:
    """dump builds libyaml's node tree itself (pipeline._node): the same bytes as PyYAML's own
    representer, for every scalar type a fragment file holds, and an alias for a list met twice."""
    from speechgen.ingest.pipeline import _DUMP_ARGS, _CDumper, dump

    shared = ["甲", "乙"]
    cases = [
        {"a": True, "b": False, "c": None, "d": 0, "e": -3, "f": 0.85, "g": 1.0, "h": [], "i": {}, "j": "多\n行"},
        {"fragments": [{"variants": [{"source": "x.txt", "id": "s1.point.1", "similarity": 0.9}]}], "n": [[1, [2]]]},
        {"true": "true", "null": "~", "n": "0123", "yes": "yes", "colon": "a: b", "dash": "- x", "lead": " 空格"},
        {"one": shared, "two": shared},
    ]
    for data in cases:
        assert dump(data) == yaml.dump(data, Dumper=_CDumper, **_DUMP_ARGS), data
    assert "&id001" in dump(cases[-1])


def test_text_ending_in_blank_lines_reads_back() -> None:
    from speechgen.ingest.pipeline import dump

    data = {"fragments": [{"id": "a", "text": "吉𠮷祥\n\n"}]}
    assert yaml.safe_load(dump(data)) == data


@pytest.mark.parametrize(
    ("stem", "one", "second_of_two"),
    [
        ("000_6e77d68632e4004c", "s000", "s000b"),
        ("1_a", "1_a", "1_a.2"),
        ("在全省会议上的讲话", "在全省会议上的讲话", "在全省会议上的讲话.2"),
    ],
)
def test_speech_prefixes(stem: str, one: str, second_of_two: str) -> None:
    from speechgen.ingest.build import speech_prefix

    assert speech_prefix(stem, 0, 1) == one
    assert speech_prefix(stem, 1, 2) == second_of_two


def test_file_names_sharing_leading_digits_get_different_ids(tmp_path: Path) -> None:
    from speechgen.ingest.build import speech_prefix

    names = ["1_a", "1_b", "1_ab", "1 a", "1-a", "1.a", "讲话" * 20, "讲话" * 21, "...", "..,"]
    for shift in range(3):  # every mix of one, two or three speeches per file
        counts = [(k + shift) % 3 + 1 for k in range(len(names))]
        prefixes = [speech_prefix(n, i, c) for n, c in zip(names, counts) for i in range(c)]
        assert len(prefixes) == len(set(prefixes))
    assert all("." not in speech_prefix(n, 0, 1) for n in names)


def test_docx_headings_marked_by_style_or_bold_become_points(tmp_path: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_paragraph("在全市作风建设推进会上的讲话")
    doc.add_paragraph("同志们：")
    doc.add_paragraph("今天召开全市作风建设推进会，主要任务是总结前段工作，部署下步任务。下面，我讲两点意见。")
    doc.add_heading("提高政治站位，切实增强作风建设的责任感", level=1)
    doc.add_paragraph("作风建设永远在路上。我们要深刻认识作风建设的重要性，以钉钉子精神抓好落实。")
    bold = doc.add_paragraph()
    bold.add_run("突出问题导向，").bold = True
    bold.add_run("持续推动作风建设走深走实").bold = True
    doc.add_paragraph("要聚焦群众反映强烈的突出问题，以“当下改”与“长久立”相结合，推动问题整改。")
    partly = doc.add_paragraph()
    partly.add_run("一是抓整改。").bold = True
    partly.add_run("对查摆出的问题逐项整改，建立台账，销号管理。")
    second = doc.add_paragraph()
    second.add_run("二是建制度。").bold = True
    second.add_run("把整改中的好做法固化为制度。")
    doc.add_paragraph("我就讲这么多。谢谢大家。")
    src = tmp_path / "src"
    src.mkdir()
    doc.save(str(src / "作风建设.docx"))
    out = tmp_path / "out"
    result = run("ingest", src, "--out", out)
    assert result.exit_code == 0, err(result)
    lib = load_library([out], use_cache=False)
    points = [f for f in lib.fragments if f.kind == "point"]
    assert [p.heading for p in points] == [
        "提高政治站位，切实增强作风建设的责任感",
        "突出问题导向，持续推动作风建设走深走实",
    ]
    assert [s.lead for s in points[1].subpoints] == ["抓整改。", "建制度。"]
    assert [f.kind for f in lib.fragments][-1] == "closing"


def test_docx_headings_already_numbered_keep_their_numbers(tmp_path: Path) -> None:
    import docx

    from speechgen.ingest.clean import read_docx

    doc = docx.Document()
    doc.add_paragraph("在推进会上的讲话")
    doc.add_heading("一、认真学习铸忠魂", level=1)
    doc.add_paragraph("正文。")
    path = tmp_path / "n.docx"
    doc.save(str(path))
    assert read_docx(path.read_bytes(), "n.docx").splitlines() == ["在推进会上的讲话", "一、认真学习铸忠魂", "正文。"]


def test_ingest_without_out_writes_to_the_users_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import speechgen.paths

    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(SEEDS / "004_e1ab214ab082fba0.txt", src)
    mine, other = tmp_path / "mine", tmp_path / "other"
    monkeypatch.setenv("SPEECHGEN_LIBRARY", os.pathsep.join([str(other), str(mine)]))
    result = run("ingest", src)
    assert result.exit_code == 0, err(result)
    assert [p.name for p in mine.iterdir()] == ["004_e1ab214ab082fba0.yaml"]
    assert not other.exists()
    # an installed package: no library folder of the user's, and the shipped one is not theirs
    monkeypatch.delenv("SPEECHGEN_LIBRARY")
    monkeypatch.setattr(speechgen.paths, "shipped", lambda name: tmp_path / "site-packages" / name)
    result = run("ingest", src)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: ingest: no library folder to write to — give --out DIR, or set SPEECHGEN_LIBRARY "
        "to your own library folder\n"
    )


def test_ingest_target_in_a_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen.paths import ingest_target, shipped

    monkeypatch.delenv("SPEECHGEN_LIBRARY", raising=False)
    expected = ROOT / "fragments" if shipped("fragments") == ROOT / "fragments" else None
    assert ingest_target() == expected
