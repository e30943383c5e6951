"""The compose page: the brief as a form, points from search, live preview, downloads, loading a brief."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from speechgen.errors import SpeechgenError
from speechgen.library import Filters
from speechgen.web.briefform import SHOWN, TEXT_FIELDS, BriefForm, PointItem
from speechgen.web.config import MAX_BRIEF_BYTES, WebConfig
from speechgen.web.pages import render
from speechgen.web.present import draft_html, snippet
from speechgen.web.security import check_csrf
from speechgen.web.workbench import Outcome, export_bytes, run_compose

DOWNLOADS = {
    "docx": ("讲话稿.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "md": ("讲话稿.md", "text/markdown; charset=utf-8"),
    "txt": ("讲话稿.txt", "text/plain; charset=utf-8"),
    "yaml": (SHOWN, "application/yaml; charset=utf-8"),
}


def dom_id(key: str) -> str:
    """A field key (``var:市名``) as an element id (``var-市名``)."""
    return re.sub(r"[^\w-]", "-", key)


def _cfg(request: Request) -> WebConfig:
    cfg: WebConfig = request.app.state.config
    return cfg


def _points_view(form: BriefForm, store: Any) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(form.points):
        frag = None
        if item.id:
            try:
                frag = store.get(item.id)
            except SpeechgenError:
                frag = None
        subs = [
            {"n": n, "lead": sp.lead, "on": item.subpoints is None or n in item.subpoints}
            for n, sp in enumerate(frag.subpoints if frag else (), 1)
        ]
        if item.id:
            label = frag.label if frag else "（库中没有这个片段）"
            what = item.id
        elif item.query:
            label, what = f"搜索“{item.query}”的最佳结果" + (f"（{item.count} 条）" if item.count > 1 else ""), "query"
        else:
            label, what = f"标签 {'、'.join(item.tags)} 的要点（{item.count} 条）", "tags"
        rows.append({"i": i, "key": item.key(), "what": what, "label": label, "subs": subs,
                     "source": frag.source.file if frag else "", "year": frag.source.year if frag else None})
    return rows


def _choices(store: Any) -> dict[str, Any]:

    return {
        "openings": store.select(Filters(kind="opening")),
        "closings": store.select(Filters(kind="closing")) + store.select(Filters(kind="requirements")),
    }


def _field_keys(form: BriefForm, outcome: Outcome) -> list[str]:
    keys = [*TEXT_FIELDS, "opening", "closing", "points", "blanks", "speaking_rate"]
    keys += [f"var:{s.name}" for s in outcome.slots]
    keys += [f"point:{i}" for i in range(len(form.points))]
    return keys


def _preview_context(form: BriefForm, outcome: Outcome) -> dict[str, Any]:
    """What the preview pane and the fields' messages need (all a refresh sends back)."""
    composed = outcome.composed
    return {
        "form": form,
        "o": outcome,
        "preview": draft_html(composed.draft, outcome.findings) if composed else None,
        "summary": composed.summary if composed else None,
        "errors": outcome.placed.fields,
        "field_keys": _field_keys(form, outcome),
        "dom_id": dom_id,
        "slot_names": "|".join(s.name for s in outcome.slots),
    }


def _context(request: Request, form: BriefForm, store: Any, outcome: Outcome | None = None) -> dict[str, Any]:
    """Everything the whole compose page shows."""
    from speechgen.compose.templates import available

    cfg = _cfg(request)
    outcome = outcome or run_compose(form, cfg, store)
    return {
        **_preview_context(form, outcome),
        "templates": list(available(cfg.tdirs)),
        "points": _points_view(form, store),
        **_choices(store),
    }


async def compose_page(request: Request) -> Response:
    """GET /compose: an empty brief, or ``?start=模板名`` the starter ``brief init`` writes."""
    from speechgen.compose import brief_text

    cfg = _cfg(request)
    store = cfg.store()
    start = request.query_params.get("start", "").strip()
    form = BriefForm()
    load_error = ""
    if start:
        try:
            form, _ = BriefForm.from_brief_text(brief_text(start, cfg.tdirs, cfg.dirs, store=store))
        except SpeechgenError as exc:
            load_error = str(exc)
    return render(request, "compose.html", **_context(request, form, store), load_error=load_error)


async def compose_preview(request: Request) -> Response:
    """POST /compose/preview (htmx): the manuscript, the summary, and each field's message."""
    form_data = await request.form()
    check_csrf(request, form_data)
    form = BriefForm.from_form(form_data)
    store = _cfg(request).store()
    ctx = _preview_context(form, run_compose(form, _cfg(request), store))
    ctx["vars_changed"] = form_data.get("slot_names", "") != ctx["slot_names"]
    return render(request, "_preview.html", **ctx)


async def compose_points(request: Request) -> Response:
    """POST /compose/points (htmx): add, remove or move a point; the preview follows."""
    form_data = await request.form()
    check_csrf(request, form_data)
    form = BriefForm.from_form(form_data)
    op, _, arg = str(form_data.get("op", "")).partition(":")
    i = int(arg) if arg.isdigit() else -1
    pts = form.points
    if op == "add" and form_data.get("fid"):
        fid = str(form_data["fid"])
        if all(p.id != fid for p in pts):
            pts.append(PointItem(id=fid))
    elif op == "remove" and 0 <= i < len(pts):
        del pts[i]
    elif op == "up" and 0 < i < len(pts):
        pts[i - 1], pts[i] = pts[i], pts[i - 1]
    elif op == "down" and 0 <= i < len(pts) - 1:
        pts[i + 1], pts[i] = pts[i], pts[i + 1]
    store = _cfg(request).store()
    return render(request, "_points.html", headers={"HX-Trigger-After-Settle": "points-changed"},
                  points=_points_view(form, store), errors={}, dom_id=dom_id)


async def compose_search(request: Request) -> Response:
    """GET /compose/search (htmx): points for the query, each with an add button."""
    q = request.query_params.get("q", "").strip()
    hits: list[dict[str, Any]] = []
    if q:
        store = _cfg(request).store()
        taken = _taken(store, BriefForm.from_form(request.query_params))
        words = store.query_tokens(q)
        hits = [{"f": h.fragment, "snippet": snippet(h.fragment.full_text, words), "taken": taken.get(h.fragment.id, "")}
                for h in store.search(q, Filters(kind="point"), 12)]
    return render(request, "_search.html", hits=hits, q=q)


def _taken(store: Any, form: BriefForm) -> dict[str, str]:
    """Fragment id → why it cannot be added: chosen already, or a near-duplicate of a chosen one."""
    taken: dict[str, str] = {}
    for item in form.points:  # by id through the store: never the whole library
        if not item.id or not store.has(item.id):
            continue
        taken[item.id] = "已选用"
        for v in store.variants_of(store.get(item.id)):
            taken.setdefault(v.id, f"与 {item.id} 近似")
    return taken


def _attachment(data: bytes, name: str, media: str) -> Response:
    ascii_name = "speechgen" + name[name.rfind("."):]
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(data, media_type=media, headers={"Content-Disposition": disposition})


async def compose_download(request: Request) -> Response:
    """POST /compose/download/{fmt}: the draft as compose writes it, or the brief as YAML."""
    fmt = request.path_params["fmt"]
    form_data = await request.form()
    check_csrf(request, form_data)
    if fmt not in DOWNLOADS:
        return render(request, "error.html", status=404, title="没有这种格式", message=f"unknown format '{fmt}'")
    name, media = DOWNLOADS[fmt]
    form = BriefForm.from_form(form_data)
    if fmt == "yaml":
        return _attachment(form.to_yaml()[0].encode("utf-8"), name, media)
    store = _cfg(request).store()
    outcome = run_compose(form, _cfg(request), store)
    if not outcome.ok or outcome.composed is None:
        ctx = _context(request, form, store, outcome)
        return render(request, "compose.html", status=400, **ctx, download_error=fmt)
    return _attachment(export_bytes(outcome.composed, "." + fmt), name, media)


async def compose_load(request: Request) -> Response:
    """POST /compose/load: continue from a brief YAML file the writer uploads."""
    cfg = _cfg(request)
    length = int(request.headers.get("content-length") or 0)
    store = cfg.store()
    if length > MAX_BRIEF_BYTES + 4096:
        return render(request, "compose.html", status=413, **_context(request, BriefForm(), store),
                      load_error=f"{SHOWN}: the file is larger than {MAX_BRIEF_BYTES // 1024} KB — a brief is a short YAML file")
    form_data = await request.form(max_files=1, max_fields=5)
    check_csrf(request, form_data)
    upload = form_data.get("brief_file")
    data = await upload.read(MAX_BRIEF_BYTES + 1) if upload is not None and not isinstance(upload, str) else b""
    form, load_error = BriefForm(), ""
    if not data:
        load_error = "请选择一个简报文件（.yaml）。"
    else:
        try:
            text = data.decode("utf-8-sig")
            form, _ = BriefForm.from_brief_text(text)
        except UnicodeDecodeError:
            load_error = f"{SHOWN}: not UTF-8 text — save the brief as UTF-8"
        except SpeechgenError as exc:
            load_error = str(exc)
    status = 400 if load_error else 200
    return render(request, "compose.html", status=status, **_context(request, form, store), load_error=load_error)
