"""Ingest into a large library through its cache: the same output as reading every file."""

from __future__ import annotations

import difflib
import json
import random
import re
from pathlib import Path

import pytest
from conftest import ROOT, SEEDS
from test_variants import TEXTS, by_id, mutate

from speechgen.ingest import pipeline
from speechgen.ingest.build import Built
from speechgen.ingest.clean import clean_text, read_source
from speechgen.ingest.nearby import IndexedLibrary
from speechgen.ingest.pipeline import ingest, render
from speechgen.ingest.slots import Restorer
from speechgen.ingest.variants import VARIANT_KINDS, link_texts, link_variants
from speechgen.library import parse_library_file
from speechgen.library.evidence import anchor_evidence, char_profile, profile_overlap
from speechgen.model import Fragment, Source

SPEECHES = ROOT / "tests" / "fixtures" / "speeches"
RATE = 0.1


def one_at_a_time(files: list[Path], out: Path, indexed: bool, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Ingest each file alone into *out* (each sees the ones before as its library), then each
    again; the reports, with *out* taken out of them."""
    monkeypatch.setattr(pipeline, "INDEXED_FROM", 0 if indexed else 10**15)
    reports = [ingest([f], out).to_dict() for f in files + files]
    return json.loads(json.dumps(reports, ensure_ascii=False).replace(str(out), "OUT"))


@pytest.mark.parametrize("corpus", [SEEDS, SPEECHES], ids=["seeds", "fixture speeches"])
def test_the_indexed_path_writes_what_reading_every_file_writes(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = sorted(corpus.glob("*.txt"))
    exact = one_at_a_time(files, tmp_path / "exact", False, monkeypatch)
    indexed = one_at_a_time(files, tmp_path / "indexed", True, monkeypatch)
    assert json.dumps(indexed).replace("indexed", "X") == json.dumps(exact).replace("exact", "X")
    written = sorted(p.name for p in (tmp_path / "exact").glob("*.yaml"))
    assert written == sorted(p.name for p in (tmp_path / "indexed").glob("*.yaml")) and len(written) >= len(files)
    for name in written:
        assert (tmp_path / "indexed" / name).read_bytes() == (tmp_path / "exact" / name).read_bytes(), name
    if corpus == SEEDS:  # not a trivial case: later files are linked to earlier ones, names restored from them
        text = "".join((tmp_path / "exact" / name).read_text(encoding="utf-8") for name in written)
        assert "similarity:" in text and "restored:" in text


def speech(prefix: str, file: str, *texts: str, kind: str = "point") -> Built:
    """A speech of fragments of one kind; a point's text up to its first comma is its heading."""
    src = Source(file=file)
    frags = []
    for i, t in enumerate(texts, 1):
        head, _, body = t.partition("，") if kind == "point" else ("", "", t)
        frags.append(Fragment(id=f"{prefix}.{kind}.{i}", kind=kind, heading=head, text=body or "。", source=src))
    return Built(prefix, src, tuple(frags))


def write_library(folder: Path, built: list[Built]) -> list[Fragment]:
    """*built* linked among themselves and written as library files; their fragments as read back."""
    folder.mkdir()
    for b in link_variants(built):
        (folder / f"{b.prefix}.yaml").write_text(render(b, b.source.file, 1), encoding="utf-8")
    files = [parse_library_file(p) for p in sorted(folder.glob("*.yaml"))]
    assert not [p for lf in files for p in lf.problems]
    return [f for lf in files for f in lf.fragments]


@pytest.mark.parametrize("seed", range(1, 9))
def test_generated_families_are_linked_as_against_the_whole_library(seed: int, tmp_path: Path) -> None:
    """Edited versions (2-10 % of the characters) of the shipped fragments and of a few texts,
    as a library with its own links; new speeches of more of them are linked the same either way."""
    rng = random.Random(seed)
    shipped = [f for p in sorted((ROOT / "fragments").glob("*.yaml")) for f in parse_library_file(p).fragments
               if f.kind in VARIANT_KINDS]
    # without their slots (an edit inside {{ }} would make a fragment the library refuses)
    base = [(f.kind, re.sub(r"\{\{.*?\}\}", "某", f.full_text)) for f in shipped] + [("point", t) for t in TEXTS]

    def speeches(prefix: str, count: int) -> list[Built]:
        out = []
        for i in range(count):
            picked = [rng.choice(base) for _ in range(3)]
            kind = picked[0][0]
            texts = [t if rng.random() < 0.2 else mutate(t, rng.uniform(0.02, RATE), rng) for _, t in picked]
            out.append(speech(f"{prefix}{i:02d}", f"{prefix}{i:02d}.txt", *texts, kind=kind))
        return out

    library = write_library(tmp_path / "lib", speeches("l", 60))
    new = speeches("n", 15)
    whole = by_id(link_variants(new, tuple(library)))
    near = IndexedLibrary(tmp_path / "lib", {b.source.file for b in new})
    texts, known = near.near((f.kind, f.full_text) for b in new for f in b.fragments)
    assert by_id(link_texts(new, texts, known)) == whole
    assert sum(len(v) for v in whole.values()) > 5  # not a trivial case
    assert len(texts) < len(library)  # and only a part of the library was read


@pytest.mark.parametrize("seed", [1, 2])
def test_with_heavier_edits_every_link_is_an_all_pairs_link(seed: int, tmp_path: Path) -> None:
    """Edits of up to 30 %: families are no longer all mutual near-copies, and which texts are
    compared depends on the other texts of the corpus (variants.py, step 3), so the two paths can
    differ (docs/ingest.md); each still writes only links all pairs through difflib make."""
    rng = random.Random(seed)
    shipped = [f for p in sorted((ROOT / "fragments").glob("*.yaml")) for f in parse_library_file(p).fragments
               if f.kind in VARIANT_KINDS]
    base = [re.sub(r"\{\{.*?\}\}", "某", f.full_text) for f in shipped if f.kind == "point"] + TEXTS
    built = [speech(f"{p}{i:02d}", f"{p}{i:02d}.txt", *(mutate(rng.choice(base), rng.uniform(0.02, 0.3), rng)
                                                          for _ in range(3)))
             for p, count in (("l", 60), ("n", 15)) for i in range(count)]
    library = tuple(write_library(tmp_path / "lib", built[:60]))
    new = built[60:]
    near = IndexedLibrary(tmp_path / "lib", set())
    got = by_id(link_texts(new, *near.near((f.kind, f.full_text) for b in new for f in b.fragments)))
    text = {f.id: f.full_text for f in library} | {f.id: f.full_text for b in new for f in b.fragments}

    def ratio(x: str, y: str) -> float:  # either order: difflib's ratio is not symmetric
        return max(difflib.SequenceMatcher(None, text[x], text[y], autojunk=False).ratio(),
                   difflib.SequenceMatcher(None, text[y], text[x], autojunk=False).ratio())

    links = [(k, v.id) for k, vs in got.items() for v in vs]
    assert len(links) > 5 and all(ratio(x, y) >= 0.8 for x, y in links)


def corpus_of(fragments: list[Fragment]) -> dict[str, str]:
    """The restorer's corpus as ingest builds it from every library file."""
    corpus: dict[str, str] = {}
    for f in fragments:
        if not f.restored:
            corpus[f.source.file] = corpus.get(f.source.file, "") + "\n" + f.full_text
    return corpus


def test_the_restorer_from_the_cache_is_the_restorer_from_every_text(tmp_path: Path) -> None:
    lib = [f for p in sorted((ROOT / "fragments").glob("*.yaml")) for f in parse_library_file(p).fragments]
    new = clean_text(read_source(SEEDS / "003_8c4e1ce7e0dd5b49.txt", "003"), [])
    skip = {"004_e1ab214ab082fba0.txt"}  # as if 004 were ingested again
    corpus = corpus_of([f for f in lib if f.source.file not in skip])
    corpus["004_e1ab214ab082fba0.txt"] = clean_text(read_source(SEEDS / "004_e1ab214ab082fba0.txt", "004"), [])
    corpus["new.txt"] = new
    evidence = IndexedLibrary(ROOT / "fragments", skip).evidence()
    evidence.update({name: anchor_evidence(corpus[name]) for name in ("004_e1ab214ab082fba0.txt", "new.txt")})
    whole = Restorer(corpus)
    assert Restorer.from_evidence(evidence).fillers == whole.fillers
    assert set(whole.fillers) == {"新时代中国特色社会主义思想", "总书记", "同志为核心"}


def test_the_restorer_breaks_ties_as_before() -> None:
    """Two names as often before an anchor: the one met first wins, from evidence as from texts."""
    corpus = {"b.txt": "张三总书记说。李四总书记说。", "a.txt": "李四总书记说。张三总书记说。王五总书记"}
    assert Restorer(corpus).fillers == Restorer.from_evidence(
        {name: anchor_evidence(text) for name, text in corpus.items()}).fillers == {"总书记": ("张三", "a.txt")}


def test_a_library_file_edited_after_the_cache_was_built_is_seen(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    write_library(lib, [speech("l01", "l01.txt", TEXTS[0], TEXTS[1])])
    new = [speech("n01", "n01.txt", TEXTS[2])]
    assert not IndexedLibrary(lib, set()).near([("point", new[0].fragments[0].full_text)])[0]  # cache built: none
    path = lib / "l01.yaml"
    old, edited = TEXTS[1].partition("，")[2], TEXTS[2].partition("，")[2].replace("保障", "保证")
    path.write_text(path.read_text(encoding="utf-8").replace(old, edited), encoding="utf-8")
    texts, known = IndexedLibrary(lib, set()).near([("point", new[0].fragments[0].full_text)])
    assert [t.id for t in texts] == ["l01.point.2"]
    [variant] = by_id(link_texts(new, texts, known))["n01.point.1"]
    assert variant.id == "l01.point.2" and variant.similarity >= 0.8


def test_a_broken_library_file_is_passed_over_as_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ingest never failed on a broken file in its output folder (it is not what it writes): it
    reads the valid fragments of the others, with or without the cache."""
    outs = {}
    for mode, limit in (("exact", 10**15), ("indexed", 0)):
        out = tmp_path / mode
        monkeypatch.setattr(pipeline, "INDEXED_FROM", limit)
        assert not ingest([SEEDS / "000_6e77d68632e4004c.txt"], out).problems
        (out / "broken.yaml").write_text("source: {file: x.txt}\nfragments: [oops\n", encoding="utf-8")
        report = ingest([SEEDS / "001_ea232bbc68f5e29d.txt"], out)
        assert not report.problems
        outs[mode] = {p.name: p.read_bytes() for p in out.glob("*.yaml")}
    assert outs["indexed"] == outs["exact"] and len(outs["exact"]) == 4
    assert b"similarity" in outs["exact"]["001_ea232bbc68f5e29d.1.yaml"]


def test_the_character_profile_bounds_difflibs_ratio() -> None:
    rng = random.Random(4)
    texts = TEXTS + [mutate(t, rng.uniform(0, 0.5), rng) for t in TEXTS * 20] + ["{{ 上级 }}", "", "a" * 70_000]
    for _ in range(500):
        a, b = rng.choice(texts), rng.choice(texts)
        pa, pb = char_profile(a), char_profile(b)
        if pa is None or pb is None or not a + b:
            assert len(a) >= 65_536 or len(b) >= 65_536 or not a + b
            continue
        m = difflib.SequenceMatcher(None, a, b, autojunk=False)
        assert 2.0 * profile_overlap(pa, pb) / (len(a) + len(b)) >= m.quick_ratio() >= m.ratio()


def test_a_character_profile_counts_every_character_in_its_bucket() -> None:
    """char_profile counts by the low byte of each code point's UTF-32 form: the same as
    counting ``ord(ch) % PROFILE_BUCKETS`` character by character, for any text."""
    import random
    from array import array

    from speechgen.library.evidence import PROFILE_BUCKETS

    def by_hand(text: str) -> bytes | None:
        counts = [0] * PROFILE_BUCKETS
        for ch in text:
            counts[ord(ch) % PROFILE_BUCKETS] += 1
        return None if max(counts) > 0xFFFF else array("H", counts).tobytes()

    rnd = random.Random(7)
    texts = ["", "a", "调查研究" * 300, "x" * 70_000, "😀\ud800\udfff" * 5]
    texts += ["".join(chr(rnd.randint(0x20, 0x9FFF)) for _ in range(rnd.randint(0, 2000))) for _ in range(500)]
    texts += ["".join(chr(rnd.randint(0x10000, 0x10FFFF)) for _ in range(50)) for _ in range(50)]
    assert [char_profile(t) for t in texts] == [by_hand(t) for t in texts]
    assert char_profile("x" * 70_000) is None


def test_a_cache_a_search_built_is_completed_for_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A search's cache of the folder holds nothing of what ingest reads (its first build does
    not spend on it); ingest through that cache indexes the files again with it, and writes
    what reading every file writes."""
    from speechgen.library.sqlite import Index

    monkeypatch.setenv("SPEECHGEN_CACHE", str(tmp_path / "cache"))
    files = sorted(SEEDS.glob("*.txt"))
    exact = one_at_a_time(files[:3], tmp_path / "exact", False, monkeypatch)
    monkeypatch.setattr(pipeline, "INDEXED_FROM", 10**15)
    for f in files[:3]:  # the same library files, ingested the usual way
        ingest([f], tmp_path / "indexed")
    searched = Index([tmp_path / "indexed"], check=False)
    assert searched.search("主题教育")
    assert not searched.conn.execute("SELECT COUNT(*) FROM evidence").fetchone()[0]
    assert not searched.conn.execute("SELECT COUNT(*) FROM frags WHERE profile IS NOT NULL").fetchone()[0]
    searched.conn.close()
    monkeypatch.setattr(pipeline, "INDEXED_FROM", 0)
    again = [ingest([f], tmp_path / "indexed").to_dict() for f in files[:3]]
    again = json.loads(json.dumps(again, ensure_ascii=False).replace(str(tmp_path / "indexed"), "OUT"))
    assert again == exact[3:]  # the second round of one_at_a_time: each file again into the whole library
    for p in (tmp_path / "exact").glob("*.yaml"):
        assert (tmp_path / "indexed" / p.name).read_bytes() == p.read_bytes(), p.name
    idx = Index([tmp_path / "indexed"], check=False, for_ingest=True)
    files_n = idx.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    assert idx.conn.execute("SELECT COUNT(*) FROM evidence").fetchone()[0] == files_n
    assert not idx.conn.execute("SELECT COUNT(*) FROM frags WHERE digest IS NULL").fetchone()[0]
