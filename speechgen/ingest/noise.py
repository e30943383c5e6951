"""Noise that web pages, newspapers, PDFs and forums leave in a copied speech.

One table, :data:`NOISE`: each rule has a reason (shown in the ingest report under
``removed``), a regular expression and how it applies:

* ``line`` — a whole line that matches is removed;
* ``lead`` — the match at the start of a line is cut off, the rest of the line stays
  (a photo credit glued before ``第三，``, a ``新华社北京…电`` dateline before the title);
* ``inline`` — every match anywhere is removed (note markers ``〔1〕``, forum tags);
* ``rest`` — the line and everything after it go (``注释``, ``往期推荐``), but only
  in the second half of the text, where notes and trailers are.

The user's ``--junk`` patterns are ``inline`` rules with the reason ``--junk``.
Besides the table: garbled anti-copy strings of forum pages (``[; o H! @9 B!``), a
running header repeated on every PDF page, a photo caption just before its credit
line, Markdown ``#``/``**`` and a footnote star after the title.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_NAME = rf"[{_HAN}·×]{{2,4}}"
_SP = r"[ \t\u3000\u00a0]"


@dataclass(frozen=True)
class Rule:
    """One kind of noise: why it goes, what it looks like, how it applies."""

    reason: str
    pattern: re.Pattern[str]
    mode: str  # line | lead | inline | rest
    needs: str = ""  # characters one of which every match holds: a line without any is skipped


def _rule(reason: str, pattern: str, mode: str = "line", needs: str = "") -> Rule:
    return Rule(reason, re.compile(pattern), mode, needs)


#: The noise table; extend a run with ``speechgen ingest --junk FILE`` (inline rules).
NOISE: tuple[Rule, ...] = (
    _rule("photo caption", rf"^{_SP}*[（(]?(图为|图片来源|图片由|摄影|摄[：:]|图[：:])[^\n]{{0,80}}$"),
    _rule("photo credit", rf"^[^。！？\n]{{0,30}}(记者|摄影|通讯员|摄影记者){_SP}*{_NAME}({_SP}*[、{_SP}]{_SP}*{_NAME})*{_SP}*摄(?=$|{_SP}|[第一二三四五六七八九十（(\d])", "lead"),
    _rule("news dateline", rf"^{_SP}*(新华社|中新社|人民网|央视网|本报|新华网)[{_HAN}\d]{{0,14}}[0-9一二三四五六七八九十]+日电{_SP}*(（记者{_SP}*[^）]{{1,30}}）)?", "lead"),
    _rule("byline", rf"^{_SP}*(本报(记者|讯|评论员|通讯员)|记者{_SP})[^。！？\n]{{0,40}}$"),
    _rule("source credit", rf"^{_SP}*[（(]?{_SP}*(来源|稿源|责任编辑|责编|编辑|审核|校对|作者|原标题|原载|转自|摘自|出处)[：:][^\n]{{0,80}}$"),
    _rule("source credit", rf"^{_SP}*[（(]?(原载|载|摘自|转自|选自)?《[^》\n]{{1,30}}(报|刊|志|杂志|文选|选编)》{_SP}*([（(][^）)\n]{{0,30}}[）)])?{_SP}*[，,]?{_SP}*([^。\n]{{0,20}}版)?[）)]?{_SP}*$"),
    _rule("transcription note", rf"^{_SP}*[（(](根据录音整理|本文根据|此件|有删节|略有删节|摘要发表)[^）)\n]{{0,40}}[）)]{_SP}*$"),
    _rule("meeting time or place line", rf"^{_SP}*(会议)?(时间|地点|会址)[：:][^。\n]{{0,40}}$"),
    _rule("footnote", rf"^{_SP}*[*＊]{_SP}*(本文|这是|此文|此篇|作者|本篇)[^\n]*$"),
    _rule("note", rf"^{_SP}*[〔［\[][0-9一二三四五六七八九十]{{1,3}}[〕］\]]{_SP}*[^\n]*$", "rest"),
    _rule("note marker", r"[〔［][0-9]{1,3}[〕］]|\[[0-9]{1,2}\](?=[，。；、）\s]|$)", "inline", "〔［["),
    _rule("notes section", rf"^{_SP}*(注{_SP}*释|注{_SP}*解|参考文献|附注)[：:]?{_SP}*$", "rest"),
    _rule("page number", rf"^{_SP}*[·•]{_SP}*\d{{1,3}}{_SP}*[·•]{_SP}*$"),
    _rule("WeChat header", rf"^{_SP}*原创{_SP}[^。\n]{{0,60}}(发表于|\d{{2}}:\d{{2}})[^。\n]{{0,12}}$"),
    _rule("WeChat header", rf"^{_SP}*(点击|关注)(上方|下方|蓝字)[^。\n]{{0,30}}$"),
    _rule("WeChat header", rf"^{_SP}*收录于(合集|话题)[^\n]{{0,40}}$"),
    _rule("page trailer", rf"^{_SP}*(往期推荐|往期回顾|推荐阅读|相关阅读|延伸阅读|热门推荐|END|—{{0,3}}{_SP}*(完|END){_SP}*—{{0,3}}|[（(]完[）)])[：:]?{_SP}*$", "rest"),
    _rule("page trailer", rf"^{_SP}*(点个|点亮|分享|转发)[^。\n]{{0,6}}(在看|点赞|分享)[^\n]{{0,20}}$"),
    _rule("page trailer", rf"^{_SP}*(阅读原文|长按|扫码|识别二维码|点击(阅读|查看))[^\n]{{0,40}}$"),
    _rule("document site trailer", r"试读结束[^\n]{0,40}|(开通|成为)(会员|VIP)[^\n]{0,20}(下载|阅读)[^\n。]{0,20}", "inline",
          "试开成"),
    _rule("forum page", rf"^{_SP}*(快速回复|上一主题{_SP}*下一主题|上一个{_SP}*下一个|上一篇{_SP}*下一篇|只看楼主[^\n]*|倒序阅读[^\n]*|离线{_SP}*[A-Za-z0-9_]+|在线{_SP}*[A-Za-z0-9_]+|限{_SP}*\d+{_SP}*字节|[•·]{_SP}*\d+{_SP}*(阅读|回复)|发表于[：:][^\n]*|第\d+版[（()）]*|专栏[：:]|返回列表|回复{_SP}*引用|举报|楼主|沙发|板凳)$"),
    _rule("forum page", r"\[复制链接\]|本帖最后由[^\n]{0,40}编辑", "inline", "[本"),
    _rule("style sheet", r"(?:[A-Za-z]{1,8}>\s*)?(?:[@.#]?[A-Za-z][\w.#:-]*\s*)+｛[^｛｝\n]*[:;][^｛｝\n]*｝", "inline", "｛"),
)

_GARBLE = re.compile(r"(?:(?<=\s)|^)(?:[!-~]{1,3}[ ]){3,}[!-~]{1,3}(?=\s|$|[\u4e00-\u9fff])")
_SYMBOL = re.compile(r"[!-/:-@\[-`{-~]")
_MD_HEAD = re.compile(rf"^{_SP}*#{{1,6}}{_SP}+")
_BARE_NUMERAL = re.compile(rf"^({_SP}*)([一二三四五六七八九十]{{1,3}}){_SP}+(?=[{_HAN}])")
_TITLE_STAR = re.compile(rf"(?<=[{_HAN}》”）])[*＊]$")


def _garbled(text: str) -> list[str]:
    """Anti-copy strings of forum pages: runs of short ASCII tokens, half of them symbols."""
    out: list[str] = []
    if text.count(" ") < 3:  # a match holds three spaces at least; most lines have none
        return out
    for m in _GARBLE.finditer(text):
        tokens = m.group(0).split()
        if len(tokens) >= 4 and sum(1 for t in tokens if _SYMBOL.search(t)) * 2 >= len(tokens):
            out.append(m.group(0))
    return out


def strip_noise(lines: list[str], extra: list[re.Pattern[str]], removed: list[tuple[str, str]] | None) -> list[str]:
    """The lines without noise; each removal is appended to *removed* as (text, reason)."""
    log: list[tuple[str, str]] = removed if removed is not None else []
    half = len("".join(lines)) // 2
    out: list[str] = []
    seen = 0
    for line in lines:
        seen += len(line)
        line = _fix_markup(line, log)
        for pat in extra:
            line = _drop(pat, line, "--junk", log)
        kept = _apply(line, seen > half, log, out)
        if kept is None:
            continue
        if kept == "\0rest":
            break
        if kept or not line.strip():
            out.append(kept)
    out = _drop_running_headers(out, log)
    return _drop_footnote_star(out, log)


def _fix_markup(line: str, log: list[tuple[str, str]]) -> str:
    if "#" in line and (m := _MD_HEAD.match(line)):
        log.append((m.group(0).strip(), "Markdown heading mark"))
        line = line[m.end() :]
    if "**" in line:
        log.append(("**", "Markdown bold mark"))
        line = line.replace("**", "")
    # 一 重工业… (a bare numeral and a space, as 文选 and Markdown print headings) reads as 一、
    return _BARE_NUMERAL.sub(r"\1\2、", line)


def _drop(pat: re.Pattern[str], line: str, reason: str, log: list[tuple[str, str]]) -> str:
    found = [m.group(0) for m in pat.finditer(line) if m.group(0)]
    if not found:
        return line
    log.extend((f, reason) for f in found)
    return pat.sub("", line)


def _apply(line: str, late: bool, log: list[tuple[str, str]], out: list[str]) -> str | None:
    """The line after the rules: None to drop it, ``\\0rest`` to drop it and the rest."""
    for g in _garbled(line):
        log.append((g, "garbled anti-copy text"))
        line = line.replace(g, " ")
    if line and line.strip() == "" and _garbled(line) == []:
        return None
    for rule in NOISE:
        if rule.mode == "inline":
            if not rule.needs or any(c in line for c in rule.needs):
                line = _drop(rule.pattern, line, rule.reason, log)
            continue
        m = rule.pattern.search(line)
        if not m:
            continue
        if rule.mode == "lead":
            log.append((m.group(0).strip(), rule.reason))
            if rule.reason == "photo credit":
                _drop_caption_before(out, log)
            line = line[m.end() :]
            if not line.strip():
                return None
        elif rule.mode == "rest":
            if late:
                log.append((line.strip(), rule.reason + " (and all after it)"))
                return "\0rest"
        else:
            log.append((line.strip(), rule.reason))
            return None
    return line


def _drop_caption_before(out: list[str], log: list[tuple[str, str]]) -> None:
    """A photo credit's caption is the short one-sentence line just before it."""
    while out and not out[-1].strip():
        out.pop()
    if not out:
        return
    prev = out[-1].strip()
    if 4 <= len(prev) <= 60 and prev.endswith("。") and prev.count("。") == 1 and "：" not in prev:
        log.append((prev, "photo caption"))
        out.pop()


def _drop_running_headers(lines: list[str], log: list[tuple[str, str]]) -> list[str]:
    """A short line printed on every PDF page (a book or journal name), not the first line."""
    counts = Counter(ln.strip() for ln in lines[1:] if ln.strip())
    heads = {
        ln for ln, n in counts.items()
        if n >= 2 and 4 <= len(ln) <= 30 and not re.search(r"[，。！？；：、“”]", ln) and not re.match(r"^[（(]?[一二三四五六七八九十\d]", ln)
    }
    if not heads:
        return lines
    log.extend((h, "running page header") for h in sorted(heads))
    return [ln for i, ln in enumerate(lines) if i == 0 or ln.strip() not in heads]


def _drop_footnote_star(lines: list[str], log: list[tuple[str, str]]) -> list[str]:
    """A ``*`` after a title line points to a footnote (not a redaction): drop it."""
    for i, ln in enumerate(lines[:3]):
        s = ln.rstrip()
        if 4 <= len(s) <= 60 and "。" not in s and _TITLE_STAR.search(s):
            log.append((s[-1], "footnote mark"))
            lines = [*lines[:i], s[:-1], *lines[i + 1 :]]
    return lines
