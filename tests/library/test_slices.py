"""The cache stores where each fragment stands in its YAML file, not the fragment: a slice of
the file read alone must give the very fragment the whole file gives, a file changed since
the cache was checked must never give a stale or wrong fragment, and files a slice cannot
stand alone for keep their fragments packed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from speechgen.errors import LibraryError, SpeechgenError
from speechgen.library.files import Filters, fragment_at, parse_library_file, read_library_file
from speechgen.library.sqlite import GARBAGE_SHARE, Index

ROOT = Path(__file__).resolve().parents[2]


def read_alone(path: Path) -> tuple[list[object], list[object], int]:
    """Each fragment of *path* read whole, each read from its slice, and how many had a slice."""
    whole = parse_library_file(path)
    lf, slices, seeds = read_library_file(path)
    assert lf == whole
    assert len(slices) == len(lf.fragments)
    data = path.read_bytes()
    anchors = json.loads(seeds) if seeds else None
    alone = [f if s is None else fragment_at(data, s, f.id, lf.source, lf.path, f.line, anchors)
             for f, s in zip(lf.fragments, slices, strict=True)]
    return list(lf.fragments), alone, sum(s is not None for s in slices)


def test_every_shipped_and_test_fragment_file_reads_alike_from_slices() -> None:
    files = sorted(ROOT.glob("fragments/*.yaml")) + sorted(ROOT.glob("tests/**/*.yaml"))
    sliced = 0
    for path in files:
        whole, alone, n = read_alone(path)
        assert alone == whole, path
        sliced += n
    shipped = sum(len(parse_library_file(p).fragments) for p in ROOT.glob("fragments/*.yaml"))
    assert sliced >= shipped > 0


EDGE_FILES = {
    "indented, comments, blank lines": (
        "source: {file: a.txt, year: 2024}\n# a comment\nfragments:\n\n    - id: a.1   # id\n"
        "      kind: point\n      heading: 标题\n\n      text: 正文，第一段。\n    # between\n"
        "    - id: a.2\n      kind: closing\n      text: 谢谢大家。\n"),
    "flow entries after CJK on the same line": (
        "fragments: [{id: b.1, kind: opening, text: 同志们：今天开会。}, {id: b.2, kind: closing,\n"
        "  text: '谢谢，\n\n  大家。'}]\nsource: {title: 标题}\n"),
    "literal and folded blocks, indentation indicators": (
        "fragments:\n- id: c.1\n  kind: point\n  heading: 标题\n  text: |2\n     缩进的第一行\n    第二行\n\n"
        "  tail: >-\n    折叠\n    的尾句\n- id: c.2\n  kind: point\n  heading: 二\n  text: |\n    末行\n"),
    "a byte order mark and CRLF": "\ufeffsource: {year: 2023}\r\nfragments:\r\n- id: d.1\r\n  kind: opening\r\n"
                                  "  text: 开头，\r\n    续行。\r\n- id: d.2\r\n  kind: closing\r\n  text: 结束。\r\n",
    "anchors used from entries before": (
        "fragments:\n- id: e.1\n  kind: point\n  heading: 一\n  text: 一。\n  tags: &t [推进会, 主题教育]\n"
        "  subpoints: &s\n  - {lead: 一是, text: 学。}\n- id: e.2\n  kind: point\n  heading: 二\n  text: 二。\n"
        "  tags: *t\n  subpoints: *s\n- id: e.3\n  kind: point\n  heading: &h 三\n  text: *h\n  tags: *t\n"),
    "a quoted text whose lines are less indented": (
        "fragments:\n  - id: f.1\n    kind: opening\n    text: '第一行\nsecond line\n  第三行'\n"),
}


@pytest.mark.parametrize("text", EDGE_FILES.values(), ids=EDGE_FILES.keys())
def test_edge_case_files_read_alike_from_slices(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(text.encode("utf-8"))
    whole, alone, n = read_alone(path)
    assert whole and n == len(whole)
    assert alone == whole


FALLBACK_FILES = {
    "a tag": "fragments:\n- id: g.1\n  kind: opening\n  text: !!str 同志们\n- id: g.2\n  kind: closing\n  text: 完。\n",
    "a merge key": ("fragments:\n- &base {id: h.1, kind: point, heading: 一, text: 一。}\n"
                    "- <<: *base\n  id: h.2\n  heading: 二\n"),
}


@pytest.mark.parametrize("text", FALLBACK_FILES.values(), ids=FALLBACK_FILES.keys())
def test_files_the_full_loader_reads_keep_packed_fragments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          text: str) -> None:
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "cache"))
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "x.yaml").write_text(text, encoding="utf-8")
    (lib / "y.yaml").write_text(EDGE_FILES["anchors used from entries before"], encoding="utf-8")
    lf, slices, _ = read_library_file(lib / "x.yaml")
    assert lf.fragments and slices == [None] * len(lf.fragments)
    idx = Index([lib])
    packed = idx.conn.execute("SELECT f.path FROM blobs b JOIN frags f ON f.rowid = b.rowid").fetchall()
    assert {Path(p).name for (p,) in packed} == {"x.yaml"}
    assert len(packed) == len(lf.fragments)
    for f in lf.fragments:
        assert Index([lib]).get(f.id) == f
    assert idx.library().fragments == parse_library_file(lib / "x.yaml").fragments + parse_library_file(
        lib / "y.yaml").fragments


def test_an_entry_that_is_an_alias_keeps_its_fragment_packed(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("fragments:\n- &a {id: i.1, kind: opening, text: 开头。}\n- {id: i.2, kind: closing, text: 完。}\n"
                    "extra: *a\n", encoding="utf-8")
    whole, alone, n = read_alone(path)
    assert alone == whole and n == 2
    path.write_text("x: &a {id: j.1, kind: opening, text: 开头。}\nfragments:\n- *a\n- {id: j.2, kind: closing, "
                    "text: 完。}\n", encoding="utf-8")
    lf, slices, _ = read_library_file(path)
    assert [f.id for f in lf.fragments] == ["j.1", "j.2"]
    assert slices[0] is None and slices[1] is not None


@pytest.fixture()
def lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "cache"))
    d = tmp_path / "lib"
    d.mkdir()
    for name in "abcdefghij":
        (d / f"{name}.yaml").write_text(entries(name, "调查研究"), encoding="utf-8")
    return d


def entries(name: str, word: str, n: int = 3) -> str:
    lines = [f"source: {{file: {name}.txt, meeting: 推进会, year: 2024}}", "fragments:"]
    for i in range(1, n + 1):
        lines += [f"- id: {name}.{i}", "  kind: point", f"  heading: 第{i}条", f"  text: 我们要{word}，第{i}次。"]
    return "\n".join(lines) + "\n"


def bump(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_a_file_edited_between_the_check_and_the_read_gives_the_new_fragment(lib: Path) -> None:
    idx = Index([lib])
    assert "调查研究" in idx.get("c.2").text
    path = lib / "c.yaml"
    path.write_text("# 加了一行注释，位置都变了\n" + entries("c", "力戒形式主义"), encoding="utf-8")
    bump(path)
    frag = idx.get("c.2")  # the same Index: the cache was checked before the edit
    assert frag.text == "我们要力戒形式主义，第2次。" and frag.line == 8
    assert [h.fragment.id for h in idx.search("形式主义")] == ["c.1", "c.2", "c.3"]


def test_a_fragment_gone_from_its_edited_file_is_reported_once(lib: Path) -> None:
    idx = Index([lib])
    path = lib / "d.yaml"
    path.write_text(entries("d", "调查研究", 2), encoding="utf-8")  # d.3 is gone
    bump(path)
    with pytest.raises(LibraryError) as err:  # listed from rows read before the edit
        list(idx.page(Filters()))
    assert str(err.value) == (f"fragment library: {path}: changed while it was being read "
                              "(fragment 'd.3' is no longer there) — run the command again")
    assert "d.3" not in [f.id for f in idx.page(Filters())]  # the cache is up to date now
    with pytest.raises(SpeechgenError, match="unknown fragment id 'd.3' — did you mean 'd.1' or 'd.2'"):
        idx.get("d.3")


def test_a_tampered_cache_never_reads_outside_the_library(lib: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text(entries("a", "绝密内容"), encoding="utf-8")
    idx = Index([lib])
    st = secret.stat()
    key = idx.conn.execute("SELECT path FROM frags WHERE id='a.1'").fetchone()[0]
    # the cache now says a.yaml's fragments stand in a file outside the library, unchanged
    idx.conn.execute("UPDATE files SET path=?, mtime_ns=?, ctime_ns=?, size=? WHERE path=?",
                     (str(secret), st.st_mtime_ns, st.st_ctime_ns, st.st_size, key))
    idx.conn.execute("UPDATE frags SET path=? WHERE path=?", (str(secret), key))
    frag = idx.get("a.1")
    assert "绝密" not in frag.text and frag.text == "我们要调查研究，第1次。"
    # offsets that point elsewhere in the right file: found out, indexed again
    idx.conn.execute("UPDATE frags SET at = 0 WHERE id='b.2'")
    assert idx.get("b.2") == parse_library_file(lib / "b.yaml").fragments[1]
    for column, value in (("col", 10**12), ("nbytes", 10**12), ("at", -5), ("nbytes", -1)):  # never a huge read
        idx.conn.execute(f"UPDATE frags SET {column} = ? WHERE id='b.3'", (value,))
        assert idx.get("b.3") == parse_library_file(lib / "b.yaml").fragments[2]
    assert all("绝密" not in h.fragment.text for h in idx.search("绝密内容")) and not idx.search("绝密内容")


def test_dead_index_rows_are_never_found_and_are_dropped_in_time(lib: Path) -> None:
    Index([lib])
    words = ["甲乙丙丁", "戊己庚辛", "壬癸子丑", "寅卯辰巳"]
    for before, word in zip(words, words[1:], strict=False):
        path = lib / "e.yaml"
        path.write_text(entries("e", word), encoding="utf-8")
        bump(path)
        idx = Index([lib])
        garbage = int(idx._meta("garbage") or 0)
        live = idx.conn.execute("SELECT COUNT(*) FROM frags").fetchone()[0]
        assert garbage * GARBAGE_SHARE <= live  # built again when the dead rows grew past their share
        assert [h.fragment.id for h in idx.search(word)] == ["e.1", "e.2", "e.3"]
        assert idx.search(before) == []  # the old e.yaml's rows are dead, never found
        assert [h.fragment.id for h in idx.search("调查研究", limit=30)] == [
            f"{name}.{i}" for name in "abcdfghij" for i in (1, 2, 3)]


def test_search_after_edits_ranks_as_a_fresh_cache(lib: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Index([lib])
    for name in "abc":
        (lib / f"{name}.yaml").write_text(entries(name, "深入调查研究", 2), encoding="utf-8")
        bump(lib / f"{name}.yaml")
    edited = Index([lib])
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "fresh"))
    fresh = Index([lib])
    for query in ("调查研究", "深入", "第2次"):
        assert [(h.fragment.id, round(h.score, 6)) for h in edited.search(query, limit=30)] == [
            (h.fragment.id, round(h.score, 6)) for h in fresh.search(query, limit=30)]


def test_a_first_build_without_a_journal_ends_in_wal_mode_and_matches(lib: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.library.sqlite as store

    journaled = Index([lib])
    monkeypatch.setattr(store, "BULK_FROM", 1)
    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "bulk"))
    bulk = Index([lib])
    assert bulk.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert bulk._meta("building") is None
    assert bulk.library().fragments == journaled.library().fragments
    assert [(h.fragment.id, h.score) for h in bulk.search("调查研究", limit=30)] == [
        (h.fragment.id, h.score) for h in journaled.search("调查研究", limit=30)]


def test_a_first_build_cut_short_is_started_again(lib: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.library.sqlite as store

    monkeypatch.setattr(store, "BULK_FROM", 1)
    real = store._prepare

    def fails_late(path: Path, *args):  # type: ignore[no-untyped-def]
        if path.name == "h.yaml":
            raise KeyboardInterrupt
        return real(path, *args)

    monkeypatch.setattr(store, "_prepare", fails_late)
    with pytest.raises(KeyboardInterrupt):
        Index([lib])
    monkeypatch.setattr(store, "_prepare", real)
    idx = Index([lib])
    assert len(idx.library()) == 30 and idx._meta("building") is None
    # a cache whose unjournaled build was killed keeps its mark: started again
    idx.conn.execute("INSERT INTO meta VALUES('building', '1')")
    idx.conn.execute("DELETE FROM frags")
    assert len(Index([lib]).library()) == 30


def test_a_listing_reads_large_files_whole_and_agrees_with_the_files(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from speechgen.library import load_library
    from speechgen.library.sqlite import WHOLE_FILE_FROM

    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "cache"))
    lib = tmp_path / "lib"
    lib.mkdir()
    n = WHOLE_FILE_FROM + 5
    (lib / "big.yaml").write_text(entries("big", "调查研究", n), encoding="utf-8")
    anchored = EDGE_FILES["anchors used from entries before"] + "".join(
        f"- id: e.{i}\n  kind: point\n  heading: 第{i}\n  text: 文{i}。\n  tags: *t\n" for i in range(4, n))
    (lib / "anchored.yaml").write_text(anchored, encoding="utf-8")
    (lib / "tagged.yaml").write_text(FALLBACK_FILES["a tag"], encoding="utf-8")
    (lib / "small.yaml").write_text(entries("small", "形式主义", 2), encoding="utf-8")
    idx = Index([lib])
    read_whole = []
    real = Index._whole_file

    def counted(self: Index, key: str, data: tuple[object, ...]):  # type: ignore[no-untyped-def]
        read_whole.append(Path(key).name)
        return real(self, key, data)

    monkeypatch.setattr(Index, "_whole_file", counted)
    listed = list(idx.page(Filters()))
    assert listed == list(load_library([lib], use_cache=False).fragments)
    assert sorted(read_whole) == ["anchored.yaml", "big.yaml"]
    assert list(idx.page(Filters(), limit=7, offset=n - 3)) == listed[n - 3 : n + 4]


def test_a_first_build_while_another_connection_has_the_cache_open_is_journaled(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import speechgen.library.sqlite as store

    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(store, "BULK_FROM", 1)
    lib = tmp_path / "lib"
    lib.mkdir()
    early = Index([lib])  # an empty library: its cache stays open here (a server, say)
    assert early.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0
    for name in "abc":
        (lib / f"{name}.yaml").write_text(entries(name, "调查研究"), encoding="utf-8")
    built = Index([lib])  # must not wait for the other connection, nor leave the cache half-built
    assert built.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert built._meta("building") is None
    assert [h.fragment.id for h in built.search("调查研究", limit=9)] == [
        f"{n}.{i}" for n in "abc" for i in (1, 2, 3)]
    early.refresh()
    assert len(early.library()) == 9
