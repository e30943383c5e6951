"""`speechgen compose|check|export|brief init` end to end, on the shipped library and golden files.

Golden drafts live in tests/golden/<example>.md. After a deliberate change (templates,
composer, shipped library), refresh them and review the diff:

    SPEECHGEN_UPDATE_GOLDEN=1 pytest tests/cli/test_cli_compose.py
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import EXAMPLES, ROOT
from typer.testing import CliRunner

from speechgen.cli import app
from speechgen.draft import from_markdown

GOLDEN = ROOT / "tests" / "golden"
EXAMPLE_BRIEFS = sorted(EXAMPLES.glob("*.yaml"))
RAW_TOKEN = re.compile(r"(^|[^A-Za-z])(X{1,4}|x{1,3})([^A-Za-z]|$)|\*|＊")
CN = "一二三四五六七八九十"

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def body_text(md: str) -> str:
    """The draft without its front matter (whose date is ISO) and bold markers."""
    return md.split("\n---\n", 1)[-1].replace("**", "")


def assert_clean_draft(md: str, place: str, date_line: str) -> None:
    draft = from_markdown(md, "draft.md")
    body = body_text(md)
    assert "{{" not in body and "}}" not in body and "{%" not in body
    assert not RAW_TOKEN.search(body), RAW_TOKEN.search(body)
    labels = [b.text for b in draft.blocks if b.kind == "heading1"]
    assert 0 < len(labels) <= 10
    numbered = list(enumerate(labels, 1))
    assert all(label.startswith(f"第{CN[n - 1]}，") for n, label in numbered) or all(
        label.startswith(f"{CN[n - 1]}、") for n, label in numbered
    ), labels
    assert place in draft.title
    assert draft.date_line == date_line
    expected = 0
    for block in draft.blocks:
        if block.kind == "heading1":
            expected = 0
        lead = block.spans[0] if block.spans else None
        if lead is not None and lead.style == "bold" and re.match(f"[{CN}]+是", lead.text):
            assert lead.text.startswith(f"{CN[expected]}是"), lead.text  # 一是, 二是, … in each point
            expected += 1


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize("brief", EXAMPLE_BRIEFS, ids=[p.stem for p in EXAMPLE_BRIEFS])
def test_example_briefs_match_their_golden_drafts(brief: Path, here: Path) -> None:
    code, out, err = run("compose", brief, "-o", "draft.md")
    assert code == 0, err
    md = (here / "draft.md").read_text(encoding="utf-8")
    golden = GOLDEN / f"{brief.stem}.md"
    if os.environ.get("SPEECHGEN_UPDATE_GOLDEN"):
        golden.write_text(md, encoding="utf-8")
    assert golden.is_file(), f"no golden file {golden.name}: run with SPEECHGEN_UPDATE_GOLDEN=1"
    assert md == golden.read_text(encoding="utf-8")


def test_at_least_one_example_per_meeting_type() -> None:
    assert {p.stem for p in EXAMPLE_BRIEFS} >= {"推进会", "动员部署会", "领导小组会议"}


@pytest.mark.parametrize("brief", EXAMPLE_BRIEFS, ids=[p.stem for p in EXAMPLE_BRIEFS])
def test_example_briefs_compose_clean(brief: Path, here: Path) -> None:
    code, out, err = run("compose", brief, "-o", "draft.md")
    assert code == 0, err
    assert err == ""
    md = (here / "draft.md").read_text(encoding="utf-8")
    date = re.search(r"^date: (\d{4})-(\d\d)-(\d\d)$", brief.read_text(encoding="utf-8"), re.M)
    assert date is not None
    assert_clean_draft(md, "临江市", f"（{int(date[1])}年{int(date[2])}月{int(date[3])}日）")
    assert out.startswith("Wrote draft.md: ")


@pytest.mark.parametrize(
    ("template", "queries"),
    [
        ("推进会", ["调查研究", "形式主义", "理论学习", "整改"]),
        ("动员部署会", ["思想上高度重视", "理论学习", "指导"]),
        ("领导小组会议", ["政治责任感", "有序", "从严"]),
    ],
)
def test_briefs_that_pick_points_only_by_query(template: str, queries: list[str], here: Path) -> None:
    points = "".join(f"  - {{query: {q}}}\n" for q in queries)
    Path("q.yaml").write_text(
        f"template: {template}\nmeeting: 第二批主题教育{template}\nspeaker: 赵六\ndate: 2024-11-05\n"
        f"vars: {{市名: 青山市, 本级: 市, 上级: 省委}}\npoints:\n{points}",
        encoding="utf-8",
    )
    code, out, err = run("compose", "q.yaml", "-o", "q.md")
    assert code == 0, err
    md = Path("q.md").read_text(encoding="utf-8")
    assert_clean_draft(md, "青山市", "（2024年11月5日）")
    assert len([ln for ln in md.splitlines() if ln.startswith("## ")]) == len(queries)


# --------------------------------------------------------------------------- formats


BRIEF = "template: 推进会\nmeeting: 推进会\nspeaker: 张明\ndate: 2024-03-15\nvars: {{市名: 临江市{extra}}}\npoints: [s004.point.3]\nopening: none\nclosing: none\n"


def test_compose_writes_text_and_word(here: Path) -> None:
    Path("b.yaml").write_text(BRIEF.format(extra=", 本级: 市"), encoding="utf-8")
    assert run("compose", "b.yaml", "-o", "x.txt")[0] == 0
    text = Path("x.txt").read_text(encoding="utf-8")
    assert text.startswith("在临江市推进会上的讲话\n张明\n（2024年3月15日）\n\n同志们：\n　　一、坚持从严确保主题教育高质量\n")
    code, out, err = run("compose", "b.yaml", "-o", "x.docx")
    assert code == 0, err
    import docx

    paragraphs = [p.text for p in docx.Document("x.docx").paragraphs if p.text.strip()]
    assert paragraphs[0] == "在临江市推进会上的讲话"
    assert "一、坚持从严确保主题教育高质量" in paragraphs


def test_missing_slots_fail_with_the_whole_list_and_leave_the_old_file(here: Path) -> None:
    Path("b.yaml").write_text(BRIEF.format(extra=""), encoding="utf-8")
    Path("x.md").write_text("old", encoding="utf-8")
    code, out, err = run("compose", "b.yaml", "-o", "x.md")
    assert code == 2
    assert err == (
        "Error: b.yaml: 1 slot has no value:\n"
        "  本级 — needed by s004.point.3 — add it under vars: (本级: …)\n"
        "(or run with --allow-blanks to leave visible blanks)\n"
    )
    assert Path("x.md").read_text(encoding="utf-8") == "old"
    code, out, err = run("compose", "b.yaml", "-o", "x.md", "--allow-blanks", "--force")  # x.md is not ours
    assert code == 0, err
    assert "【本级】" in Path("x.md").read_text(encoding="utf-8")
    assert "  第一点  s004.point.3  slot: …" in out
    assert Path("x.md~").read_text(encoding="utf-8") == "old"


def test_check_writes_nothing_and_reports(here: Path) -> None:
    Path("b.yaml").write_text(BRIEF.format(extra=", 本级: 市"), encoding="utf-8")
    code, out, err = run("check", "b.yaml", "--rate", "100")
    assert code == 0, err
    assert out.startswith("b.yaml: OK — 1 point, ")
    assert "at 100 字/分钟" in out
    assert sorted(p.name for p in here.iterdir()) == ["b.yaml"]
    Path("bad.yaml").write_text("template: 推进会\npionts: []\n", encoding="utf-8")
    code, out, err = run("check", "bad.yaml")
    assert code == 2
    assert err == (
        "Error: 2 errors in bad.yaml:\n"
        "  bad.yaml: no 'points:' — add a list of fragment ids, {query: …} or {tags: […]} items\n"
        "  bad.yaml:2: unknown key 'pionts' — did you mean 'points'?\n"
    )


def test_output_and_input_mistakes(here: Path) -> None:
    Path("b.yaml").write_text(BRIEF.format(extra=", 本级: 市"), encoding="utf-8")
    assert run("compose", "b.yaml", "-o", "x.odt")[2] == (
        "Error: x.odt: unknown output format '.odt' — end the file name with .docx, .md, .txt, .pdf\n"
    )
    assert run("compose", "nope.yaml", "-o", "x.md")[2] == (
        "Error: nope.yaml: no such file — check the path (speechgen brief init writes one)\n"
    )
    assert run("compose", "b.yaml", "-o", "no/x.md")[2] == (
        "Error: no/x.md: folder 'no' does not exist — create it first (mkdir -p 'no')\n"
    )
    Path("d").mkdir()
    assert run("compose", "b.yaml", "-o", "d")[2] == (
        "Error: d: is a folder — give a file name such as d/讲话稿.docx\n"
    )
    assert not Path("x.odt").exists()


def test_export_re_exports_a_hand_edited_markdown_draft(here: Path) -> None:
    Path("b.yaml").write_text(BRIEF.format(extra=", 本级: 市"), encoding="utf-8")
    assert run("compose", "b.yaml", "-o", "d.md")[0] == 0
    md = Path("d.md").read_text(encoding="utf-8").replace("坚持从严确保", "坚持从严从实确保")
    Path("d.md").write_text(md, encoding="utf-8")
    code, out, err = run("export", "d.md", "-o", "d.txt")
    # the summary compose prints, of the edited draft (2 more characters)
    assert (code, out) == (0, "Wrote d.txt: 1 point, 289 字, about 1 minute at 220 字/分钟\nBlanks left: 0\n"), err
    assert "　　一、坚持从严从实确保主题教育高质量\n" in Path("d.txt").read_text(encoding="utf-8")
    assert run("export", "d.md", "-o", "d.docx")[0] == 0
    assert Path("d.docx").stat().st_size > 0
    assert run("export", "d.txt", "-o", "e.docx")[2] == (
        "Error: d.txt: export reads a Markdown draft (.md) — compose one with -o draft.md\n"
    )
    assert run("export", "nope.md", "-o", "e.docx")[2] == "Error: nope.md: no such file — check the path\n"


# --------------------------------------------------------------------------- brief init


def test_brief_init_writes_a_brief_that_composes_once_filled(here: Path) -> None:
    code, out, err = run("brief", "init", "--template", "领导小组会议", "-o", "mine.yaml")
    assert code == 0, err
    text = Path("mine.yaml").read_text(encoding="utf-8")
    assert "template: 领导小组会议" in text
    assert re.search(r"^  市名: +# needed by the title", text, re.M)
    assert re.search(r"^  本级: +# needed by s004", text, re.M)
    code, out, err = run("check", "mine.yaml")
    assert code == 2
    assert "mine.yaml:11: vars: '市名' is empty — give it a text value (市名: …)" in err
    filled = re.sub(r"^  (市名|本级|上级): ", lambda m: f"  {m[1]}: 临江{m[1]} ", text, flags=re.M)
    Path("mine.yaml").write_text(filled, encoding="utf-8")
    code, out, err = run("check", "mine.yaml")
    assert code == 0, err
    code, out, err = run("brief", "init", "-o", "mine.yaml")
    assert (code, err) == (2, "Error: mine.yaml: already exists — use --force to overwrite it, or -o another.yaml\n")
    assert run("brief", "init", "-o", "mine.yaml", "--force")[0] == 0
    assert "template: 推进会" in Path("mine.yaml").read_text(encoding="utf-8")
    code, out, err = run("brief", "init", "-t", "动员部署会")
    assert code == 0 and out.startswith("# Brief for a 动员部署会 speech") and "\ntemplate: 动员部署会 " in out
    assert run("brief", "init", "-t", "推进")[2].startswith("Error: unknown template '推进' — did you mean '推进会'?")


def test_reference_docx_with_markdown_output_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("office.docx").write_bytes(b"not read")
    result = CliRunner().invoke(
        app, ["compose", str(EXAMPLES / "推进会.yaml"), "-o", "draft.md", "--reference-docx", "office.docx"]
    )
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: draft.md: --reference-docx only shapes Word output — write a .docx, or leave the option out\n"
    )
    assert not Path("draft.md").exists()


# --------------------------------------------------------------------------- cost


def _filler(folder: Path, files: int, per_file: int) -> int:
    """Library files whose fragments no example brief asks for (another meeting type, no tags)."""
    folder.mkdir()
    kinds = ("point", "opening", "closing", "transition")
    for n in range(files):
        entries = "".join(
            f"  - id: f{n}.{kinds[k % 4]}.{k}\n    kind: {kinds[k % 4]}\n    heading: 填充标题\n"
            f"    text: 填充文字甲乙丙丁第{n}份第{k}段。\n"
            for k in range(per_file)
        )
        (folder / f"filler_{n}.yaml").write_text(
            f"source: {{file: filler_{n}.txt, meeting: 座谈会, year: 2015}}\nfragments:\n{entries}", encoding="utf-8"
        )
    return files * per_file


@pytest.mark.parametrize("brief", EXAMPLE_BRIEFS, ids=[p.stem for p in EXAMPLE_BRIEFS])
def test_compose_and_check_never_load_the_whole_library(brief: Path, here: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids, queries, tags and the automatic opening and closing are asked of the store: the
    fragments read whole are about those the draft uses, however large the library; the
    draft is the golden one."""
    from speechgen.library.sqlite import Index

    filler = _filler(here / "filler", 12, 50)
    monkeypatch.setenv("SPEECHGEN_LIBRARY", str(here / "filler"))
    run("fragments", "list", "--kind", "title")  # fill the cache first

    def whole(_self: Index) -> None:
        raise AssertionError("the whole library was loaded")

    read: list[int] = []
    unpack = Index._fragment

    def counted(self: Index, key: str, line: int, data: bytes):  # type: ignore[no-untyped-def]
        read.append(line)
        return unpack(self, key, line, data)

    monkeypatch.setattr(Index, "library", whole)
    monkeypatch.setattr(Index, "_fragment", counted)
    code, _, err = run("check", brief)
    assert code == 0, err
    code, _, err = run("compose", brief, "-o", "draft.md")
    assert code == 0, err
    assert (here / "draft.md").read_text(encoding="utf-8") == (GOLDEN / f"{brief.stem}.md").read_text(encoding="utf-8")
    assert 0 < len(read) < filler // 4, len(read)  # two runs: the picks, their variants, the query hits


def test_the_inputs_walk_is_rglob(tmp_path: Path) -> None:
    """-o is checked against every file under the library folders: one scandir walk, the same
    list as sorted(rglob('*.y*ml')) (hidden names, folders named like files, links not entered)."""
    from speechgen.cli import _yaml_under

    root = tmp_path / "lib"
    (root / "sub" / ".hid").mkdir(parents=True)
    (root / "d.yaml").mkdir()
    for name in ("a.yaml", "b.yml", ".c.yaml", "e.yxml", "f.YAML", "g.txt", "sub/h.yaml", "sub/.hid/i.yml", "d.yaml/j.yaml"):
        (root / name).write_text("x", encoding="utf-8")
    (root / "link").symlink_to(root / "sub", target_is_directory=True)
    (root / "k.yaml").symlink_to(root / "g.txt")
    assert _yaml_under(root) == sorted(root.rglob("*.y*ml"))
    assert _yaml_under(root / "a.yaml") == sorted((root / "a.yaml").rglob("*.y*ml"))
def test_compose_passes_strict_any_date_and_no_comments_on(here: Path) -> None:
    """The options reach compose: --strict refuses mixed campaigns, --any-date lets a date
    outside the campaign through, --no-comments leaves the findings out of the Word file."""
    from docx import Document

    base = "template: 推进会\nvars: {市名: 临江市, 本级: 市, 上级: 省委}\ncampaign: 主题教育\n"
    mixed = here / "mixed.yaml"
    mixed.write_text(base + "date: 2023-08-28\npoints: [s000.point.1, s003.point.1]\n", encoding="utf-8")
    code, _, err = run("compose", mixed, "-o", here / "m.md", "--strict")
    assert code == 2 and "(--strict) — pick points" in err
    late = here / "late.yaml"
    late.write_text(base + "date: 2024-03-15\npoints: [s000.point.1]\n", encoding="utf-8")
    assert run("compose", late, "-o", here / "l.md")[0] == 2
    assert run("compose", late, "-o", here / "l.md", "--any-date")[0] == 0
    linted = here / "linted.yaml"
    linted.write_text(base + "date: 2023-08-28\npoints: [s000.point.1, s003.point.3]\n", encoding="utf-8")
    assert run("compose", linted, "-o", here / "with.docx")[0] == 0
    assert run("compose", linted, "-o", here / "without.docx", "--no-comments")[0] == 0
    assert len(list(Document(str(here / "with.docx")).comments)) > 0
    assert len(list(Document(str(here / "without.docx")).comments)) == 0


def test_compose_to_word_never_loads_jieba(here: Path) -> None:
    """Word's keywords come from the fragments' tags: jieba (a second to load) stays out."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom speechgen.cli import main\nsys.argv = ['speechgen', 'compose', sys.argv[1], '-o', 'x.docx']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'jieba' not in sys.modules, 'jieba was loaded'\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "推进会.yaml")], cwd=here,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from docx import Document

    words = Document(str(here / "x.docx")).core_properties.keywords.split("; ")
    assert words[0] == "第二批主题教育推进会" and len(words) == 6 and "主题教育" in words


@pytest.mark.parametrize("args", [
    ["compose", "--help"],
    ["compose"],
    ["--debug", "check", "--help"],
    ["fragments", "list", "--limit", "2"],
    ["fragments", "show", "s000,point.1"],
    ["fragments", "nosuch"],
    ["brief", "init", "--help"],
])
def test_the_command_alone_answers_as_the_whole_app(args: list[str]) -> None:
    """main() builds only the command it runs (speechgen/cli _one_command): same output."""
    from speechgen.cli import _one_command

    one = _one_command(args)
    assert one is not None
    whole, alone = runner.invoke(app, args), runner.invoke(one, args)
    assert (alone.exit_code, alone.stdout, alone.stderr) == (whole.exit_code, whole.stdout, whole.stderr)
    assert _one_command(["comopse"]) is None and _one_command(["--help"]) is None
def test_strict_any_date_and_no_comments_reach_compose(here: Path) -> None:
    brief = here / "b.yaml"
    brief.write_text("template: 推进会\nvars: {市名: 临江市, 本级: 市, 上级: 省委}\ndate: 2023-08-28\n"
                     "campaign: 主题教育\npoints: [s000.point.1, s003.point.1]\n", encoding="utf-8")
    code, _, err = run("compose", brief, "-o", "a.md", "--strict")
    assert code == 2 and "the draft mixes campaigns" in err and "(--strict)" in err
    assert not (here / "a.md").exists()
    brief.write_text(brief.read_text(encoding="utf-8").replace("2023-08-28", "2024-03-15"), encoding="utf-8")
    assert run("compose", brief, "-o", "a.md")[0] == 2
    code, out, _ = run("compose", brief, "-o", "a.md", "--any-date")
    assert code == 0 and "Lint:" in out


def test_the_output_is_checked_against_the_library_files_only_when_it_exists(
        here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first draft cannot be a library file (refuse_inputs compares existing files by inode):
    the library is asked only when -o names a file that exists, and then by the inode the
    folders' index noted in its walk, not walked again."""
    import speechgen.cli as cli
    from speechgen.library.sqlite import Index

    asked: list[str] = []
    walk, file_of = cli._yaml_under, Index.file_of

    def walked(folder: Path) -> list[Path]:
        asked.append("walk")
        return walk(folder)

    def which(self: Index, path: Path) -> Path | None:
        asked.append("index")
        return file_of(self, path)

    monkeypatch.setattr(cli, "_yaml_under", walked)
    monkeypatch.setattr(Index, "file_of", which)
    brief = str(EXAMPLES / "推进会.yaml")
    assert run("compose", brief, "-o", "new.md")[0] == 0
    assert asked == []
    assert run("compose", brief, "-o", "new.md")[0] == 0  # written again: it exists now
    assert asked == ["index"]
