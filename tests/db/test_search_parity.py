"""PostgreSQL and SQLite rank alike: the same tokens, so the same top results.

30 queries of the kind writers type, over the shipped library imported into PostgreSQL
and read from the folder through SQLite: the top-5 ids overlap by at least 80 % on
average, and every query finds the same set of fragments (both match on the same words).
"""

from __future__ import annotations

from pathlib import Path

from conftest import ROOT
from pgfixtures import db, empty_db, pg_cluster  # noqa: F401

from speechgen.library import open_store

QUERIES = [
    "调查研究", "形式主义", "政治自觉", "理论学习", "检视整改", "领导小组", "为民办实事",
    "理想信念", "指导组", "专项整治", "主题教育", "民主生活会", "凝心铸魂", "学思想强党性",
    "以学促干", "问题整改", "第二批主题教育", "党性修养", "基层减负", "工作作风", "组织领导",
    "督促指导", "宣传引导", "高质量发展", "推进会", "官僚主义", "抓落实", "学习贯彻",
    "政治责任", "群众反映强烈的问题",
]


def test_thirty_queries_overlap_in_the_top_five(db: str, tmp_path: Path) -> None:  # noqa: F811
    from speechgen.db import import_dir

    import_dir(db, ROOT / "fragments")
    pg = open_store([], database=db)
    lite = open_store([ROOT / "fragments"], database="")
    assert len(QUERIES) == 30
    overlaps = []
    for q in QUERIES:
        a = [h.fragment.id for h in lite.search(q, limit=5)]
        b = [h.fragment.id for h in pg.search(q, limit=5)]
        assert {h.fragment.id for h in lite.search(q, limit=100)} == {h.fragment.id for h in pg.search(q, limit=100)}, q
        if a or b:
            overlaps.append(len(set(a) & set(b)) / max(len(a), len(b)))
    mean = sum(overlaps) / len(overlaps)
    print(f"mean top-5 overlap {mean:.2%} over {len(overlaps)} queries; lowest {min(overlaps):.0%}")
    assert mean >= 0.8, f"mean top-5 overlap {mean:.0%}"
