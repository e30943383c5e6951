"""Bad and hostile input through the command line: the exact message, exit status 2, no damage.

Each test here exercises entries of docs/errors.md that no other test file asserts word
for word (the catalogue names the test for every entry). Also proved here: a hostile
fragment or template cannot create a file, a failed run leaves an existing output
byte-identical, a damaged .docx never crashes ingest, and --debug shows the traceback
of an internal error.
"""

from __future__ import annotations

import errno
import os
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from conftest import ROOT, SEEDS
from typer.testing import CliRunner

from speechgen.cli import app
from speechgen.errors import IngestError

runner = CliRunner()

LIB = """\
source: {file: a.txt, title: A, meeting: 推进会, year: 2024}
fragments:
  - id: a.opening.1
    kind: opening
    text: 今天我们召开推进会。
  - id: a.point.1
    kind: point
    heading: 深入调查研究
    text: "{{ 上级 }}要求{{ 本级 }}大兴调查研究之风。"
    slots: [上级, 本级]
    tags: [调查研究]
  - id: a.point.2
    kind: point
    heading: 力戒形式主义
    text: 坚决力戒形式主义，为基层减负。
    tags: [形式主义, 试点甲]
  - id: a.closing.1
    kind: closing
    text: 谢谢大家。
"""
BRIEF = """\
template: 推进会
vars: {市名: 临江市, 上级: 省委, 本级: 市}
date: 2024-03-15
points:
  - a.point.1
  - a.point.2
"""
HOSTILE = "{{ cycler.__init__.__globals__.os.system('touch pwned') }}"
ONLY = "a fragment text holds only text, slots, blanks and {% if %}"


def run(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def fails(*args: object) -> str:
    """stderr of a command that must fail as a user mistake: exit 2, nothing on stdout."""
    code, out, err = run(*args)
    assert (code, out) == (2, ""), (code, out, err)
    return err


@pytest.fixture()
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding lib/a.yaml and b.yaml (a brief that composes)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.yaml").write_text(LIB, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(BRIEF, encoding="utf-8")
    return tmp_path


def write(name: str, text: str) -> Path:
    path = Path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def deny_reading(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Reading the file called *name* fails as for a file without read permission (tests run as root)."""
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == name:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)


# --------------------------------------------------------------------------- brief


def test_brief_errors_are_listed_at_once_with_lines(here: Path) -> None:
    write(
        "bad.yaml",
        "template: 推进\nvars: {市名: 临江市}\ndate: 2024-13-45\nspeker: 李华\npoints:\n"
        "  - a.piont.1\n  - {query: 量子物理}\n  - {query: 形式主义, count: many}\n",
    )
    assert fails("compose", "bad.yaml", "-L", "lib", "-o", "x.md") == (
        "Error: 6 errors in bad.yaml:\n"
        "  bad.yaml:1: unknown template '推进' — did you mean '推进会'? (templates: 动员部署会, 推进会, 领导小组会议)\n"
        "  bad.yaml:3: date '2024-13-45' is not a date — write it as YYYY-MM-DD, e.g. 2024-03-15\n"
        "  bad.yaml:4: unknown key 'speker' — did you mean 'speaker'?\n"
        "  bad.yaml:6: unknown fragment id 'a.piont.1' — did you mean 'a.point.1'?\n"
        "  bad.yaml:7: query '量子物理' matches no fragment — try other words or pick an id "
        "(speechgen fragments search 量子物理)\n"
        "  bad.yaml:8: count must be a whole number of points (1, 2, …), not 'many'\n"
    )
    assert not Path("x.md").exists()


def test_missing_slots_are_all_listed_at_once(here: Path) -> None:
    write("s.yaml", "template: 推进会\npoints:\n  - a.point.1\n")
    assert fails("compose", "s.yaml", "-L", "lib", "-o", "x.docx") == (
        "Error: s.yaml: 3 slots have no value:\n"
        "  市名 — needed by the title, template 推进会 — add it under vars: (市名: …)\n"
        "  上级 — needed by a.point.1 — add it under vars: (上级: …)\n"
        "  本级 — needed by a.point.1 — add it under vars: (本级: …)\n"
        "(or run with --allow-blanks to leave visible blanks)\n"
    )


def test_tags_whose_matches_are_all_used(here: Path) -> None:
    write("u.yaml", BRIEF.replace("  - a.point.1\n", "") + "  - {tags: [试点甲]}\n")
    assert fails("check", "u.yaml", "-L", "lib") == (
        "Error: u.yaml:6: tags 试点甲 matches only points already used (a.point.2) — "
        "try other words or pick an id\n"
    )


def test_python_tag_in_a_brief_is_refused_and_builds_nothing(here: Path) -> None:
    write("t.yaml", "template: 推进会\npoints: !!python/object/apply:os.system ['touch pwned']\n")
    assert fails("check", "t.yaml", "-L", "lib") == (
        "Error: t.yaml:2: the YAML tag !!python/object/apply:os.system is not allowed — only plain "
        "YAML (text, numbers, lists, mappings) is read, nothing that builds Python objects\n"
    )
    assert not Path("pwned").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("template: 推进会\npoints: [a\n",
         "b.yaml:3:1: YAML syntax error: did not find expected ',' or ']' — check the indentation "
         "and quoting near this line"),
        ("template: 推进会\npoints: [a.point.1]\n---\ntemplate: 推进会\n",
         "b.yaml:3:1: YAML syntax error: expected a single document in the stream, but found another "
         "document — check the indentation and quoting near this line"),
        ("template: 推进会\npoints: &p [*p]\n",
         "b.yaml:2: an alias (*name) refers to the item that contains it — a brief cannot loop; "
         "write the values out"),
        ("template: 推进会\npoints: " + "[" * 2000 + "]" * 2000 + "\n",
         "b.yaml: lists or mappings nested too deeply to read — a brief needs only a few levels"),
        ("template: 推进会\nvars: [临江市]\nblanks: 5\npoints: [a.point.2]\n",
         "2 errors in b.yaml:\n"
         "  b.yaml:2: 'vars' must be a mapping of slot names to values (市名: 临江市), not a list\n"
         "  b.yaml:3: 'blanks' must map fragment ids to values: {s000.opening.1: [三, 五]}"),
    ],
    ids=["syntax", "two-documents", "looping-alias", "too-deep", "vars-and-blanks-shape"],
)
def test_brief_yaml_problems(here: Path, text: str, message: str) -> None:
    write("b.yaml", text)
    assert fails("check", "b.yaml", "-L", "lib") == f"Error: {message}\n"


def test_billion_laughs_brief_is_read_quickly(here: Path) -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    write("b.yaml", "template: 推进会\npoints: [a.point.2]\nvars:\n" + "".join(f"  {x}\n" for x in levels))
    err = fails("check", "b.yaml", "-L", "lib")  # 10**9 items if aliases were expanded
    assert err.splitlines() == [
        "Error: 9 errors in b.yaml:",
        *(f"  b.yaml:{n}: vars: '{c}' is a list — give it a text value ({c}: …)" for n, c in enumerate("abcdefghi", 4)),
    ]


def test_brief_that_is_a_folder_or_unreadable(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("d.yaml").mkdir()
    assert fails("check", "d.yaml") == "Error: d.yaml: is a folder, not a brief — give a .yaml file\n"
    deny_reading(monkeypatch, "b.yaml")
    assert fails("check", "b.yaml") == "Error: b.yaml: cannot read (Permission denied)\n"


def test_brief_yaml_fallback_message(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When PyYAML's two loaders disagree (the C one accepts, the Python one refuses)."""
    import speechgen.userfiles

    monkeypatch.setattr(speechgen.userfiles, "parse_yaml", lambda *_: None)
    write("b.yaml", "template: [\n")
    assert fails("check", "b.yaml") == (
        "Error: b.yaml: not valid YAML — check the indentation and quoting\n"
    )


# --------------------------------------------------------------------------- library


@pytest.mark.parametrize(
    ("fragment", "problems"),
    [
        ("  - just text\n", ["lib/x.yaml (fragment 1): a fragment must be a mapping with id, kind and text"]),
        ("  - kind: opening\n    text: 正文\n",
         ["lib/x.yaml (fragment 1): fragment without an id — add 'id: <source>.<kind>.<n>'"]),
        ("  - id: x.1\n    kind: point\n    heading: 标题\n    subpoints: [一是]\n",
         ["lib/x.yaml:3: fragment 'x.1': each subpoint needs 'lead' and 'text'"]),
        ("  - id: x.1\n    kind: point\n    heading: [标题]\n    text: {a: 1}\n",
         ["lib/x.yaml:3: fragment 'x.1': 'heading' must be text, not a list or mapping — write it as one (quoted) text",
          "lib/x.yaml:3: fragment 'x.1': 'text' must be text, not a list or mapping — write it as one (quoted) text"]),
        ("  - id: x.1\n    kind: opening\n    text: 正文\n    tags: [[a]]\n",
         ["lib/x.yaml:3: fragment 'x.1': 'tags' must be a list of words, e.g. [a, b]"]),
        ("  - id: x.1\n    kind: point\n    heading: 标题\n    subpoints: 5\n",
         ["lib/x.yaml:3: fragment 'x.1': 'subpoints' must be a list of {lead: …, text: …}"]),
        ("  - id: x.1\n    kind: point\n    heading: 标题\n    subpoints: [{lead: [a], text: b}]\n",
         ["lib/x.yaml:3: fragment 'x.1': a subpoint's 'lead' and 'text' must be text, not a list or mapping — quote them"]),
        ("  - id: x.1\n    kind: opening\n    text: 正文\n    variants: [{id: y.1, similarity: high}]\n",
         ["lib/x.yaml:3: fragment 'x.1': 'variants' must be a list of {source: …, id: …, similarity: 0.97}"]),
        ("  - id: x.1\n    kind: opening\n    text: \"{% for i in range(99999) %}{% for j in range(99999) %}."
         "{% endfor %}{% endfor %}{% include 'x.j2' %}\"\n",
         ["lib/x.yaml:3: fragment 'x.1': uses {% for %} — remove it; " + ONLY,
          "lib/x.yaml:3: fragment 'x.1': calls something other than blank(\"…\") — remove it; " + ONLY,
          "lib/x.yaml:3: fragment 'x.1': uses {% include %} — remove it; " + ONLY]),
        ("  - id: x.1\n    kind: opening\n    text: \"{{ 市名 * 10 ** 9 }}{{ 市名.upper() }}{{ 市名|center(10 ** 9) }}\"\n"
         "    slots: [市名]\n",
         ["lib/x.yaml:3: fragment 'x.1': uses '*' — remove it; " + ONLY,
          "lib/x.yaml:3: fragment 'x.1': uses '**' — remove it; " + ONLY,
          "lib/x.yaml:3: fragment 'x.1': calls something other than blank(\"…\") — remove it; " + ONLY,
          "lib/x.yaml:3: fragment 'x.1': uses '.attribute' — remove it; " + ONLY,
          "lib/x.yaml:3: fragment 'x.1': uses the filter |center — only |default, |d, |trim, |upper, |lower may be used"]),
    ],
    ids=["not-a-mapping", "no-id", "subpoint-not-mapping", "text-not-text", "nested-tags",
         "subpoints-not-list", "lead-not-text", "bad-variant", "loops-and-includes", "arithmetic-and-filters"],
)
def test_fragment_shape_problems(here: Path, fragment: str, problems: list[str]) -> None:
    write("lib/x.yaml", "source: {file: x.txt}\nfragments:\n" + fragment)
    err = fails("fragments", "list", "-L", "lib")
    if len(problems) == 1:
        assert err == f"Error: fragment library: {problems[0]}\n"
    else:
        expected = [f"Error: {len(problems)} problems in the fragment library:", *("  " + p for p in problems)]
        assert err.splitlines() == expected


def test_fragment_file_that_cannot_be_read(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deny_reading(monkeypatch, "a.yaml")
    assert fails("fragments", "list", "-L", "lib") == (
        "Error: fragment library: lib/a.yaml: cannot read (Permission denied)\n"
    )


def test_yaml_error_without_a_position(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PyYAML errors nearly always carry a mark; the rare one without is still a clear error."""
    import yaml

    real = yaml.load

    def odd(text: str, *a: object, **k: object) -> object:
        if "{file: a.txt," in text:  # only lib/a.yaml, not the shipped library
            raise yaml.YAMLError("something odd")
        return real(text, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(yaml, "load", odd)
    # library files are read from libyaml's events first; the odd error is the full loader's
    monkeypatch.setattr("speechgen.library.files._plain_yaml", lambda text, *marks, **seeds: None)
    assert fails("fragments", "list", "-L", "lib") == (
        "Error: fragment library: lib/a.yaml: YAML error: something odd\n"
    )


def test_hostile_fragment_is_refused_by_name_and_creates_nothing(here: Path) -> None:
    write("evil/e.yaml", f"fragments:\n  - id: e.point.1\n    kind: point\n    heading: 抓落实\n    text: \"{HOSTILE}\"\n")
    write("e.yaml", BRIEF.replace("  - a.point.2\n", "  - e.point.1\n"))
    before = files_in(here)
    assert fails("compose", "e.yaml", "-L", "lib", "-L", "evil", "-o", "out.md") == (
        "Error: 2 problems in the fragment library:\n"
        "  evil/e.yaml:2: fragment 'e.point.1': reaches for Python internals (__globals__) — remove it\n"
        "  evil/e.yaml:2: fragment 'e.point.1': reaches for Python internals (__init__) — remove it\n"
    )
    assert files_in(here) == before  # no pwned, no out.md


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (HOSTILE, "access to attribute '__init__' of 'type' object is unsafe."),
        ("{{ 上级 * 10 ** 9 }}", "'*' would build text or a list over 1,000,000 long"),
        ("{{ 9 ** 9 ** 9 }}", "'**' would build a number over 2**64"),
        ("{% for i in range(10 ** 9) %}.{% endfor %}",
         "OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000)."),
    ],
    ids=["internals", "huge-text", "huge-number", "huge-range"],
)
def test_hostile_fragment_text_is_refused_by_the_sandbox_too(here: Path, text: str, reason: str) -> None:
    """Even past the library check, rendering runs in a sandbox: nothing runs, nothing explodes."""
    from speechgen.compose.render import Renderer
    from speechgen.errors import TemplateError

    with pytest.raises(TemplateError) as err:
        Renderer({"上级": "省委"}, {}).render(text, "e.point.1", "第一点")
    assert str(err.value) == f"e.point.1: cannot fill the text ({reason}) — fix the fragment"
    assert not (Path.cwd() / "pwned").exists()


# --------------------------------------------------------------------------- templates


def template(name: str, source: str, meta: str | None = None) -> None:
    write(f"T/{name}.j2", source)
    if meta is not None:
        write(f"T/{name}.yaml", meta)


def test_hostile_template_is_refused_and_creates_nothing(here: Path) -> None:
    template("推进会", "# {{ title }}\n\n" + HOSTILE + "\n")
    before = files_in(here)
    err = fails("compose", "b.yaml", "-L", "lib", "-T", "T", "-o", "out.md")
    assert err == (
        "Error: T/推进会.j2: access to attribute '__init__' of 'type' object is unsafe. — "
        "a template may only use the variables given to it\n"
    )
    assert files_in(here) == before


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("# {{ title }}\n\n{% for p in opening %}\n",
         "T/推进会.j2:3: template syntax error: Unexpected end of template. Jinja was looking for the "
         "following tags: 'endfor' or 'else'. The innermost block that needs to be closed is 'for'. "
         "— fix the template"),
        ("# {{ title }}\n\n{{ points[9].heading }}\n",
         "T/推进会.j2: list object has no element 9 — template variables: title, meeting, speaker, "
         "date_line, salutation, opening, points, closing, vars"),
        ("# {{ title }}\n\n{% include '别处.j2' %}\n",
         "T/推进会.j2: cannot include '别处.j2' — put it in the template's folder (T)"),
        ("# {{ title }}\n\n{% set n = 1 %}\n{{ n / 0 }}\n",
         "T/推进会.j2:4: ZeroDivisionError: division by zero — fix the template"),
        ("# {{ title }}\n\n{% for i in range(10 ** 9) %}.{% endfor %}\n",
         "T/推进会.j2:3: OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE "
         "(100000). — fix the template"),
        ("# {{ title }}\n{% extends '推进会.j2' %}\n",
         "T/推进会.j2:2: it includes or extends itself without end — fix the template"),
        ("# {{ title }}\n\n{{ title * 10 ** 6 }}\n",
         "T/推进会.j2: '*' would build text or a list over 1,000,000 long — fix the template"),
        ("# {{ title }}\n\n# {{ title }}\n",
         "T/推进会.j2:3: a second '# ' title — a draft has one title; use '## ' for a heading "
         "(in what the template produced)"),
    ],
    ids=["syntax", "undefined", "include-missing", "zero-division", "huge-range", "extends-itself",
         "huge-text", "bad-draft"],
)
def test_template_errors(here: Path, source: str, message: str) -> None:
    template("推进会", source)
    assert fails("compose", "b.yaml", "-L", "lib", "-T", "T", "-o", "out.md") == f"Error: {message}\n"
    assert not Path("out.md").exists()


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ("- 一、\n", "T/推进会.yaml: must be a mapping (numbering:, required:, …)"),
        ("numbring: 一、\n", "T/推进会.yaml: unknown key 'numbring' — did you mean 'numbering'?"),
        ("meetings: 推进会\n", "T/推进会.yaml: meetings must be a list — write it as meetings: [a, b]"),
        ("subpoints: (1)\nrequired: 市名\n",
         "2 errors in T/推进会.yaml:\n"
         "  T/推进会.yaml: subpoints '(1)' is not one of 一是, （一）, 1．\n"
         "  T/推进会.yaml: required must be a list — write it as required: [a, b]"),
        ("numbering: [一、\n",
         "T/推进会.yaml:2:1: YAML syntax error: did not find expected ',' or ']' — check the "
         "indentation and quoting near this line"),
    ],
    ids=["not-mapping", "unknown-key", "not-a-list", "several", "yaml-syntax"],
)
def test_template_metadata_errors(here: Path, meta: str, message: str) -> None:
    template("推进会", "# {{ title }}\n", meta)
    assert fails("check", "b.yaml", "-L", "lib", "-T", "T") == f"Error: {message}\n"


def test_template_folder_missing_or_not_utf8(here: Path) -> None:
    assert fails("check", "b.yaml", "-L", "lib", "-T", "nope") == (
        "Error: nope: template folder does not exist — check --templates\n"
    )
    Path("T").mkdir()
    Path("T/推进会.j2").write_bytes("# {{ title }}\n\n讲话\n".encode("gbk"))
    assert fails("check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/推进会.j2: not UTF-8 text — save the template as UTF-8\n"
    )


def test_template_that_cannot_be_read(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template("推进会", "# {{ title }}\n")
    real = Path.read_text

    def read_text(self: Path, *a: object, **k: object) -> str:
        if self.name == "推进会.j2":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", read_text)
    assert fails("check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/推进会.j2: cannot read the template (Permission denied)\n"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ 上级 < 1 }}",
         "cannot fill the text (TypeError: '<' not supported between instances of 'str' and 'int') — fix the fragment"),
        ("{{ 上级|upper(5) }}",
         "cannot fill the text (TypeError: do_upper() takes 1 positional argument but 2 were given) — fix the fragment"),
    ],
    ids=["comparison", "filter-arguments"],
)
def test_fragment_that_cannot_be_filled(here: Path, text: str, message: str) -> None:
    write("lib/a.yaml", LIB.replace("{{ 上级 }}要求{{ 本级 }}", text + "{{ 本级 }}"))
    assert fails("check", "b.yaml", "-L", "lib") == f"Error: a.point.1: {message}\n"


def test_unknown_template_in_brief_init(here: Path) -> None:
    assert fails("brief", "init", "-t", "推进") == (
        "Error: unknown template '推进' — did you mean '推进会'? (templates: 动员部署会, 推进会, 领导小组会议)\n"
    )


# --------------------------------------------------------------------------- ingest


def make_docx(path: Path, text: str = "同志们：\n今天开会。") -> bytes:
    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    document.save(str(path))
    return path.read_bytes()


def damaged(good: bytes, how: str) -> bytes:
    if how == "bad-xml":
        src = zipfile.ZipFile(__import__("io").BytesIO(good))
        out = __import__("io").BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for name in src.namelist():
                dst.writestr(name, b"<not xml" if name == "word/document.xml" else src.read(name))
        return out.getvalue()
    if how == "flipped":
        data = bytearray(good)
        for k in range(800, 1200):
            data[k] ^= 0x55
        return bytes(data)
    return good[: len(good) // 2]  # truncated


def test_ingest_names_every_bad_file_and_goes_on(here: Path) -> None:
    good = make_docx(here / "ok.docx")
    speeches = here / "in"
    speeches.mkdir()
    for how in ("bad-xml", "flipped", "truncated"):
        (speeches / f"{how}.docx").write_bytes(damaged(good, how))
    (speeches / "watermark.txt").write_text("文章系壹号秘书微信公众号原创发布,侵权必究。\n", encoding="utf-8")
    (speeches / "000.txt").write_bytes((SEEDS / "000_6e77d68632e4004c.txt").read_bytes())
    code, out, err = run("ingest", "in", "-o", "frags")
    assert code == 2
    assert err == (
        "Error: 4 problems while ingesting:\n"
        "  in/bad-xml.docx: not a valid .docx (corrupt or not a Word file) — re-save it from Word\n"
        "  in/flipped.docx: not a valid .docx (corrupt or not a Word file) — re-save it from Word\n"
        "  in/truncated.docx: not a valid .docx (corrupt or not a Word file) — re-save it from Word\n"
        "  in/watermark.txt: nothing left after removing junk — is this a speech?\n"
    )
    assert files_in(here / "frags") == ["000.yaml"]  # the good speech was ingested all the same
    assert "frags/000.yaml: written" in out


def test_read_docx_on_randomly_damaged_files_only_raises_ingest_errors(tmp_path: Path) -> None:
    from speechgen.ingest.clean import read_docx

    good = make_docx(tmp_path / "ok.docx")
    rnd = random.Random(6)
    outcomes = set()
    for _ in range(300):
        data = bytearray(good)
        for _ in range(rnd.randint(1, 12)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
        try:
            read_docx(bytes(data), "x.docx")
            outcomes.add("read")
        except IngestError as exc:
            assert str(exc) == "x.docx: not a valid .docx (corrupt or not a Word file) — re-save it from Word"
            outcomes.add("refused")
    assert outcomes == {"read", "refused"}


def two_speeches_called_the_same() -> None:
    for folder, seed in (("a", "000_6e77d68632e4004c.txt"), ("b", "004_e1ab214ab082fba0.txt")):
        Path(folder).mkdir()
        Path(folder, "讲话.txt").write_bytes((SEEDS / seed).read_bytes())


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (two_speeches_called_the_same, ["a", "b", "-o", "out"],
         "b/讲话.txt: same name as a/讲话.txt — their fragment files would collide; rename one"),
        (lambda: Path("frags").write_text("x"), ["seed.txt", "-o", "frags"],
         "frags: is a file — give --out a folder for the fragment files"),
        (lambda: None, ["seed.txt", "-o", "out", "--junk", "nope.txt"],
         "nope.txt: no such file — check the --junk path"),
        (lambda: Path("junk.txt").write_bytes("侵权必究\n".encode("gbk")), ["seed.txt", "-o", "out", "--junk", "junk.txt"],
         "junk.txt: cannot read the junk list — save it as UTF-8 text"),
    ],
    ids=["same-name", "out-is-a-file", "junk-missing", "junk-not-utf8"],
)
def test_ingest_errors_that_stop_the_run(
    here: Path, setup: Callable[[], object], args: list[str], message: str
) -> None:
    Path("seed.txt").write_bytes((SEEDS / "000_6e77d68632e4004c.txt").read_bytes())
    setup()
    assert fails("ingest", *args) == f"Error: {message}\n"
    assert not Path("out").exists()


def test_a_speech_holding_jinja_is_ingested_as_text(here: Path) -> None:
    """Braces in a source become full-width: a pasted {{ … }} never turns into live Jinja."""
    write("s.txt", "在X市工作会议上的讲话\n同志们：\n今天开会，" + HOSTILE + "和{% for %}都是原文。\n第一，抓落实。\n要抓好落实。\n")
    assert run("ingest", "s.txt", "-o", "frags")[0] == 0
    code, out, err = run("fragments", "list", "-L", "frags", "--json")
    assert (code, err) == (0, "")
    assert "今天开会，｛｛ cycler.__init__.__globals__.os.system('touch pwned') ｝｝和｛% for %｝都是原文。" in out
    assert not Path("pwned").exists()


def test_ingest_output_folder_that_cannot_be_created(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("seed.txt").write_bytes((SEEDS / "000_6e77d68632e4004c.txt").read_bytes())

    def mkdir(self: Path, *_a: object, **_k: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", mkdir)
    err = fails("ingest", "seed.txt", "-o", "frags")
    assert err == "Error: frags: cannot create the folder (Read-only file system) — give --out another folder\n"


def test_ingest_source_that_cannot_be_read_or_holds_no_speech(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.ingest.pipeline

    Path("seed.txt").write_bytes((SEEDS / "000_6e77d68632e4004c.txt").read_bytes())
    Path("locked.txt").write_text("同志们：", encoding="utf-8")
    deny_reading(monkeypatch, "locked.txt")
    monkeypatch.setattr(speechgen.ingest.pipeline, "split_speeches", lambda _text: (None, []))
    code, out, err = run("ingest", "locked.txt", "seed.txt", "-o", "out", "--json")
    assert code == 2
    assert err == (
        "Error: 2 problems while ingesting:\n"
        "  locked.txt: cannot read (Permission denied)\n"
        "  seed.txt: no speech found in the text — is this a speech?\n"
    )


# --------------------------------------------------------------------------- output


def test_unwritable_output_paths(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.output

    write("file.txt", "x")
    assert fails("compose", "b.yaml", "-L", "lib", "-o", "file.txt/out.md") == (
        "Error: file.txt/out.md: 'file.txt' is a file, not a folder — choose another path\n"
    )

    def read_only(*_a: object, **_k: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(speechgen.output.tempfile, "mkstemp", read_only)
    assert fails("compose", "b.yaml", "-L", "lib", "-o", "out.docx") == (
        "Error: out.docx: cannot write here (Read-only file system) — choose another path\n"
    )
    real_access = os.access  # root passes os.access: make the write check say no
    monkeypatch.setattr(speechgen.output.os, "access", lambda p, mode, **k: mode != os.W_OK and real_access(p, mode))
    assert fails("compose", "b.yaml", "-L", "lib", "-o", "out.docx") == (
        "Error: out.docx: cannot write here (permission denied) — choose another path\n"
    )
    assert files_in(here) == ["b.yaml", "file.txt", "lib", "lib/a.yaml"]


def test_reference_docx_that_cannot_be_read(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_docx(here / "office.docx")
    deny_reading(monkeypatch, "office.docx")
    assert fails("compose", "b.yaml", "-L", "lib", "-o", "out.docx", "--reference-docx", "office.docx") == (
        "Error: office.docx: cannot read it (permission denied) — give a readable .docx\n"
    )


def broken_save(monkeypatch: pytest.MonkeyPatch) -> None:
    """Word export writes half a file, then the disk is full."""

    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if not self.name.startswith(".讲话稿.docx."):  # only the temporary file of the draft
            return real(self, data)
        real(self, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def bug_in_export(monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.export.markdown

    def boom(_draft: object) -> str:
        raise RuntimeError("kaput")

    monkeypatch.setattr(speechgen.export.markdown, "to_markdown", boom)


@pytest.mark.parametrize(
    ("out", "fault", "extra", "code", "message"),
    [
        ("讲话稿.docx", lambda mp: write("b.yaml", BRIEF.replace("a.point.2", "a.piont.2")), [], 2,
         "Error: b.yaml:6: unknown fragment id 'a.piont.2' — did you mean 'a.point.2'?\n"),
        ("讲话稿.md", lambda mp: template("推进会", "# {{ title }}\n\n" + HOSTILE + "\n"), ["-T", "T"], 2,
         "Error: T/推进会.j2: access to attribute '__init__' of 'type' object is unsafe. — "
         "a template may only use the variables given to it\n"),
        ("讲话稿.docx", lambda mp: Path("office.docx").write_bytes(b"PK\x03\x04 not a zip"),
         ["--reference-docx", "office.docx"], 2,
         "Error: office.docx: not a valid .docx (corrupt or not a Word file) — give a Word document saved as .docx\n"),
        ("讲话稿.docx", broken_save, [], 2,
         "Error: 讲话稿.docx: cannot write here (No space left on device) — choose another path\n"),
        ("讲话稿.md", bug_in_export, [], 1,
         "speechgen: internal error (RuntimeError: kaput). This is a bug — please report it with the "
         "output of the same command run with --debug.\n"),
    ],
    ids=["brief-error", "hostile-template", "corrupt-reference", "disk-full", "internal-error"],
)
def test_a_failed_compose_leaves_the_existing_output_byte_identical(
    here: Path, monkeypatch: pytest.MonkeyPatch, out: str, fault: Callable[[pytest.MonkeyPatch], object],
    extra: list[str], code: int, message: str,
) -> None:
    assert run("compose", "b.yaml", "-L", "lib", "-o", out)[0] == 0
    before = Path(out).read_bytes()
    fault(monkeypatch)
    listing = files_in(here)
    result = run("compose", "b.yaml", "-L", "lib", "-o", out, *extra)
    assert result[0] == code
    assert result[2] == message
    assert Path(out).read_bytes() == before
    assert files_in(here) == listing  # and no temporary file left behind


# --------------------------------------------------------------------------- drafts (export)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("正文。\n", "d.md: no title — the draft needs a line '# 标题'"),
        ("# 标题\n\n正文。\n\n# 又一个标题\n",
         "d.md:5: a second '# ' title — a draft has one title; use '## ' for a heading"),
        ("---\ndate: 2024-03-15\n# 标题\n", "d.md:1: front matter opened with '---' is never closed — add a '---' line"),
        ("---\n- 李华\n---\n# 标题\n", "d.md:2: front matter must be 'key: value' lines"),
        ("---\nspeaker: [李华]\n---\n# 标题\n",
         "d.md: front matter 'speaker' must be text, not a list or mapping — write it as 'speaker: …' on one line"),
        ("---\ndate: 2024-02-30\n---\n# 标题\n", "d.md: date '2024-02-30' is not a real date — write it as YYYY-MM-DD"),
        ("---\nspeaker: !!python/object/apply:os.system ['touch pwned']\n---\n# 标题\n",
         "d.md:2:10: the YAML tag !!python/object/apply:os.system is not allowed — only plain YAML "
         "(text, numbers, lists, mappings) is read, nothing that builds Python objects"),
        ("---\nspeaker: [李华\n---\n# 标题\n",
         "d.md:3:1: YAML syntax error: did not find expected ',' or ']' — check the indentation and "
         "quoting near this line"),
    ],
    ids=["no-title", "second-title", "unclosed-front-matter", "front-matter-list", "front-matter-value",
         "impossible-date", "python-tag", "yaml-syntax"],
)
def test_draft_errors(here: Path, text: str, message: str) -> None:
    write("d.md", text)
    assert fails("export", "d.md", "-o", "d.docx") == f"Error: {message}\n"
    assert files_in(here) == ["b.yaml", "d.md", "lib", "lib/a.yaml"]


def test_draft_that_is_not_utf8_a_folder_or_unreadable(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path("gbk.md").write_bytes("# 标题\n\n同志们：\n".encode("gbk"))
    assert fails("export", "gbk.md", "-o", "x.txt") == "Error: gbk.md: not UTF-8 text — save the draft as UTF-8\n"
    Path("d.md").mkdir()
    assert fails("export", "d.md", "-o", "x.txt") == "Error: d.md: is a folder, not a draft — give the .md file\n"
    write("locked.md", "# 标题\n")
    monkeypatch.setattr(Path, "read_bytes", lambda *_a, **_k: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    assert fails("export", "locked.md", "-o", "x.txt") == "Error: locked.md: cannot read (Permission denied)\n"


# --------------------------------------------------------------------------- the command line itself


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fragments", "list", "--year", "abc"],
         "Usage: speechgen fragments list [OPTIONS]\nTry 'speechgen fragments list --help' for help.\n\n"
         "Error: Invalid value for '--year': 'abc' is not a valid int.\n"),
        (["compose", "b.yaml"],
         "Usage: speechgen compose [OPTIONS] {BRIEF}\nTry 'speechgen compose --help' for help.\n\n"
         "Error: Missing option '--output' / '-o'.\n"),
        (["draft"],
         "Usage: speechgen [OPTIONS] COMMAND [ARGS]...\nTry 'speechgen --help' for help.\n\n"
         "Error: No such command 'draft'.\n"),
    ],
    ids=["bad-option-value", "missing-option", "unknown-command"],
)
def test_usage_errors_exit_2(here: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, args, prog_name="speechgen")
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", message)


BOOM = """\
import sys
import speechgen.paths

def boom(*_a, **_k):
    raise RuntimeError("kaput")

speechgen.paths.library_dirs = boom
sys.argv = ["speechgen", *sys.argv[1:]]
from speechgen.cli import main
main()
"""


def test_internal_error_asks_for_a_report_and_debug_shows_the_traceback(here: Path) -> None:
    def speechgen(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", BOOM, *args], capture_output=True, text=True, check=False, cwd=here
        )

    plain = speechgen("fragments", "list")
    assert (plain.returncode, plain.stderr) == (
        1,
        "speechgen: internal error (RuntimeError: kaput). This is a bug — please report it with the "
        "output of the same command run with --debug.\n",
    )
    debug = speechgen("--debug", "fragments", "list")
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback (most recent call last):\n")
    assert re.search(r'File ".*", line \d+, in boom\n', debug.stderr)
    assert debug.stderr.endswith("RuntimeError: kaput\n")


# --------------------------------------------------------------------------- titles and metadata files


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("{{ 市名 的讲话", "b.yaml:1: title: expected token 'end of print statement', got '的讲话' — "
         "write a slot as {{ 市名 }}"),
        # A title holds what a fragment text may (issue 16): internals are refused before rendering.
        ("{{ 市名.__class__ }}的讲话", "b.yaml:1: title: reaches for Python internals (__class__) — remove it"),
        ("{{ 市名 < 2 }}的讲话", "b.yaml:1: title: cannot fill the text (TypeError: '<' not supported "
         "between instances of 'str' and 'int') — fix the title"),
    ],
    ids=["syntax", "sandbox", "type-error"],
)
def test_a_bad_title_is_named_where_it_was_written(here: Path, title: str, message: str) -> None:
    write("b.yaml", f"title: \"{title}\"\n" + BRIEF)
    assert fails("check", "b.yaml", "-L", "lib") == f"Error: {message}\n"


def test_a_bad_title_in_template_metadata(here: Path) -> None:
    template("推进会", "# {{ title }}\n", "title: '{{ 市名 的讲话'\n")
    assert fails("check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/推进会.yaml: title: expected token 'end of print statement', got '的讲话' — "
        "write a slot as {{ 市名 }}\n"
    )


def test_template_metadata_that_is_not_utf8(here: Path) -> None:
    template("推进会", "# {{ title }}\n")
    Path("T/推进会.yaml").write_bytes("salutation: 同志们：\n".encode("gbk"))
    assert fails("check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/推进会.yaml: not UTF-8 text — save the template metadata file as UTF-8\n"
    )


def test_load_yaml_names_a_missing_or_folder_or_unreadable_file(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Template metadata is only read when it is a file; these guard the race where it changes."""
    from speechgen.errors import SpeechgenError
    from speechgen.userfiles import load_yaml

    Path("meta.yaml").mkdir()
    write("locked.yaml", "a: 1\n")
    deny_reading(monkeypatch, "locked.yaml")
    for name, message in [
        ("gone.yaml", "gone.yaml: no such file — check the path"),
        ("meta.yaml", "meta.yaml: is a folder, not a template metadata file"),
        ("locked.yaml", "locked.yaml: cannot read (Permission denied)"),
    ]:
        with pytest.raises(SpeechgenError) as err:
            load_yaml(Path(name), "template metadata file")
        assert str(err.value) == message


# --------------------------------------------------------------------------- the catalogue


def test_every_test_named_in_the_catalogue_exists() -> None:
    catalogue = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    refs = re.findall(r"((?:\w+/)?test_\w+\.py)::(test_\w+)(?:\[([\w-]+)\])?", catalogue)
    assert len(refs) > 100
    for file, name, param in refs:
        source = (ROOT / "tests" / file).read_text(encoding="utf-8")
        assert re.search(rf"^def {name}\(", source, re.M), f"{file}::{name} is not a test"
        if param:
            assert f'"{param}"' in source, f"{file}::{name}[{param}] is not a case"
    for param in re.findall(r"`\[([\w-]+)\]`", catalogue):  # `[two-documents]`: a further case of the test before
        assert f'"{param}"' in Path(__file__).read_text(encoding="utf-8"), param


def test_new_checks_apply_to_a_library_already_in_the_cache(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file cached as valid is checked again when the checks change, not trusted from the cache."""
    import speechgen.library.files
    import speechgen.library.sqlite

    write("lib/x.yaml", "source: {file: x.txt}\nfragments:\n  - id: x.1\n    kind: opening\n    text: 正文\n")
    assert run("fragments", "list", "-L", "lib", "--json")[0] == 0
    real = speechgen.library.files.check_fragment

    def stricter(raw: object, where: str) -> list[str]:
        if isinstance(raw, dict) and raw.get("id") == "x.1":
            return [f"{where}: refused by a newer rule"]
        return real(raw, where)

    monkeypatch.setattr(speechgen.library.files, "check_fragment", stricter)
    assert run("fragments", "list", "-L", "lib", "--json")[0] == 0  # same checks version: the cache answers
    monkeypatch.setattr(speechgen.library.sqlite, "checks_version", lambda: "newer rules")
    assert fails("fragments", "list", "-L", "lib") == "Error: fragment library: lib/x.yaml:3: refused by a newer rule\n"
