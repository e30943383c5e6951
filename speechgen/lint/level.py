"""Rule ``level``: the speaker's own unit named at another level than 本级.

A county speech (本级: 县) may say 全省, 全市, 市委 — the levels above it — but not 我市,
全区 or 区委, which are its own level under another name or a level below: they come
from a source speech of another place. 本级 comes from the brief's ``vars`` (or the
front matter); without it, from the draft's title (在全县…, 县委…); without either the
rule stays silent rather than guess.
"""

from __future__ import annotations

import re

from speechgen.lint import Finding, LintContext
from speechgen.lint.base import Para, hit

#: 1 province, 2 prefecture, 3 county, 4 township.
RANK = {"省": 1, "自治区": 1, "市": 2, "州": 2, "盟": 2, "地区": 2, "县": 3, "区": 3, "旗": 3, "乡": 4, "镇": 4, "街道": 4}
_UNIT = "省|市|州|盟|县|区|旗|乡|镇"
_OWN = re.compile(rf"(?<![自忘])(?:我({_UNIT})|本(省|市|县|区))(?![场长份级民土])")
_WHOLE = re.compile(rf"(?<![安健完齐保周成])全({_UNIT}|系统)(?![场域间份级民长别划内外县市区乡镇])")
_COMMITTEE = re.compile(rf"(?<![社城镇地园景发新开])({_UNIT})(委|政府|人大|政协)(?!员)")
#: Contexts where a body is the speaker's own, whatever its level: 我代表市委…,
#: 经市委常委会研究决定, 对县政协开展…进行动员部署, 全市上下.
_SELF = re.compile(
    rf"代表((?:{_UNIT})(?:委|政府|人大|政协))"
    rf"|经((?:{_UNIT})委)(?:常委会)?(?:会议)?(?:研究)?决定"
    rf"|对((?:{_UNIT})(?:委|政府|人大|政协))[^。；，]{{0,20}}进行(?:动员|安排)?部署"
    rf"|全({_UNIT})(?=上下)"
)


def own_level(context: LintContext, paras: list[Para]) -> str:
    """本级 from the brief or front matter, else from the title; "" when unknown."""
    value = context.vars.get("本级", "").strip()
    if value:
        return value[-1] if value[-1] in RANK else value
    for p in paras:
        if p.kind == "title":
            m = re.search(rf"(?:全|我)({_UNIT})|({_UNIT})委", p.text)
            return (m.group(1) or m.group(2)) if m else ""
    return ""


def level(paras: list[Para], context: LintContext) -> list[Finding]:
    """Every self-reference (我X, 全X, X委) at another level than 本级."""
    own = own_level(context, paras)
    if own not in RANK:
        return []
    rank = RANK[own]
    regional = any("自治区" in p.text for p in paras)  # 全区 is then the region above
    out = []
    for p in paras:
        if p.kind == "title":
            continue
        for m in _OWN.finditer(p.text):
            unit = m.group(1) or m.group(2)
            if unit == own or (unit == "省" and rank > 1):  # 我省: the province the city or county is in
                continue
            out.append(_found(p, m.group(0), own, f"{m.group(0)[0]}{own}"))
        for m in _WHOLE.finditer(p.text):
            unit = m.group(1)
            if unit == own or (unit != "系统" and RANK[unit] < rank) or (unit == "区" and regional):
                continue  # 全省 in a city speech: the level above
            out.append(_found(p, m.group(0), own, f"全{own}"))
        for m in _COMMITTEE.finditer(p.text):
            unit = m.group(1)
            if unit == own or RANK[unit] != rank:
                continue  # 市委 in a county speech: the level above; 县政府 in a city's: a unit below
            out.append(_found(p, m.group(0), own, f"{own}{m.group(2)}"))
        for m in _SELF.finditer(p.text):
            body = next(g for g in m.groups() if g)
            if body[0] != own and not (body == "区" and regional):
                out.append(_found(p, m.group(0), own, own + body[1:]))
    return out


def _found(p: Para, words: str, own: str, fix: str) -> Finding:
    return hit(p, "level", words, f"'{words}' names another level than this {own}-level speech (本级: {own})",
               f"{fix} — or the unit it really means")
