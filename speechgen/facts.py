"""Facts that belong only to a fragment's source speech (issue #11 part 2): found at ingest,
marked by compose, reported by lint (one module all three read).

A past speech tells of its own place and time: who chaired what (named people), what was
held or passed on a date (dated events), how many were trained (figures), and another
place's history (…亲自担任X市机关效能建设领导小组组长; 《X市机关效能建设工作条例》，这是国内首部…).
Pasted into a new speech, each is a claim the writer has not checked — and a brief's 市名
filled into another city's history is a false one. Ingest records each such sentence under
``facts:`` (kind and the sentence as it stands in the fragment, slots included); compose
leaves their specifics blank or warns (docs/brief.md, ``facts:``), and lint's
``source-fact`` rule reports one that stands as its source said it.

A sentence is a fact only when it is specific: a generic 全市各级党组织要… is not, nor is a
central event (中央召开…) every speech of the campaign may cite.
"""

from __future__ import annotations

import re

from speechgen.model import Fact, Fragment

_SLOT = r"\{\{\s*(?:市名|本级|上级)\s*\}\}"
_BLANK = r"\{\{\s*blank\(\s*[\"']%s[\"']\s*\)\s*\}\}"
#: the sentence's actor is a place of its own: a slot for it, 我市/全市, a named unit
_LOCAL = re.compile(rf"{_SLOT}|(?:我|全|本)[省市县区]|[省市县区]里|[\u4e00-\u9fff]{{2,4}}(?<![全我本各该])[省市县]委")
_CENTRAL = re.compile(r"中央|党中央|国务院|全国人大|总书记")
_HISTORY = re.compile(
    r"亲自担任|亲自推动|亲自部署|时任|曾任|工作(?:时|期间)|国内首|全国首|首部|首个|首家|第一部|率先在全国|首创|开创了"
    r"|[一二三四五六七八九十]+届[^，。；]{0,10}(?:次会议|常委会)"
)
_DATE = re.compile(rf"(?:19|20)\d\d年\d{{1,2}}月(?:\d{{1,2}}日)?|\d{{1,2}}月\d{{1,2}}日|{_BLANK % '日期'}")
_EVENT = re.compile(r"召开|成立|印发|出台|通过|举办|启动|批示|视察|考察|颁布|召集|任命")
_FIGURE = re.compile(r"(?<![第\d.])\d+(?:\.\d+)?(?:万|亿)?(?:个|名|人|家|项|所|次|件|条|户|%|％|元|场|批)(?!年)")
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
_NAME = re.compile(
    rf"(?:(?<=[，、。；：“\s])|^)([{_SURNAMES}][\u4e00-\u9fff]{{1,2}})(?=同志(?!们)|书记|市长|县长|区长|省长|主任|部长|组长)"
    rf"|{_BLANK % '人名'}(?=同志(?!们)|书记|市长|县长|区长|省长|主任|部长|组长)"
)
#: names every speech may cite: the leaders, and the campaign's people (stale-campaign knows them)
_SHARED_NAMES = ("习近平", "毛泽东", "邓小平", "江泽民", "胡锦涛", "李强", "赵乐际", "王沪宁", "蔡奇", "丁薛祥", "李希",
                 "陈希", "李克强", "栗战书", "汪洋", "韩正", "王岐山")
_SENTENCES = re.compile(r"[^。！？；]+[。！？；]?")


def sentence_facts(sentence: str) -> list[str]:
    """The kinds of source-specific fact *sentence* states (地方, 事件, 人名, 数字), most telling first."""
    kinds = []
    local = bool(_LOCAL.search(sentence))
    if local and _HISTORY.search(sentence):
        kinds.append("地方")
    if local and _DATE.search(sentence) and _EVENT.search(sentence):
        kinds.append("事件")
    names = [m.group(1) for m in _NAME.finditer(sentence)]
    if any(n is None or not any(n.startswith(s) or s.startswith(n) for s in _SHARED_NAMES) for n in names):
        kinds.append("人名")
    if _FIGURE.search(sentence) and (local or not _CENTRAL.search(sentence)):
        kinds.append("数字")
    return kinds


def find_facts(frag: Fragment) -> tuple[Fact, ...]:
    """Every fact sentence of *frag*'s body, sub-points and tail (headings are claims of no one)."""
    out: list[Fact] = []
    for part in (frag.text, *(s.text for s in frag.subpoints), frag.tail):
        for m in _SENTENCES.finditer(part):
            sentence = m.group(0).strip()
            kinds = sentence_facts(sentence)
            if kinds and not any(f.text == sentence for f in out):
                out.append(Fact(kinds[0], sentence))
    return tuple(out)


def mark(fact: Fact) -> str:
    """*fact* with its specifics made blanks compose leaves for the writer (``{{ fact("地名") }}``):
    a place's name (``{{ 市名 }}``) always, every place of another place's history (全{{ 本级 }}
    too); names, dates and figures when the source's copy did not already blank them."""
    text = re.sub(r"\{\{\s*市名\s*\}\}", '{{ fact("地名") }}', fact.text)  # a proper name is that place's
    if fact.kind == "地方":
        text = re.sub(_SLOT, '{{ fact("地名") }}', text)
    if "blank(" in text or "fact(" in text:
        return text
    text = re.sub(_DATE.pattern.rsplit("|", 1)[0], '{{ fact("日期") }}', text)
    text = _FIGURE.sub('{{ fact("数量") }}', text)
    return _NAME.sub(lambda m: m.group(0) if m.group(1) is None else '{{ fact("人名") }}', text)


def pattern(fact: Fact) -> re.Pattern[str]:
    """A pattern finding *fact* as it stands rendered in a draft (a slot or blank: a few
    characters); each place slot (市名, 本级, 上级) is a group, to tell what was filled in."""
    parts = re.split(r"(\{\{.*?\}\})", fact.text)
    rx = "".join(
        re.escape(p) if i % 2 == 0 else r"([^，。；！？]{1,24}?)" if re.fullmatch(_SLOT, p) else r"[^，。；！？]{1,24}?"
        for i, p in enumerate(parts)
    )
    return re.compile(rx)
