"""Rule ``deleted-name``: a sentence broken where a name or title was silently cut.

Web copies of speeches drop the leader's name and leave the sentence around it:
创立了思想, 坚决维护核心地位, 在考察江苏时强调“…”. Three mechanisms, none a list of
whole sentences:

* **cut fixed phrases** — each full phrase in :data:`PHRASES` with its name removed
  (新时代中国特色社会主义思想 without 习近平, 以同志为核心的党中央), found where the
  name is not right before it;
* **a head noun with its modifier cut** — 思想 right after a verb that takes the full
  name as object (创立了, 学习贯彻, 学深悟透, 用…武装): 思想 alone is a word in its own
  right (解放思想, 思想政治), so only these verbs and only before a boundary count; and
  思想的丰富内涵/核心要义/精神实质… right after a verb of study (理解, 把握, 领悟): those
  parts belong to the full thought, never to 思想 in general;
* **saying with no subject** — 指出/强调/要求 opening a sentence (or after only a time
  or place: 在考察江苏时强调) and followed by a quotation or a colon; 对…作出的重要指示
  and 关于…的重要论述 right after a verb, where the subject (习近平总书记) belongs.
"""

from __future__ import annotations

import re

from speechgen.lint import Finding, LintContext
from speechgen.lint.base import Para, hit

THOUGHT = "习近平新时代中国特色社会主义思想"
LEADER = "习近平总书记"

#: (cut form, what must stand right before it when nothing was cut, the full phrase).
PHRASES = (
    ("新时代中国特色社会主义思想", "习近平", THOUGHT),
    ("同志为核心的党中央", "习近平", "以习近平同志为核心的党中央"),
    ("以为核心的党中央", "", "以习近平同志为核心的党中央"),
    ("党中央的核心、全党的核心", "总书记", "习近平总书记党中央的核心、全党的核心"),
    ("关于“不忘初心、牢记使命”重要论述", "习近平", "习近平关于“不忘初心、牢记使命”重要论述"),
    ("思想、邓小平理论", "毛泽东", "毛泽东思想、邓小平理论"),
    ("强军思想", "习近平", "习近平强军思想"),
    ("生态文明思想", "习近平", "习近平生态文明思想"),
    ("经济思想", "习近平", "习近平经济思想"),
    ("法治思想", "习近平", "习近平法治思想"),
    ("外交思想", "习近平", "习近平外交思想"),
    ("文化思想", "习近平", "习近平文化思想"),
)
_CUT_OK_BEFORE = {
    # 党的思想/党的强军思想: a possessive is a subject of its own
    "强军思想": "的", "经济思想": "的市场", "法治思想": "的", "外交思想": "的", "文化思想": "的传统优秀",
    "生态文明思想": "的",
}

_VERBS = ("创立了", "创立", "形成了", "学习贯彻", "贯彻落实", "学深悟透", "深入学习", "认真学习", "学懂弄通做实",
          "领会", "践行", "运用")
_THOUGHT_CUT = re.compile(
    rf"({'|'.join(_VERBS)})思想(?=[，。、；！？”走为的武主精在和指贯]|$)"
    r"|(?<![所可难加予足得是作利运使应采])(用|以)思想(?=武装|为指导|为统领|铸魂|凝心)"
)
#: What only the full thought has: 深刻理解思想的丰富内涵 is 习近平新时代中国特色社会主义思想 with
#: its name cut; a verb of study right before 思想 and one of these right after 的.
THOUGHT_PARTS = ("丰富内涵", "核心要义", "精神实质", "实践要求", "科学体系", "世界观和方法论", "世界观、方法论",
                  "立场观点方法", "理论品格", "真理力量", "实践伟力", "思想伟力", "科学内涵", "时代价值",
                  "原创性贡献", "道理学理哲理", "精髓要义", "核心内容")
_THOUGHT_OF = re.compile(
    r"(理解|把握|领悟|领会|掌握|认识|体悟|感悟|阐释|阐发|学习|研究|宣讲|讲清|讲透|吃透|悟透|弄懂|弄通)"
    rf"思想的(?:{'|'.join(THOUGHT_PARTS)})"
)
_CORE = re.compile(r"(维护|捍卫|拥护)(核心地位)")

_ADVERBS = "(?:进一步|深刻|明确|反复|多次|特别|鲜明|曾经|亲自|郑重|)"
#: What a leader does in a sentence whose subject (习近平总书记) was cut.
_ACTS = re.compile(
    rf"{_ADVERBS}(?:(?:指出|强调|要求|告诫)(?P<said>[，,：:“‘])?|提出(?=[“‘])"
    r"|发表了?(?:重要|系列重要)讲话|作出了?(?:重要|一系列重要)?(?:指示|批示))"
)
#: Time words that may open such a sentence before the place where the subject stood.
_TIME = re.compile(r"^(?:[^，。；]{0,8}的是，|今年|去年|近日|日前|此前|最近|同一时期|随后|当天|早在|\d{4}\s*年|\d{1,2}\s*月份?|\d{1,2}\s*日|[上下]午|初|底|，|、|和|\s)+")
_ADVERBIAL = re.compile(r"^(?:在[^。；！？]*?(?:时|上|中|期间|之际)|[^。；！？，]*时|对[^。；！？]*)，?$")
_NAMED = re.compile(r"总书记|习近平|主席")
_PERSON = re.compile(r"总书记|主席|同志|书记|总理|委员长|他|她|我|你|大家")
#: 学习贯彻 + 在…上的重要讲话 / 重要指示: the speaker of the speech was cut.
_STUDY = re.compile(
    r"(学习贯彻|贯彻落实|学习领会|深入贯彻|认真贯彻|坚决贯彻|贯彻|领会|落实)"
    r"(在[^，。；“”]{2,30}?上的?(?:重要)?讲话|重要(?:讲话|指示|批示|论述)(?:精神)?"
    r"|对[^，。；“”]{2,24}(?:作出|发表)的重要(?:指示|讲话|批示|论述)|关于[^，。；“”]{2,30}的重要(?:论述|讲话|指示))"
    # 学习 alone takes only the forms that name an act: 学习对…作出的重要指示精神
    r"|(学习)(对[^，。；“”]{2,24}(?:作出|发表)的重要(?:指示|讲话|批示|论述)|在[^，。；“”]{2,30}?上的重要讲话)"
)
#: A name cut out of a list or a title: 吴邦国同志、同志、曾庆红同志; 人大 主任.
_GAP = re.compile(r"(?<=[、，])同志(?=[、，和])|[\u4e00-\u9fff][ \u3000]+(?:副)?(?:主任|主席|书记|常委|市长|县长|区长|省长|部长|局长|秘书长)")


def deleted_name(paras: list[Para], context: LintContext) -> list[Finding]:
    """Every place where a name or title seems cut out of a sentence."""
    out: list[Finding] = []
    for p in paras:
        text = p.text
        for cut, before, full in PHRASES:
            for m in re.finditer(re.escape(cut), text):
                head = text[max(0, m.start() - 8) : m.start()]
                if (before and head.endswith(before)) or _possessed(cut, head) or head[-1:] in _REDACTED:
                    continue
                if full.endswith(cut) and full[: -len(cut)] and head.endswith(full[: -len(cut)]):
                    continue
                out.append(_found(p, cut, full))
        for m in _THOUGHT_CUT.finditer(text):
            out.append(_found(p, m.group(0), (m.group(1) or m.group(2)) + THOUGHT))
        for m in _THOUGHT_OF.finditer(text):
            out.append(_found(p, m.group(0), m.group(1) + THOUGHT + m.group(0)[len(m.group(1)) + 2 :]))
        for m in _CORE.finditer(text):
            out.append(_found(p, m.group(0), m.group(1) + LEADER + "党中央的核心、全党的核心地位"))
        for m in _ACTS.finditer(text):
            start = _sentence_start(text, m.start())
            prefix = text[start : m.start()]
            if prefix.endswith(("的", "和", "与", "项", "些", "点", "种")):
                continue  # 对基层的要求: a noun, not a verb of saying
            bare = m.group(0).endswith(("指出", "强调", "要求", "告诫")) and not m.group("said")
            if _subjectless(prefix) and not (bare and not prefix.strip()):
                words = text[start : m.end()].rstrip("，,：:“‘")[:30]
                out.append(hit(p, "deleted-name", words, f"'{words}' has no subject — a name seems cut",
                               f"{LEADER}{prefix}{m.group(0)}"))
        for m in _STUDY.finditer(text):
            if _NAMED.search(text[_sentence_start(text, m.start()) : m.start()]):
                continue  # 习近平总书记…作出重要指示，我们要认真贯彻重要指示精神: named just before
            verb, obj = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            out.append(_found(p, m.group(0), verb + LEADER + obj))
        for m in _GAP.finditer(text):
            out.append(hit(p, "deleted-name", m.group(0), f"'{m.group(0)}': a name seems cut out of the list",
                           "write the name back"))
    return out


def _sentence_start(text: str, pos: int) -> int:
    cut = max(text.rfind(c, 0, pos) for c in "。！？；")
    return cut + 1


def _subjectless(prefix: str) -> bool:
    """Nothing but time and place before the verb: 5月31日，在…会议上 / …时，进一步."""
    rest = _TIME.sub("", prefix.strip().lstrip("”’"))
    if not rest:
        return True
    return bool(_ADVERBIAL.match(rest)) and not _PERSON.search(rest)


_REDACTED = set("】*＊Xx×A")  # a blank or a redaction token: raw-token's business, not a silent cut


def _possessed(cut: str, head: str) -> bool:
    allowed = _CUT_OK_BEFORE.get(cut, "")
    return bool(head) and bool(allowed) and head[-1] in allowed


def _found(p: Para, words: str, restored: str) -> Finding:
    return hit(p, "deleted-name", words, f"'{words}' reads as if a name or title was cut out",
               f"restore it: {restored}")
