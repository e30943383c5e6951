"""Rules on the text itself: ``truncated``, ``raw-token``, ``repeat``."""

from __future__ import annotations

import re

from speechgen.lint import Finding, LintContext
from speechgen.lint.base import END, Para, hit, is_heading, sentences

_CLAUSE = re.compile(r"[，,；;。！？：:、]")
_PAGE_MARK = re.compile(r"^[-—\s\d]+$")


def truncated(paras: list[Para], context: LintContext) -> list[Finding]:
    """A body paragraph that stops mid-sentence (…第一批单位将开展整改落)."""
    out = []
    for p in paras:
        text = p.text.rstrip()
        if not text or is_heading(p) or _PAGE_MARK.match(text) or text[-1] in END:
            continue
        if not re.search(r"[，。；！？,;]", text) or text.endswith("——"):
            continue  # a title, a name or a date line: no sentence to finish
        tail = _CLAUSE.split(text)[-1] or text[-12:]
        out.append(hit(p, "truncated", tail, "the paragraph stops mid-sentence",
                       "finish the sentence, or cut back to the last 。"))
    return out


_TOKENS = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{\{|\}\}|\{%|%\}"  # template syntax
    r"|##[a-z]+##"  # paid-content markers pasted from the web
    r"|[*＊]+"  # redaction stars
    r"|(?<![A-Za-z0-9])[Xx]{1,4}(?![A-Za-z0-9光射线])"  # X市, XX同志, xx日
    r"|(?<![0-9A-Za-z])×{1,4}(?![0-9])|□+|(?<![一二三四五六七八九十〇○零])○{2,}(?![一二三四五六七八九十〇○零])"
    r"|(?<![Ａ-Ｚａ-ｚ])(?:Ｘ{1,4}|ｘ{1,3})(?![Ａ-Ｚａ-ｚ])"  # full-width ＸＸ
    r"|(?<=[\u4e00-\u9fff])[☆★]+|[☆★]+(?=[\u4e00-\u9fff])"  # ☆县 (not a row of decoration)
    r"|(?<![A-Za-z])(?:A|[A-Z]{2,4})(?=新时代|总书记|同志|书记|主席)"  # A新时代, XJP总书记: a cut name
    r"|(?<=[\u4e00-\u9fff])-\d{1,3}-(?=[\u4e00-\u9fff])"  # a PDF page mark inside a word
)
_CJK = re.compile(r"[\u4e00-\u9fff【】“”，。]")


def raw_token(paras: list[Para], context: LintContext) -> list[Finding]:
    """Redaction tokens (*, XX, ×××) and template syntax ({{ 市名 }}) left in the text."""
    out = []
    for p in paras:
        for m in _TOKENS.finditer(p.text):
            tok = m.group(0)
            if tok[0] in "Xx×" and not _beside_cjk(p.text, m.start(), m.end()):
                continue  # an X in Latin text or a formula is not a redaction
            what = "template syntax" if tok[0] in "{}%" else "a redaction token"
            out.append(hit(p, "raw-token", tok, f"{what} '{tok}' is left in the text",
                           "write the name, number or date it stands for (or 【＿＿】 to mark a blank)"))
    return out


def _beside_cjk(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    return bool(_CJK.match(before) or _CJK.match(after))


_NORM = re.compile(r"[\s“”‘’「」『』《》（）()]+")
MIN_REPEAT = 15


def repeat(paras: list[Para], context: LintContext) -> list[Finding]:
    """The same sentence of 15 or more characters twice."""
    seen: dict[str, Para] = {}
    out = []
    for p in paras:
        if p.kind == "title":
            continue
        for _, s in sentences(p.text):
            key = _NORM.sub("", s).rstrip("。！？!?；;")
            if len(key) < MIN_REPEAT:
                continue
            first = seen.get(key)
            if first is None:
                seen[key] = p
                continue
            where = "earlier in this paragraph" if first.index == p.index else f"at line {first.line}"
            out.append(hit(p, "repeat", s.strip(), f"this sentence was said already ({where})",
                           "keep one of the two, or reword one"))
    return out
