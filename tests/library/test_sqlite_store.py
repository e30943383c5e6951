"""The SQLite cache and BM25 search: never stale, ranked sensibly."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from speechgen.errors import LibraryError
from speechgen.library import Filters, load_library
from speechgen.library.sqlite import Index


def frag_file(*entries: tuple[str, str, str]) -> str:
    lines = ["source: {file: demo.txt, meeting: 推进会, year: 2023}", "fragments:"]
    for fid, kind, text in entries:
        lines += [f"  - id: {fid}", f"    kind: {kind}", f"    heading: 标题{fid}", f"    text: {text}"]
    return "\n".join(lines) + "\n"


@pytest.fixture()
def lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "lib"
    d.mkdir()
    (d / "a.yaml").write_text(
        frag_file(
            ("a.1", "point", "大兴调查研究之风，深入基层摸实情。"),
            ("a.2", "point", "坚决力戒形式主义、官僚主义，为基层减负。"),
            ("a.3", "opening", "同志们，今天召开推进会。"),
        ),
        encoding="utf-8",
    )
    return d


def bump(path: Path) -> None:
    """Move the mtime forward so a same-second rewrite is seen on any file system."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_changed_file_is_seen_at_once(lib: Path) -> None:
    assert load_library([lib]).get("a.1").text.startswith("大兴")
    path = lib / "a.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("大兴", "深化"), encoding="utf-8")
    bump(path)
    assert load_library([lib]).get("a.1").text.startswith("深化")


def test_added_and_deleted_files_are_seen_at_once(lib: Path) -> None:
    assert len(load_library([lib])) == 3
    (lib / "b.yaml").write_text(frag_file(("b.1", "closing", "谢谢大家。")), encoding="utf-8")
    assert load_library([lib]).ids()[-1] == "b.1"
    (lib / "b.yaml").unlink()
    assert not load_library([lib]).has("b.1")


def test_search_sees_changes_too(lib: Path) -> None:
    assert [h.fragment.id for h in Index([lib]).search("营商环境")] == []
    path = lib / "a.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("深入基层摸实情", "优化营商环境"), encoding="utf-8")
    bump(path)
    assert [h.fragment.id for h in Index([lib]).search("营商环境")] == ["a.1"]


def test_a_broken_file_is_reported_every_time_until_fixed(lib: Path) -> None:
    bad = lib / "z.yaml"
    bad.write_text("fragments: [\n", encoding="utf-8")
    for _ in range(2):  # the second time comes from the cache
        with pytest.raises(LibraryError, match="z.yaml:2:1: YAML syntax error"):
            load_library([lib])
    bad.unlink()
    assert len(load_library([lib])) == 3


def test_cached_and_uncached_libraries_agree(lib: Path) -> None:
    cached = load_library([lib])
    plain = load_library([lib], use_cache=False)
    assert cached.fragments == plain.fragments


def test_damaged_cache_is_rebuilt(lib: Path) -> None:
    load_library([lib])
    cache = Path(os.environ["SPEECHGEN_CACHE"])
    for db in cache.glob("library-*.sqlite3"):
        db.write_bytes(b"this is not a database" * 100)
    for extra in cache.glob("library-*.sqlite3-*"):
        extra.unlink()
    assert len(load_library([lib])) == 3


def test_works_without_a_cache_folder(lib: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECHGEN_NO_CACHE", "1")
    assert [h.fragment.id for h in Index([lib]).search("形式主义")] == ["a.2"]


def test_search_ranks_the_fragment_with_the_phrase_first(lib: Path) -> None:
    hits = Index([lib]).search("调查研究")
    assert hits[0].fragment.id == "a.1"
    assert hits[0].score > 0


def test_search_applies_filters(lib: Path) -> None:
    assert Index([lib]).search("推进会", Filters(kind="point")) == []
    assert [h.fragment.id for h in Index([lib]).search("推进会", Filters(kind="opening"))] == ["a.3"]


def test_search_of_only_punctuation_finds_nothing(lib: Path) -> None:
    assert Index([lib]).search("，。！") == []


def test_search_never_needs_jieba(lib: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexing and queries use character bigrams (speechgen.library.terms), never jieba."""
    import sys

    monkeypatch.setitem(sys.modules, "jieba", None)  # any import of jieba fails
    assert [h.fragment.id for h in Index([lib]).search("形式主义官僚主义")] == ["a.2"]
    assert [h.fragment.id for h in Index([lib]).search("调查研究之风")][:1] == ["a.1"]


def test_new_search_terms_reindex(lib: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Index([lib]).search("形式主义")
    import speechgen.library.sqlite

    monkeypatch.setattr(speechgen.library.sqlite, "TERMS_VERSION", "another tokeniser")
    idx = Index([lib])
    assert idx.conn.execute("SELECT value FROM meta WHERE key='schema'").fetchone()[0].endswith(
        "another tokeniser"
    )
    assert [h.fragment.id for h in idx.search("形式主义")] == ["a.2"]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(kind="point"),
        Filters(tag="调查研究"),
        Filters(tag="调查"),  # a part of a tag is not the tag
        Filters(meeting="推进"),
        Filters(year=2023),
        Filters(year=2019),
        Filters(source="a.yaml"),
        Filters(source="demo"),
        Filters(needs_review=True),
        Filters(kind="point", year=2023, meeting="推进会"),
    ],
)
def test_sql_filters_agree_with_the_python_rules(lib: Path, filters: Filters) -> None:
    (lib / "b.yaml").write_text(
        "source: {file: other.txt, meeting: 领导小组会议, year: 2019}\nfragments:\n"
        "  - {id: b.1, kind: point, heading: 调研, text: 正文, tags: [调查研究, 调研], review: true}\n",
        encoding="utf-8",
    )
    idx = Index([lib])
    assert [f.id for f in idx.select(filters)] == [f.id for f in idx.library().select(filters)]


def test_a_cache_from_an_older_version_is_rebuilt(lib: Path) -> None:
    import sqlite3

    load_library([lib])
    cache = Path(os.environ["SPEECHGEN_CACHE"])
    (db,) = cache.glob("library-*.sqlite3")
    conn = sqlite3.connect(db)
    conn.executescript(
        "DROP TABLE files; CREATE TABLE files(path TEXT PRIMARY KEY, shown TEXT); "
        "UPDATE meta SET value = '1' WHERE key = 'schema';"
    )
    conn.commit()
    assert len(load_library([lib])) == 3
    # Same schema number, wrong shape (a cache left by a broken build): rebuilt too.
    conn.executescript("DROP TABLE files; CREATE TABLE files(path TEXT PRIMARY KEY, shown TEXT);")
    conn.commit()
    conn.close()
    assert len(load_library([lib])) == 3
    assert [h.fragment.id for h in Index([lib]).search("形式主义")] == ["a.2"]


def test_part_of_a_dictionary_word_is_found(lib: Path) -> None:
    (lib / "c.yaml").write_text(
        frag_file(("c.1", "point", "切实增强开展主题教育的政治责任感。")), encoding="utf-8"
    )
    assert [h.fragment.id for h in Index([lib]).search("政治责任")][:1] == ["c.1"]
    assert [h.fragment.id for h in Index([lib]).search("政治责任感")][:1] == ["c.1"]


def test_the_freshness_walk_finds_what_find_library_files_finds(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """stat_library_files (one scandir walk, the cache's check on every command) names the same
    files, in the same order, under the same resolved keys, as find_library_files + resolve()."""
    from speechgen.library.files import find_library_files, stat_library_files

    monkeypatch.chdir(tmp_path)
    root = tmp_path / "lib"
    (root / "sub" / ".hidden").mkdir(parents=True)
    (root / "z").mkdir()
    for name in ("b.yaml", "a.yml", ".yaml", "c.yaml.bak", "d.YAML", "sub/e.yaml", "sub/.hidden/f.yaml", "z/g.yaml"):
        (root / name).write_text("fragments: []\n", encoding="utf-8")
    (root / "dir.yaml").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "h.yaml").write_text("fragments: []\n", encoding="utf-8")
    (root / "link.yaml").symlink_to(elsewhere / "h.yaml")  # a linked file counts, under its target's path
    (root / "linked").symlink_to(elsewhere, target_is_directory=True)  # a linked folder is not entered
    (root / "broken.yaml").symlink_to(tmp_path / "missing.yaml")
    single = tmp_path / "one.yaml"
    single.write_text("fragments: []\n", encoding="utf-8")
    for dirs in ([Path("lib")], [root, root / "sub"], [single, Path("lib/z"), root], [Path("lib/")]):
        old = {str(p.resolve()): p for p in find_library_files(dirs)}
        new = stat_library_files(dirs)
        assert list(new) == list(old)
        assert {k: Path(v[0]) for k, v in new.items()} == old  # the same path to read, as shown
        for key, (_, mtime, ctime, size) in new.items():
            st = os.stat(key)
            assert (mtime, ctime, size) == (st.st_mtime_ns, st.st_ctime_ns, st.st_size)
    with pytest.raises(LibraryError, match="does not exist"):
        stat_library_files([tmp_path / "nowhere"])


def test_the_index_knows_which_library_file_a_path_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """compose asks the index whether -o is a library file: by device and inode, from the walk
    that checked the cache, so a hard link or a symbolic link to a library file is one, a copy
    or a new file is none."""
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "cache"))
    lib = tmp_path / "lib"
    (lib / "sub").mkdir(parents=True)
    text = "fragments:\n- id: a.1\n  kind: closing\n  text: 谢谢大家。\n"
    (lib / "a.yaml").write_text(text, encoding="utf-8")
    (lib / "sub" / "b.yaml").write_text(text.replace("a.1", "b.1"), encoding="utf-8")
    os.link(lib / "a.yaml", tmp_path / "hard.md")
    (tmp_path / "soft.md").symlink_to(lib / "sub" / "b.yaml")
    (tmp_path / "copy.md").write_text(text, encoding="utf-8")
    index = Index([lib])
    assert index.file_of(tmp_path / "hard.md") == lib / "a.yaml"
    assert index.file_of(tmp_path / "soft.md") == lib / "sub" / "b.yaml"
    assert index.file_of(lib / "a.yaml") == lib / "a.yaml"
    assert index.file_of(tmp_path / "copy.md") is None
    assert index.file_of(tmp_path / "missing.md") is None


YAML_CASES = [
    "a: 1\nb: 1.5\nc: true\nd: ~\ne: null\nf: 0x1F\ng: 1_000\nh: .inf\ni: 2024-13-45\nj: '1'\nk: yes\nl: 1:30\n"
    "m: -.5e3\nn: \no: Null\np: FALSE\nq: 0o17\nr: 012\ns: .NaN\n",
    "- a\n- [1, 2]\n- {x: y, x: z}\n", "a: &x 1\nb: *x\n", "a: &l [1, 2]\nb: *l\n", "&m {k: *m}", "a: *nope\n",
    "a: &x [1]\nb: &x [2]\nc: *x\n", "!!python/object:os.system x", "a: !!str 1", "<<: {a: 1}\n", "a:\n  <<: {b: 1}\n",
    "--- a\n--- b\n", "", "# c\n", "[1, 2", "a: b: c", "? [1]\n: 2\n", "a: 99999999999999999999999999999999",
    "x: 1" + "0" * 5000, "a: |\n  text\n  more\nb: >\n  fold\n  ed\n", "=: 1", "a: =\n", "--- \n...\n",
    "a: [{b: [c, {d: e}]}, f]\n1: x\n1.5: y\nnull: z\n", "plain", "- - - x", "a: \"\\u00e9\\t\"\nb: '它''s'\n",
    "a: 1\n\x07", "\ufeffa: 1\n", "a: [1,\n", "? a\n? b\n", "[" * 100 + "]" * 100, "[" * 20000 + "]" * 20000,
]


@pytest.mark.parametrize("text", YAML_CASES)
def test_plain_yaml_reads_what_the_loader_reads_or_leaves_it_to_it(text: str) -> None:
    """Library files are read from libyaml's events directly; anything that reader does not
    handle (tags, merge keys, errors) is None, and the full loader reads or reports it."""
    import yaml

    from speechgen.library.files import _plain_yaml
    from speechgen.userfiles import _loader

    got = _plain_yaml(text)
    if got is None:
        return
    assert repr(got) == repr(yaml.load(text, Loader=_loader()))  # noqa: S506 - a SafeLoader


def test_plain_yaml_reads_every_shipped_and_test_file_as_the_loader_does() -> None:
    import yaml

    from speechgen.library.files import _plain_yaml
    from speechgen.userfiles import _loader

    root = Path(__file__).resolve().parents[2]
    files = sorted(root.glob("fragments/*.yaml")) + sorted(root.glob("examples/*.yaml")) + sorted(
        root.glob("templates/*.yaml")) + sorted(root.glob("tests/**/*.yaml"))
    read = 0
    for f in files:
        text = f.read_text(encoding="utf-8-sig", errors="replace")
        got = _plain_yaml(text)
        if got is not None:
            read += 1
            assert repr(got) == repr(yaml.load(text, Loader=_loader())), f  # noqa: S506
    assert read >= len(list(root.glob("fragments/*.yaml")))


def test_list_rows_come_from_the_index_and_equal_the_fragments(monkeypatch: pytest.MonkeyPatch) -> None:
    """`fragments list` rows (id, kind, label, size, review, tags, source) read no library file,
    and are what the fragments themselves say, for filters, limits and offsets."""
    import speechgen.library.sqlite as sq
    from speechgen.library.files import Row
    from speechgen.paths import shipped

    dirs = [shipped("fragments")]
    cases = [(Filters(), None, 0), (Filters(), 5, 3), (Filters(kind="point"), None, 0),
             (Filters(tag="主题教育", kind="closing"), 2, 1), (Filters(needs_review=True), None, 0)]
    idx = Index(dirs)
    expected = [[Row.of(f) for f in idx.page(flt, limit, offset)] for flt, limit, offset in cases]
    assert any(len(e) > 3 for e in expected) and any(r.review for e in expected for r in e)

    def no_reads(*args: object, **kwargs: object) -> None:
        raise AssertionError("a library file was read to list rows")

    monkeypatch.setattr(sq, "fragment_at", no_reads)
    monkeypatch.setattr(sq, "read_library_file", no_reads)
    idx = Index(dirs)
    assert [idx.rows(flt, limit, offset) for flt, limit, offset in cases] == expected
