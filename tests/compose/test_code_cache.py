"""Compiled template code kept in memory and in the cache folder (speechgen/cachefiles.py):
the same drafts, the sandbox's limits still in force, and nothing read that another user
could have written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import EXAMPLES

from speechgen import cachefiles
from speechgen.compose import sandbox as sb
from speechgen.compose.pipeline import compose_file
from speechgen.compose.render import Renderer
from speechgen.compose.templates import template_dirs
from speechgen.draft import to_markdown
from speechgen.errors import TemplateError
from speechgen.paths import library_dirs

LOOPS = "{% for a in range(3000) %}{% for b in range(3000) %}{% for c in range(10) %}x{% endfor %}{% endfor %}{% endfor %}"


def fresh_process() -> None:
    """What a new process starts with: nothing compiled in memory."""
    sb._CODE.clear()


def stored() -> list[Path]:
    folder = cachefiles.private_folder("jinja")
    assert folder is not None
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def test_drafts_are_the_same_compiled_fresh_from_memory_and_from_disk() -> None:
    brief = EXAMPLES / "推进会.yaml"

    def draft() -> str:
        return to_markdown(compose_file(brief, library_dirs(), template_dirs(None)).draft)

    fresh_process()
    first = draft()
    files = stored()
    assert files, "compiled code was stored"
    again = draft()  # from memory
    fresh_process()
    from_disk = draft()
    assert first == again == from_disk
    assert stored() == files  # nothing compiled a second time


def test_limits_hold_in_code_read_back_from_the_cache() -> None:
    for _ in range(2):
        fresh_process()
        with pytest.raises(TemplateError, match="template steps"):
            Renderer({}, {}).render(LOOPS, "x.point.1", "第一点")


def test_a_file_another_user_could_have_written_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    assert os.environ.get("SPEECHGEN_CACHE")  # conftest: a cache folder of this test's own
    env = sb.sandbox()()
    text = "今天我们在{{ 市名 }}召开会议。"
    fresh_process()
    sb.from_source(env, text)
    folder = cachefiles.private_folder("jinja")
    assert folder is not None
    key = sb.code_key(env, text)
    path = folder / key
    assert path.stat().st_mode & 0o777 == 0o600 and folder.stat().st_mode & 0o777 == 0o700
    # A stored file that does not match its name must never run: replace it with the code
    # of another text, as a tamperer would, and see which text renders.
    import marshal

    evil = marshal.dumps(env.compile("PLANTED"))
    path.write_bytes(evil)
    os.chmod(path, 0o666)  # writable by others: not read
    fresh_process()
    assert sb.from_source(env, text).render(市名="临江市") == "今天我们在临江市召开会议。"
    path.write_bytes(evil)
    os.chmod(path, 0o600)
    with monkeypatch.context() as m:
        m.setattr(os, "getuid", lambda: os.stat(path).st_uid + 1)  # owned by someone else
        assert cachefiles.read(folder, key) is None
    os.chmod(folder, 0o770)  # a folder others may write into is not used at all
    assert cachefiles.private_folder("jinja") is None
    fresh_process()
    assert sb.from_source(env, text).render(市名="临江市") == "今天我们在临江市召开会议。"
    os.chmod(folder, 0o700)
    path.unlink()
    path.symlink_to(folder.parent / "elsewhere")
    (folder.parent / "elsewhere").write_bytes(evil)
    assert cachefiles.read(folder, key) is None  # a link is not followed


def test_the_key_covers_the_environment_and_the_text() -> None:
    plain = sb.sandbox()()
    trimmed = sb.sandbox()(trim_blocks=True, lstrip_blocks=True)
    assert sb.code_key(plain, "a") != sb.code_key(trimmed, "a")
    assert sb.code_key(plain, "a") != sb.code_key(plain, "b")
    assert sb.code_key(plain, "a") == sb.code_key(sb.sandbox()(), "a")


def test_an_included_part_costs_the_same_compiled_or_cached(tmp_path: Path) -> None:
    from speechgen.compose.render import folder_loader

    (tmp_path / "part.j2").write_text("{% for x in items %}{{ x }}、{% endfor %}" * 20, encoding="utf-8")
    costs = []
    for memory in (False, True, False):
        if not memory:
            fresh_process()
        env = sb.sandbox()(loader=folder_loader()([str(tmp_path)]))
        assert env.get_template("part.j2").render(items=["甲", "乙"]).startswith("甲、乙、")
        costs.append((env.costs["part.j2"], env.steps))
    assert costs[0] == costs[1] == costs[2] and costs[0][0] > 1


def test_template_names_kept_on_disk_are_a_fresh_parses() -> None:
    from speechgen.compose import render
    from speechgen.compose.pipeline import check_title

    sources = [(EXAMPLES.parent / "templates" / name).read_text(encoding="utf-8")
               for name in ("推进会.j2", "_points.j2")] + ["{{ 市名 }}关于{{ 主题 }}的讲话", "{% set a = 1 %}{{ a }}{{ b }}"]
    fresh = []
    for source in sources:
        render._NAMES.clear()
        fresh.append(render.template_names(source))
    render._NAMES.clear()  # a new process: read from the cache folder
    assert [render.template_names(source) for source in sources] == fresh
    assert fresh[3] == {"b"}
    for source in sources:
        render._NAMES.clear()
        assert render.names_known(source)
    bad = "{{ 市名 }关于"  # never stored, so still checked and reported
    render._NAMES.clear()
    with pytest.raises(TemplateError, match="brief.yaml:3: title"):
        check_title(bad, "brief.yaml:3")
    with pytest.raises(TemplateError):
        render.template_names(bad)
    assert not render.names_known(bad)


def test_a_damaged_names_file_is_parsed_again() -> None:
    from speechgen.compose import render

    source = "{{ 单位 }}在{{ 会议 }}上的讲话"
    render._NAMES.clear()
    assert render.template_names(source) == {"单位", "会议"}
    folder = cachefiles.private_folder("jinja")
    assert folder is not None
    (folder / render._names_key(source)).write_bytes(b"\x00garbage")
    render._NAMES.clear()
    assert render.template_names(source) == {"单位", "会议"}
