"""Hostile and careless input, round 2 (issue 16): each case runs the real command line in a
child process with a time limit and a memory limit, and must end in exit status 2 with one
named cause (or 0 where the input is acceptable), no traceback, and no file changed.

Classes: file disclosure through template folders; memory and CPU bombs in templates,
fragment files and briefs; special files and archives; Unicode and control characters;
YAML edge cases. docs/security.md states the threat model and the limits.
"""

from __future__ import annotations

import errno
import hashlib
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

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
  - id: a.point.2
    kind: point
    heading: 力戒形式主义
    text: 坚决力戒形式主义，为基层减负。
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
MEMORY = 1 << 30  # 1 GiB of address space for the child
TIMEOUT = 60


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def speechgen(*args: str | bytes, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the command line in a child with bounded memory and time."""
    env = {**os.environ, "SPEECHGEN_CACHE": str(cwd / ".cache"), "PYTHONPATH": str(ROOT)}
    argv: list[str | bytes] = [sys.executable, "-m", "speechgen.cli", *args]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
        preexec_fn=_limit_memory, check=False, errors="backslashreplace",
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under *folder* (but the cache) with a digest of its bytes: what must not change."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        if rel.startswith(".cache"):
            continue
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha1(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = "special"
    return out


def refused(here: Path, *args: str | bytes) -> str:
    """stderr of a command that must stop with a named cause: exit 2, no traceback, nothing changed."""
    before = snapshot(here)
    result = speechgen(*args, cwd=here)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stdout == "" or args[0] == "ingest"  # ingest reports on every file, bad ones too
    assert snapshot(here) == before
    return result.stderr


@pytest.fixture()
def here(tmp_path: Path) -> Path:
    """A working folder with lib/a.yaml and b.yaml, a brief that composes."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "a.yaml").write_text(LIB, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(BRIEF, encoding="utf-8")
    return tmp_path


def template(here: Path, body: str, name: str = "推进会") -> None:
    (here / "T").mkdir(exist_ok=True)
    (here / "T" / f"{name}.j2").write_text("# {{ title }}\n\n" + body + "\n", encoding="utf-8")


def compose_with(here: Path, body: str) -> str:
    template(here, body)
    return refused(here, "compose", "b.yaml", "-L", "lib", "-T", "T", "-o", "out.md")


# --------------------------------------------------------------------------- 1. file disclosure


def test_an_include_that_links_outside_the_template_folders_is_refused(here: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    secret = tmp_path_factory.mktemp("elsewhere") / "secret.txt"
    secret.write_text("root:x:0:0:SECRET\n", encoding="utf-8")
    template(here, "{% include '_part.j2' %}")
    (here / "T" / "_part.j2").symlink_to(secret)
    err = refused(here, "compose", "b.yaml", "-L", "lib", "-T", "T", "-o", "out.md")
    assert err == (
        "Error: T/_part.j2: links to a file outside the template folders — a template may only use files "
        "inside them; copy the file in instead\n"
    )
    assert "SECRET" not in err


@pytest.mark.parametrize("tag", ["{% extends '_base.j2' %}", "{% import '_base.j2' as m %}", "{% from '_base.j2' import x %}"],
                         ids=["extends", "import", "from-import"])
def test_extends_and_imports_are_held_to_the_folders_too(here: Path, tag: str) -> None:
    template(here, tag)
    (here / "T" / "_base.j2").symlink_to("/etc/passwd")
    err = refused(here, "check", "b.yaml", "-L", "lib", "-T", "T")
    assert err == (
        "Error: T/_base.j2: links to a file outside the template folders — a template may only use files "
        "inside them; copy the file in instead\n"
    )


def test_a_template_or_its_metadata_linking_outside_is_refused(here: Path) -> None:
    (here / "T").mkdir()
    (here / "T" / "推进会.j2").symlink_to("/etc/passwd")
    assert refused(here, "check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/推进会.j2: links to a file outside the template folders — a template may only use files "
        "inside them; copy the file in instead\n"
    )
    (here / "T" / "推进会.j2").unlink()
    template(here, "正文")
    (here / "T" / "推进会.yaml").symlink_to("/etc/hostname")
    assert refused(here, "check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/推进会.yaml: links to a file outside the template folders — a template may only use files "
        "inside them; copy the file in instead\n"
    )


def test_a_link_inside_the_template_folders_is_fine(here: Path) -> None:
    template(here, "{% include '_shared.j2' %}")
    (here / "T" / "parts").mkdir()
    (here / "T" / "parts" / "shared.j2").write_text("共用的一段。\n", encoding="utf-8")
    (here / "T" / "_shared.j2").symlink_to("parts/shared.j2")
    result = speechgen("compose", "b.yaml", "-L", "lib", "-T", "T", "-o", "out.md", cwd=here)
    assert (result.returncode, result.stderr) == (0, "")
    assert "共用的一段。" in (here / "out.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- 2. memory and CPU bombs


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
         "T/推进会.j2: runs more than 10,000,000 template steps (loops, macro calls, includes) — a speech "
         "needs far fewer — fix the template"),
        ("{% for a in range(100000) %}{% for b in range(100000) if false %}{% endfor %}{% endfor %}",
         "T/推进会.j2: runs more than 10,000,000 template steps (loops, macro calls, includes) — a speech "
         "needs far fewer — fix the template"),
        ("{% macro m() %}{{ m() }}{{ m() }}{% endmacro %}{% for i in range(100000) %}{{ m() }}{% endfor %}",
         "T/推进会.j2:3: it includes or extends itself without end — fix the template"),
        ("{{ (['x' * 999999] * 999999)|join }}",
         "T/推进会.j2: |join would build text or a list over 1,000,000 long — fix the template"),
        ("{{ ''.join(['x' * 999999] * 999999) }}",
         "T/推进会.j2: '.join()' would build text or a list over 1,000,000 long — fix the template"),
        ("{{ ['x' * 999999] * 999999 }}",
         "T/推进会.j2: writing a value would build text or a list over 1,000,000 long — fix the template"),
        ("{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
         "T/推进会.j2: '~' would build text or a list over 1,000,000 long — fix the template"),
        ("{% set ns = namespace(s='xx') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
         "T/推进会.j2: '+' would build text or a list over 1,000,000 long — fix the template"),
        ("{% set ns = namespace(n=3) %}{% for i in range(64) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
         "T/推进会.j2: '*' would build a number over 4,096 bits — fix the template"),
        ("{% set l = [1] %}{% for i in range(64) %}{{ l.extend(l) }}{% endfor %}",
         "T/推进会.j2: access to attribute 'extend' of 'list' object is unsafe. — a template may only use "
         "the variables given to it"),
        ("{{ '{0:>999999999}'.format(1) }}",
         "T/推进会.j2: format: a width or precision of 999,999,999 is over the limit of 10,000 — fix the template"),
        ("{{ '{0:{1}}'.format(1, 999999999) }}",
         "T/推进会.j2: format: a width or precision of 999,999,999 is over the limit of 10,000 — fix the template"),
        ("{{ '%999999999d' % 1 }}",
         "T/推进会.j2: '%': a width or precision of 999,999,999 is over the limit of 10,000 — fix the template"),
        ("{{ '%s'|format(['x' * 999999] * 999999) }}",
         "T/推进会.j2: |format would build text or a list over 1,000,000 long — fix the template"),
        ("{{ 'x'.ljust(999999999) }}",
         "T/推进会.j2: '.ljust()' is given 999,999,999, over the limit of 1,000,000 — fix the template"),
        ("{{ 'x'.center(99999) }}",
         "T/推进会.j2: '.center()': a width of 99,999 is over the limit of 10,000 — fix the template"),
        ("{{ ('x' * 999999).replace('x', 'yyyyyyyy') }}",
         "T/推进会.j2: '.replace()' would build text or a list over 1,000,000 long — fix the template"),
        ("{{ 'x'|center(999999999) }}",
         "T/推进会.j2: |center: a width of 999,999,999 is over the limit of 10,000 — fix the template"),
        ("{{ ('x\\n' * 400000)|indent(100) }}",
         "T/推进会.j2: |indent would build text or a list over 1,000,000 long — fix the template"),
        ("{{ ('x' * 999999)|replace('x', 'yyyy') }}",
         "T/推进会.j2: |replace would build text or a list over 1,000,000 long — fix the template"),
        ("{{ ('x' * 999999)|wordwrap(1, wrapstring='--------') }}",
         "T/推进会.j2: |wordwrap would build text or a list over 1,000,000 long — fix the template"),
        ("{{ [1]|batch(999999999, 'x')|list }}",
         "T/推进会.j2: |batch: a count of 999,999,999 is over the limit of 10,000 — fix the template"),
        ("{{ (['x' * 999999] * 999999)|tojson }}",
         "T/推进会.j2: |tojson would build text or a list over 1,000,000 long — fix the template"),
        ("{{ ([[1] * 999999] * 999999)|sum(start=[]) }}",
         "T/推进会.j2: |sum would build text or a list over 1,000,000 long — fix the template"),
        ("{{ (1).to_bytes(999999999, 'big') }}",
         "T/推进会.j2: '.to_bytes()' is given 999,999,999, over the limit of 1,000,000 — fix the template"),
        ("{{ lipsum(n=999999999) }}",
         "b.yaml: 1 slot has no value:\n  lipsum — needed by template 推进会 — add it under vars: (lipsum: …)\n"
         "(or run with --allow-blanks to leave visible blanks)"),
        ("{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
         "T/推进会.j2:3: template syntax error: a recursive loop ({% for … recursive %}) is not allowed — "
         "write the levels out — fix the template"),
        ("{% if 1 %}" * 500 + "x" + "{% endif %}" * 500,
         "T/推进会.j2:1: template syntax error: blocks or brackets nested too deeply — a template needs only "
         "a few levels — fix the template"),
        ("{% for i in [1] %}" * 30 + "x" + "{% endfor %}" * 30,
         "T/推进会.j2:1: template syntax error: blocks or brackets nested too deeply — a template needs only "
         "a few levels — fix the template"),
        ("{{ " + "(" * 300 + "1" + ")" * 300 + " }}",
         "T/推进会.j2:1: template syntax error: blocks or brackets nested too deeply — a template needs only "
         "a few levels — fix the template"),
        ("{{ " + "7" * 5000 + " }}",
         "T/推进会.j2:1: template syntax error: a number too long to read — no real number has thousands of "
         "digits — fix the template"),
    ],
    ids=["nested-loops", "filtered-loops", "macro-fan-out", "list-times-join", "str-join", "print-list",
         "doubling-concat", "doubling-plus", "squaring", "list-extend", "format-width", "format-nested-width",
         "percent-width", "format-filter", "ljust", "center-method", "replace-method", "center-filter",
         "indent-filter", "replace-filter", "wordwrap-filter", "batch-filter", "tojson-filter", "sum-filter",
         "to-bytes", "lipsum", "recursive-loop", "if-500-deep", "for-30-deep", "brackets-300-deep",
         "5000-digits"],
)
def test_template_bombs_stop_with_a_named_limit(here: Path, body: str, message: str) -> None:
    assert compose_with(here, body) == f"Error: {message}\n"


def test_a_template_file_too_large_or_special_is_refused(here: Path) -> None:
    template(here, "正文" * 10)
    (here / "T" / "推进会.j2").write_bytes(b"# x\n" + b"a" * (1 << 20))
    assert refused(here, "check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/推进会.j2: 1.0 MB is too large for a template (at most 1 MB) — is this the right file?\n"
    )
    template(here, "{% include '_pipe.j2' %}")
    os.mkfifo(here / "T" / "_pipe.j2")
    assert refused(here, "check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/_pipe.j2: is a named pipe (FIFO), not a file — give the template as an ordinary file\n"
    )


def fragment_file(here: Path, text: str, extra: str = "") -> None:
    (here / "evil").mkdir(exist_ok=True)
    (here / "evil" / "e.yaml").write_text(
        "fragments:\n  - id: e.point.1\n    kind: point\n    heading: 抓落实\n"
        f"    text: {text}\n{extra}", encoding="utf-8",
    )


def test_a_fragment_with_hundreds_of_thousands_of_blanks_is_refused(here: Path) -> None:
    fragment_file(here, "\"" + "{{ blank('数量') }}" * 300_000 + "\"")
    err = refused(here, "fragments", "list", "-L", "lib", "-L", "evil")
    assert err == (
        "Error: fragment library: evil/e.yaml:2: fragment 'e.point.1': holds 300,000 placeholders "
        "({{ … }}, {% … %}) — a fragment text holds at most 1,000; split it\n"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("\"" + "{% if a %}" * 400 + "x" + "{% endif %}" * 400 + "\"",
         "{% if %} or brackets nested too deeply — a fragment text holds only text, slots, blanks and {% if %}"),
        ("\"{% if a %}" + "{{ 1" + "1" * 5000 + " }}{% endif %}\"",
         "holds a number too long to read — a fragment text holds only text, slots, blanks and {% if %}"),
        ("\"{{ blank('\\\\x1b[2J') }}\"", "a quoted text holds the control character U+001B (ESC) — remove it"),
    ],
    ids=["if-400-deep", "5000-digits", "escape-in-a-blank"],
)
def test_fragment_texts_that_cannot_be_read_safely(here: Path, text: str, problem: str) -> None:
    fragment_file(here, text)
    err = refused(here, "fragments", "list", "-L", "lib", "-L", "evil")
    assert err == f"Error: fragment library: evil/e.yaml:2: fragment 'e.point.1': {problem}\n"


def test_a_fragment_file_too_large_is_refused_before_it_is_read(here: Path) -> None:
    (here / "evil").mkdir()
    with open(here / "evil" / "big.yaml", "wb") as f:  # sparse: 100 MB that take no disk
        f.truncate(100 * 1024 * 1024)
    assert refused(here, "fragments", "list", "-L", "lib", "-L", "evil") == (
        "Error: fragment library: evil/big.yaml: 100 MB is too large for a fragment file (at most 64 MB) "
        "— is this the right file?\n"
    )


def test_a_5000_digit_number_in_a_fragment_file_or_a_brief(here: Path) -> None:
    fragment_file(here, "正文", "    number: " + "9" * 5000 + "\n")
    assert refused(here, "fragments", "list", "-L", "lib", "-L", "evil") == (
        "Error: fragment library: evil/e.yaml:6: a number with more than 4,300 digits — no real number is "
        "this long; shorten it\n"
    )
    (here / "b.yaml").write_text(BRIEF + "speaking_rate: " + "9" * 5000 + "\n", encoding="utf-8")
    err = refused(here, "check", "b.yaml", "-L", "lib")
    assert err.startswith("Error: b.yaml:7: speaking_rate must be characters per minute, e.g. 220, not '999")


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("title: \"{{ 市名|center(999999999) }}\"",
         "b.yaml:7: title: uses the filter |center — only |default, |d, |trim, |upper, |lower may be used"),
        ("title: \"{{ '{0:>999999999}'.format(市名) }}\"",
         "2 errors in b.yaml:\n"
         "  b.yaml:7: title: calls something other than blank(\"…\") — remove it; a title holds only text, "
         "slots, blanks and {% if %}\n"
         "  b.yaml:7: title: uses '.attribute' — remove it; a title holds only text, slots, blanks and {% if %}"),
        ("title: \"{% for i in range(99999) %}{{ 市名 }}{% endfor %}\"",
         "2 errors in b.yaml:\n"
         "  b.yaml:7: title: uses {% for %} — remove it; a title holds only text, slots, blanks and {% if %}\n"
         "  b.yaml:7: title: calls something other than blank(\"…\") — remove it; a title holds only text, "
         "slots, blanks and {% if %}"),
    ],
    ids=["title-filter", "title-format", "title-loop"],
)
def test_a_title_holds_only_plain_text_and_slots(here: Path, field: str, message: str) -> None:
    (here / "b.yaml").write_text(BRIEF + field + "\n", encoding="utf-8")
    assert refused(here, "check", "b.yaml", "-L", "lib") == f"Error: {message}\n"


def test_a_heading_holds_only_plain_text_and_slots(here: Path) -> None:
    (here / "b.yaml").write_text(BRIEF.replace("  - a.point.2\n", "  - {id: a.point.2, heading: \"{{ 市名|indent(99999) }}\"}\n"),
                                 encoding="utf-8")
    assert refused(here, "check", "b.yaml", "-L", "lib") == (
        "Error: b.yaml:6: points item 2: heading: uses the filter |indent — only |default, |d, |trim, |upper, "
        "|lower may be used\n"
    )


def test_a_title_in_template_metadata_is_held_to_the_same_rule(here: Path) -> None:
    template(here, "正文")
    (here / "T" / "推进会.yaml").write_text("title: \"{{ 市名|wordwrap(1) }}\"\n", encoding="utf-8")
    assert refused(here, "check", "b.yaml", "-L", "lib", "-T", "T") == (
        "Error: T/推进会.yaml: title: uses the filter |wordwrap — only |default, |d, |trim, |upper, |lower may be used\n"
    )


# --------------------------------------------------------------------------- 3. special files and archives


def special(here: Path, kind: str) -> str:
    """A path in *here* that is a FIFO, a device or a symbolic link that loops."""
    if kind == "device":
        return "/dev/zero"
    if kind == "fifo":
        os.mkfifo(here / "pipe")
        return "pipe"
    (here / "loop-a").symlink_to("loop-b")
    (here / "loop-b").symlink_to("loop-a")
    return "loop-a"


SPECIAL = {"device": "is a device, not a file", "fifo": "is a named pipe (FIFO), not a file"}


@pytest.mark.parametrize("kind", ["device", "fifo", "loop"])
def test_a_brief_that_is_a_special_file(here: Path, kind: str) -> None:
    path = special(here, kind)
    err = refused(here, "compose", path, "-L", "lib", "-o", "out.md")
    if kind == "loop":
        assert err == f"Error: {path}: a symbolic link that loops back on itself — give a real file\n"
    else:
        assert err == f"Error: {path}: {SPECIAL[kind]} — give the brief as an ordinary file\n"


@pytest.mark.parametrize("kind", ["device", "fifo", "loop"])
def test_a_library_that_is_a_special_file(here: Path, kind: str) -> None:
    path = special(here, kind)
    what = {"device": "a device", "fifo": "a named pipe (FIFO)", "loop": "a symbolic link that loops back on itself"}[kind]
    assert refused(here, "fragments", "search", "调查", "-L", path) == (
        f"Error: {path}: is {what}, not a folder or a fragment file — check --library / SPEECHGEN_LIBRARY\n"
    )


@pytest.mark.parametrize("kind", ["device", "fifo", "loop"])
def test_a_speech_that_is_a_special_file(here: Path, kind: str) -> None:
    path = special(here, kind)
    err = refused(here, "ingest", path, "-o", "out", "--json")
    problem = ("a symbolic link that loops back on itself — give a real file" if kind == "loop"
               else f"{SPECIAL[kind]} — give the speech as an ordinary file")
    assert err == f"Error: 1 problem while ingesting:\n  {path}: {problem}\n"


def test_a_draft_or_junk_list_that_is_a_special_file(here: Path) -> None:
    os.mkfifo(here / "d.md")
    assert refused(here, "export", "d.md", "-o", "x.txt") == (
        "Error: d.md: is a named pipe (FIFO), not a file — give the draft as an ordinary file\n"
    )
    (here / "s.txt").write_text("同志们：\n今天开会。\n", encoding="utf-8")
    assert refused(here, "ingest", "s.txt", "-o", "out", "--junk", "/dev/zero") == (
        "Error: /dev/zero: is a device, not a file — give the junk list as an ordinary file\n"
    )


def test_a_brief_too_large_is_refused_before_it_is_read(here: Path) -> None:
    with open(here / "big.yaml", "wb") as f:
        f.truncate(3 * 1024 * 1024 * 1024)  # sparse 3 GB
    assert refused(here, "check", "big.yaml", "-L", "lib") == (
        "Error: big.yaml: 3 GB is too large for a brief (at most 4 MB) — is this the right file?\n"
    )


def docx_bomb(path: Path) -> None:
    """A .docx whose document.xml unpacks to over a gigabyte (a few MB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            chunk = b"<w:t>" + b" " * (1 << 20)
            for _ in range(1100):
                f.write(chunk)


def test_a_docx_that_unpacks_to_a_gigabyte_is_refused_unread(here: Path) -> None:
    docx_bomb(here / "bomb.docx")
    assert (here / "bomb.docx").stat().st_size < 10 * 1024 * 1024
    assert refused(here, "ingest", "bomb.docx", "-o", "out", "--json") == (
        "Error: 1 problem while ingesting:\n"
        "  bomb.docx: unpacks to 1.1 GB, more than a Word document may hold (256 MB) — is it really a speech?\n"
    )


def test_a_docx_whose_directory_lies_about_its_size_is_still_bounded(here: Path) -> None:
    """The sizes checked are those zipfile obeys: an entry never unpacks past what it declares."""
    import docx

    docx.Document().save(str(here / "real.docx"))
    with zipfile.ZipFile(here / "real.docx") as src, zipfile.ZipFile(here / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info, src.read(info))
        with dst.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(src.read("word/document.xml"))
            for _ in range(1100):
                f.write(b" " * (1 << 20))  # whitespace after the root element: still well-formed
    (here / "real.docx").unlink()
    data = bytearray((here / "bomb.docx").read_bytes())
    central = data.rfind(b"PK\x01\x02")  # the last directory entry: word/document.xml
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")  # claims 1,000 bytes unpacked
    (here / "liar.docx").write_bytes(bytes(data))
    err = refused(here, "ingest", "liar.docx", "-o", "out", "--json")
    assert err == (
        "Error: 1 problem while ingesting:\n"
        "  liar.docx: not a valid .docx (corrupt or not a Word file) — re-save it from Word\n"
    )


# --------------------------------------------------------------------------- 5. Unicode and control characters


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('  市名: "临江\\0市"', "b.yaml:3: holds the control character U+0000 (NUL) — remove it"),
        ('  市名: "临江\\e[2J市"', "b.yaml:3: holds the control character U+001B (ESC) — remove it"),
        ('  市名: "临江\\ud800市"',
         "b.yaml:3: holds U+D800 (half of a surrogate pair, not a character) — remove it (a \\ud800 escape?)"),
        ("  市名: 临江\x07市", "b.yaml:3: holds the control character U+0007 (BEL) — remove it"),
    ],
    ids=["nul-escape", "esc-escape", "lone-surrogate", "raw-bell"],
)
def test_control_characters_and_surrogates_in_a_brief(here: Path, line: str, message: str) -> None:
    brief = BRIEF.replace("vars: {市名: 临江市, 上级: 省委, 本级: 市}", "vars:\n" + line + "\n  上级: 省委\n  本级: 市")
    (here / "b.yaml").write_text(brief, encoding="utf-8")
    for out in ("out.docx", "out.md", "out.txt"):
        assert refused(here, "compose", "b.yaml", "-L", "lib", "-o", out) == f"Error: {message}\n"


def test_control_characters_in_a_fragment_file(here: Path) -> None:
    fragment_file(here, '"抓落实\\0到位"')
    assert refused(here, "fragments", "list", "-L", "lib", "-L", "evil") == (
        "Error: fragment library: evil/e.yaml:2: fragment 'e.point.1': its text holds the control character "
        "U+0000 (NUL) — remove it\n"
    )


def test_a_template_that_writes_a_control_character(here: Path) -> None:
    assert compose_with(here, "{{ '\\x1b[31m' }}红字") == (
        "Error: T/推进会.j2:3: holds the control character U+001B (ESC) — remove it (in what the template produced)\n"
    )


def test_an_exported_draft_with_a_nul(here: Path) -> None:
    (here / "d.md").write_text("# 标题\n\n正文\x00。\n", encoding="utf-8")
    assert refused(here, "export", "d.md", "-o", "d.docx") == (
        "Error: d.md:3: holds the control character U+0000 (NUL) — remove it\n"
    )


def test_an_invisible_character_in_a_template_name_is_named(here: Path) -> None:
    (here / "b.yaml").write_text(BRIEF.replace("template: 推进会", "template: 推进会\u200b"), encoding="utf-8")
    assert refused(here, "check", "b.yaml", "-L", "lib") == (
        "Error: b.yaml:1: unknown template '推进会\\u200b' — it holds the invisible character U+200B "
        "(ZERO WIDTH SPACE); did you mean '推进会'? (templates: 动员部署会, 推进会, 领导小组会议)\n"
    )


def test_a_bidi_mark_in_a_fragment_id_is_named(here: Path) -> None:
    (here / "b.yaml").write_text(BRIEF.replace("  - a.point.2", "  - a.point.2\u202e"), encoding="utf-8")
    assert refused(here, "check", "b.yaml", "-L", "lib") == (
        "Error: b.yaml:6: unknown fragment id 'a.point.2\\u202e' — it holds the invisible character U+202E "
        "(RIGHT-TO-LEFT OVERRIDE); did you mean 'a.point.2'?\n"
    )


def test_an_invisible_character_in_a_library_id_is_refused(here: Path) -> None:
    (here / "lib" / "a.yaml").write_text(LIB.replace("id: a.point.2", "id: a.point.2\u200b"), encoding="utf-8")
    assert refused(here, "fragments", "list", "-L", "lib") == (
        "Error: fragment library: lib/a.yaml:11: fragment id 'a.point.2\\u200b' holds the invisible character "
        "U+200B (ZERO WIDTH SPACE) — remove it\n"
    )


@pytest.mark.parametrize("args", [["fragments", "search", b"\xff\xfe"], ["check", b"\xe6\x8e.yaml"]],
                         ids=["search", "brief-path"])
def test_invalid_utf8_on_the_command_line(here: Path, args: list[str | bytes]) -> None:
    shown = "\\xff\\xfe" if args[0] == "fragments" else "\\xe6\\x8e.yaml"
    assert refused(here, *args) == (
        f"Error: the argument '{shown}' is not UTF-8 text — speechgen reads names, words and paths as UTF-8; "
        "retype it or rename the file\n"
    )


# --------------------------------------------------------------------------- 6. YAML edge cases


@pytest.mark.parametrize(
    ("brief", "message"),
    [
        (BRIEF + "template: 动员部署会\n",
         "b.yaml:7: 'template' is given twice (lines 1 and 7) — keep one of them"),
        (BRIEF.replace("vars: {市名: 临江市,", "vars: {市名: 临江市, 市名: 江北市,"),
         "b.yaml:2: '市名' is given twice (lines 2 and 2) — keep one of them"),
        ("base: &b {市名: 临江市, 上级: 省委, 本级: 市}\n" + BRIEF.replace(
            "vars: {市名: 临江市, 上级: 省委, 本级: 市}", "vars:\n  <<: *b"),
         "2 errors in b.yaml:\n"
         "  b.yaml:1: unknown key 'base' — did you mean 'phase'?\n"
         "  b.yaml:4: the YAML merge key '<<' is not supported here — write the keys out"),
        (BRIEF.replace("  - a.point.2\n", "  - {id: a.point.2, heading: [新, 标题]}\n"),
         "b.yaml:6: points item 2: heading must be text, not a list — write it on one line"),
        (BRIEF + "blanks: {a.point.1: [[三], 五]}\n",
         "b.yaml:7: blanks of 'a.point.1': each value must be text, not a list or mapping — write [三, 五]"),
        (BRIEF.replace("date: 2024-03-15", "date: [2024, 3, 15]"),
         "b.yaml:3: 'date' must be a date such as 2024-03-15, not a list"),
        (BRIEF + "? [a, b]\n: c\n", "b.yaml:7: a key must be a word, not a list"),
    ],
    ids=["duplicate-key", "duplicate-var", "merge-key", "heading-list", "blank-list", "date-list", "list-key"],
)
def test_yaml_edge_cases_in_a_brief(here: Path, brief: str, message: str) -> None:
    (here / "b.yaml").write_text(brief, encoding="utf-8")
    assert refused(here, "check", "b.yaml", "-L", "lib") == f"Error: {message}\n"


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ("title: [在, 会上]\n", "T/推进会.yaml: title must be text, not a list — write it as title: … on one line"),
        ("numbering: [一、]\n", "T/推进会.yaml: numbering must be one of 第一，, 一、, not a list"),
        ("required: [[市名]]\n", "T/推进会.yaml: required must be a list of words — write it as required: [a, b]"),
    ],
    ids=["title-list", "numbering-list", "nested-required"],
)
def test_a_list_where_template_metadata_wants_text(here: Path, meta: str, message: str) -> None:
    template(here, "正文")
    (here / "T" / "推进会.yaml").write_text(meta, encoding="utf-8")
    assert refused(here, "check", "b.yaml", "-L", "lib", "-T", "T") == f"Error: {message}\n"


def test_a_list_where_a_fragment_wants_a_word(here: Path) -> None:
    fragment_file(here, "正文", "    variants: [{id: [x], source: y, similarity: 0.9}]\n  - id: e.point.2\n"
                  "    kind: [point]\n    heading: 标题\n    text: 正文\n")
    assert refused(here, "fragments", "list", "-L", "lib", "-L", "evil").splitlines() == [
        "Error: 2 problems in the fragment library:",
        "  evil/e.yaml:2: fragment 'e.point.1': 'variants' must be a list of {source: …, id: …, similarity: 0.97}",
        "  evil/e.yaml:7: fragment 'e.point.2': 'kind' must be one word — one of: title, salutation, opening, "
        "transition, point, closing, requirements, paragraph",
    ]
