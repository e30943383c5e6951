"""variants: exact copies linked through one anchor, near-duplicates found without all pairs."""

from __future__ import annotations

import difflib
import random
from difflib import SequenceMatcher  # bound before the counting fixture replaces difflib's
from pathlib import Path

import pytest
from conftest import ROOT

from speechgen.ingest import variants
from speechgen.ingest.build import Built
from speechgen.ingest.variants import SIMILARITY, VARIANT_KINDS, link_variants
from speechgen.library import load_library
from speechgen.model import Fragment, Source, Variant

TEXTS = [
    "坚持以学铸魂，深入学习习近平新时代中国特色社会主义思想，读原著学原文悟原理，切实增强政治自觉。",
    "坚持以学增智，围绕发展难题开展调查研究，摸清实情找准症结，拿出管用的办法，推动工作落实见效。",
    "坚持以学正风，对照党章党规检视剖析，从严从实开展批评和自我批评，以好的作风保障主题教育取得实效。",
]


def speech(prefix: str, file: str, *texts: str, kind: str = "point") -> Built:
    src = Source(file=file)
    frags = tuple(Fragment(id=f"{prefix}.{kind}.{i}", kind=kind, text=t, source=src) for i, t in enumerate(texts, 1))
    return Built(prefix, src, frags)


def by_id(built: list[Built]) -> dict[str, tuple[Variant, ...]]:
    return {f.id: f.variants for b in built for f in b.fragments}


class Counting(difflib.SequenceMatcher):  # type: ignore[type-arg]
    ratios = 0

    def ratio(self) -> float:
        Counting.ratios += 1
        return super().ratio()


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[Counting]:
    Counting.ratios = 0
    monkeypatch.setattr(variants.difflib, "SequenceMatcher", Counting)
    return Counting


def brute_force(built: list[Built], library: tuple[Fragment, ...] = ()) -> dict[str, list[tuple[str, float]]]:
    """The first version: every pair of fragments of one kind in different speeches through difflib."""

    def sim(a: str, b: str) -> float:
        m = SequenceMatcher(None, a, b, autojunk=False)
        if m.real_quick_ratio() < SIMILARITY or m.quick_ratio() < SIMILARITY:
            return 0.0
        return m.ratio()

    flat = [(b.prefix, f) for b in built for f in b.fragments if f.kind in VARIANT_KINDS]
    links: dict[str, list[tuple[str, float]]] = {}
    for _, fa in flat:
        for fb in library:
            if fb.kind == fa.kind and (score := sim(fa.full_text, fb.full_text)) >= SIMILARITY:
                links.setdefault(fa.id, []).append((fb.id, round(score, 2)))
    for i, (pa, fa) in enumerate(flat):
        for pb, fb in flat[i + 1 :]:
            if pa != pb and fa.kind == fb.kind and (score := sim(fa.full_text, fb.full_text)) >= SIMILARITY:
                links.setdefault(fa.id, []).append((fb.id, round(score, 2)))
                links.setdefault(fb.id, []).append((fa.id, round(score, 2)))
    return {k: sorted(v) for k, v in links.items()}


def mutate(text: str, rate: float, rng: random.Random) -> str:
    pool = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经"
    out = []
    for ch in text:
        r = rng.random()
        if r < rate / 3:
            continue  # deleted
        if r < 2 * rate / 3:
            out.append(rng.choice(pool))  # replaced
        elif r < rate:
            out += [ch, rng.choice(pool)]  # inserted after
        else:
            out.append(ch)
    return "".join(out)


# --------------------------------------------------------------------------- exact copies


def test_exact_copies_in_two_files_list_each_other() -> None:
    built = link_variants([speech("s001", "001.txt", TEXTS[0]), speech("s002", "002.txt", "开场白。", TEXTS[0])])
    links = by_id(built)
    assert links["s001.point.1"] == (Variant("002.txt", "s002.point.2", 1.0),)
    assert links["s002.point.2"] == (Variant("001.txt", "s001.point.1", 1.0),)
    assert links["s002.point.1"] == ()


def test_copies_in_one_speech_are_not_variants_of_each_other() -> None:
    built = link_variants([speech("s001", "001.txt", TEXTS[0], TEXTS[0])])
    assert by_id(built) == {"s001.point.1": (), "s001.point.2": ()}


def test_a_batch_of_copies_links_each_copy_to_one_canonical_without_comparing_pairs(counting: type[Counting]) -> None:
    built = [speech(f"s{i:03d}", f"{i:03d}.txt", *TEXTS) for i in range(200)]
    links = by_id(link_variants(built))
    for n in (1, 2, 3):
        canonical = f"s000.point.{n}"
        assert [v.id for v in links[canonical]] == [f"s{i:03d}.point.{n}" for i in range(1, 200)]
        for i in range(1, 200):
            assert links[f"s{i:03d}.point.{n}"] == (Variant("000.txt", canonical, 1.0),)
    # at most one difflib ratio per pair of distinct texts, not one per pair of fragments
    assert counting.ratios <= 3


def test_a_copy_sharing_the_first_speech_links_to_the_first_other_speech() -> None:
    built = [speech("s001", "001.txt", TEXTS[0], TEXTS[0]), speech("s002", "002.txt", TEXTS[0])]
    links = by_id(link_variants(built))
    assert [v.id for v in links["s002.point.1"]] == ["s001.point.1", "s001.point.2"]
    assert links["s001.point.2"] == (Variant("002.txt", "s002.point.1", 1.0),)


# --------------------------------------------------------------------------- near-duplicates


def test_near_duplicates_of_copies_are_compared_once_per_pair_of_texts(counting: type[Counting]) -> None:
    near = TEXTS[0].replace("切实增强政治自觉", "不断增强政治自觉")
    built = [speech(f"a{i:02d}", f"a{i:02d}.txt", TEXTS[0]) for i in range(50)]
    built += [speech(f"b{i:02d}", f"b{i:02d}.txt", near) for i in range(50)]
    links = by_id(link_variants(built))
    score = round(SequenceMatcher(None, TEXTS[0], near, autojunk=False).ratio(), 2)
    assert Variant("b00.txt", "b00.point.1", score) in links["a00.point.1"]
    assert Variant("a00.txt", "a00.point.1", score) in links["b00.point.1"]
    assert links["b01.point.1"] == (Variant("b00.txt", "b00.point.1", 1.0),)
    assert counting.ratios == 1


def test_different_kinds_are_never_variants() -> None:
    built = [speech("s001", "001.txt", TEXTS[0]), speech("s002", "002.txt", TEXTS[0], kind="opening")]
    assert by_id(link_variants(built)) == {"s001.point.1": (), "s002.opening.1": ()}


def test_library_fragments_are_linked_from_the_new_side_only() -> None:
    old = speech("s900", "900.txt", TEXTS[1]).fragments
    built = link_variants([speech("s001", "001.txt", TEXTS[1].replace("管用", "有效"))], old)
    [variant] = by_id(built)["s001.point.1"]
    assert (variant.source, variant.id) == ("900.txt", "s900.point.1") and variant.similarity >= SIMILARITY


@pytest.mark.parametrize("seed", [1, 2])
def test_links_are_all_pairs_links_and_make_the_same_families(seed: int) -> None:
    """Fragments of the shipped library and edited copies of them, some near and some past 0.8.

    Every link is one all-pairs makes, with its score; a family is linked through fewer of
    them, but the families are the same. Files are named in the order given, as a folder is
    read (difflib's ratio depends on it).
    """
    rng = random.Random(seed)
    lib = load_library([ROOT / "fragments"], use_cache=False)
    # one fragment per text: a group of copies links through one member (the all-pairs version: every member)
    base = list({(f.kind, f.full_text): f for f in reversed(lib.fragments) if f.kind in VARIANT_KINDS}.values())
    built = [speech(f"o{i:02d}", f"o{i:02d}.txt", f.full_text, kind=f.kind) for i, f in enumerate(base)]
    seen = {f.full_text for f in base}
    while len(built) < len(base) + 40:
        f = rng.choice(base)
        text = mutate(f.full_text, rng.uniform(0.02, 0.3), rng)
        if text not in seen:  # a short text can come out unchanged: that would be a copy
            seen.add(text)
            built.append(speech(f"x{len(built):02d}", f"x{len(built):02d}.txt", text, kind=f.kind))
    library = tuple(
        replace_source(g, f"zlib{i}.txt") for i, g in enumerate(speech("x", "x.txt", mutate(TEXTS[0], 0.1, rng)).fragments)
    )
    got = {k: sorted((v.id, v.similarity) for v in vs) for k, vs in by_id(link_variants(built, library)).items() if vs}
    expected = brute_force(built, library)
    assert all(set(v) <= set(expected[k]) for k, v in got.items())
    ids = [f.id for b in built for f in b.fragments] + [f.id for f in library]
    as_pairs = lambda links: [(a, b) for a, vs in links.items() for b, _ in vs]  # noqa: E731
    assert components(as_pairs(got), ids) == components(as_pairs(expected), ids)
    assert sum(len(v) for v in expected.values()) > len(base)  # the case is not trivial


def replace_source(f: Fragment, file: str) -> Fragment:
    from dataclasses import replace

    return replace(f, id=f"lib.{f.id}", source=Source(file=file))


def components(pairs: list[tuple[str, str]], ids: list[str]) -> set[frozenset[str]]:
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in pairs:
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for i in ids:
        groups.setdefault(find(i), set()).add(i)
    return {frozenset(g) for g in groups.values()}


def test_copies_and_near_copies_fall_into_the_same_groups_as_with_all_pairs() -> None:
    """Fewer links, the same families: every all-pairs link is kept or joined through an anchor."""
    rng = random.Random(3)
    near = [mutate(t, 0.05, rng) for t in TEXTS]
    built = [speech(f"s{i:02d}", f"{i:02d}.txt", *(near if i % 3 == 0 else TEXTS)) for i in range(30)]
    got = link_variants(built)
    new = [(f.id, v.id) for b in got for f in b.fragments for v in f.variants]
    old = [(a, b) for a, vs in brute_force(built).items() for b, _ in vs]
    ids = [f.id for b in built for f in b.fragments]
    assert set(new) <= set(old) and len(new) < len(old) / 5
    assert components(new, ids) == components(old, ids)


def ingested_families(corpus: list[Path], tmp: Path) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """Families after a real ingest of *corpus*, and the families all pairs through difflib make."""
    from speechgen.ingest.pipeline import ingest

    ingest(corpus, tmp, force=True)
    from speechgen.library import parse_library_file

    # each file as read (a fixture may hold a fragment the library refuses: its problem is not ours)
    frags = [f for path in sorted(tmp.glob("*.yaml")) for f in parse_library_file(path).fragments]
    ids = [f.id for f in frags]
    links = [(f.id, v.id) for f in frags for v in f.variants]
    flat = [f for f in frags if f.kind in VARIANT_KINDS]
    pairs = []
    for i, fa in enumerate(flat):
        for fb in flat[i + 1:]:
            if fa.kind != fb.kind or fa.id.split(".")[0] == fb.id.split(".")[0]:
                continue
            for x, y in ((fa, fb), (fb, fa)):  # either order: difflib's ratio is not symmetric
                m = SequenceMatcher(None, x.full_text, y.full_text, autojunk=False)
                if m.quick_ratio() >= SIMILARITY and m.ratio() >= SIMILARITY:
                    pairs.append((fa.id, fb.id))
                    break
    return components(links, ids), components(pairs, ids)


def test_the_seed_families_are_pinned(tmp_path: Path) -> None:
    got, all_pairs = ingested_families([ROOT / "corpus" / "seeds"], tmp_path)
    families = {f for f in got if len(f) > 1}
    assert families == {
        frozenset({"s000.opening.1", "s001a.opening.1"}),
        frozenset({"s000.point.1", "s001a.point.1"}),
        frozenset({"s000.point.2", "s001a.point.2"}),
        frozenset({"s000.point.3", "s001a.point.3"}),
        frozenset({"s000.point.4", "s001a.point.4"}),
        frozenset({"s000.closing.1", "s001b.closing.1"}),
    }
    assert got == all_pairs


def test_the_fixture_corpus_families_are_those_of_all_pairs(tmp_path: Path) -> None:
    speeches = sorted((ROOT / "tests" / "fixtures" / "speeches").glob("*.txt"))
    got, all_pairs = ingested_families(speeches, tmp_path)
    assert got == all_pairs


def test_a_family_of_many_near_copies_costs_comparisons_in_proportion(counting: type[Counting]) -> None:
    """200 edited versions of one paragraph: one family, about one comparison per version."""
    rng = random.Random(7)
    texts = list(dict.fromkeys(mutate("".join(TEXTS), 0.02, rng) for _ in range(200)))
    built = [speech(f"s{i:03d}", f"{i:03d}.txt", t) for i, t in enumerate(texts)]
    got = link_variants(built)
    ids = [f.id for b in got for f in b.fragments]
    assert len(components([(f.id, v.id) for b in got for f in b.fragments for v in f.variants], ids)) == 1
    assert counting.ratios < 2 * len(texts)  # all pairs: len(texts)**2 / 2


def test_linking_one_speech_again_gives_its_links_of_the_whole_run() -> None:
    """A family of six edited versions: each speech linked alone against the others (as the
    library they are after the run over all) gets the links the run over all gave it."""
    rng = random.Random(11)
    base = "".join(TEXTS)
    texts = [mutate(base, 0.04, rng) for _ in range(6)]
    built = [speech(f"s{i:02d}", f"{i:02d}.txt", t) for i, t in enumerate(texts)]
    whole = link_variants(built)
    links = by_id(whole)
    ids = [f.id for b in whole for f in b.fragments]
    assert len(components([(a, v.id) for a, vs in links.items() for v in vs], ids)) == 1
    for k, b in enumerate(built):
        library = tuple(f for other in whole if other.prefix != b.prefix for f in other.fragments)
        again = by_id(link_variants([b], library))
        assert again == {f.id: links[f.id] for f in b.fragments}, k
