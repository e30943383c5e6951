"""The ingest page: upload past speeches into the writer's own library folder, read the report.

Uploaded files are never stored under the name the browser sends: each is saved as
``web-<digest of its content>.txt|.docx`` in a fresh temporary folder, and ingested from
there with the same :func:`speechgen.ingest.ingest` as ``speechgen ingest``. The original
name is only shown in the report.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from speechgen.errors import SpeechgenError
from speechgen.library import Filters, open_store
from speechgen.web.config import WebConfig
from speechgen.web.pages import render
from speechgen.web.security import check_csrf

SUFFIXES = (".txt", ".docx")
_LOCK = threading.Lock()  # one ingest at a time writes into the library folder


def _cfg(request: Request) -> WebConfig:
    cfg: WebConfig = request.app.state.config
    return cfg


def _page(request: Request, status: int = 200, **ctx: Any) -> Response:
    cfg = _cfg(request)
    target = cfg.upload_collection if cfg.database else cfg.upload_dir
    return render(request, "ingest.html", status=status, target=target, cfg=cfg, **ctx)


async def ingest_page(request: Request) -> Response:
    """GET /ingest: the upload form and where the fragments will go."""
    return _page(request)


def saved_name(original: str, data: bytes) -> tuple[str, str]:
    """The name an upload is stored under, and a message when its kind is refused."""
    suffix = Path(original.replace("\\", "/")).suffix.lower()
    if suffix not in SUFFIXES:
        return "", f"{original}: only .txt and .docx speeches can be ingested"
    return f"web-{hashlib.sha256(data).hexdigest()[:12]}{suffix}", ""


async def ingest_upload(request: Request) -> Response:
    """POST /ingest: save the uploads, ingest them, show the report and the new fragments."""
    cfg = _cfg(request)
    if cfg.upload_dir is None and not cfg.database:
        return _page(request, 400, error="no library folder to write to — start speechgen serve with --library DIR")
    length = int(request.headers.get("content-length") or 0)
    if length > cfg.max_upload_bytes:
        mb = cfg.max_upload_bytes // (1024 * 1024)
        return _page(request, 413, error=f"上传总量超过 {mb} MB：请分批上传。")
    try:
        form = await request.form(max_files=cfg.max_files, max_fields=10)
    except Exception as exc:  # python-multipart's limits raise its own errors
        if "Too many files" in str(exc):
            return _page(request, 413, error=f"一次最多上传 {cfg.max_files} 个文件。")
        raise
    check_csrf(request, form)
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not files:
        return _page(request, 400, error="请选择要上传的讲话稿（.txt 或 .docx）。")
    problems: list[str] = []
    saved: dict[str, tuple[str, bytes]] = {}
    for upload in files:
        data = await upload.read(cfg.max_file_bytes + 1)
        original = upload.filename or "?"
        if len(data) > cfg.max_file_bytes:
            problems.append(f"{original}: larger than {cfg.max_file_bytes // (1024 * 1024)} MB — not a speech")
            continue
        name, problem = saved_name(original, data)
        if problem:
            problems.append(problem)
        else:
            saved[name] = (original, data)
    if problems:
        return _page(request, 400, error="\n".join(problems))
    report = await run_in_threadpool(_ingest, saved, cfg)
    return _page(request, report=report["report"], originals=report["originals"],
                 fragments=report["fragments"], problems=report["problems"])


def _ingest(saved: dict[str, tuple[str, bytes]], cfg: WebConfig) -> dict[str, Any]:
    from speechgen.ingest import ingest

    with _LOCK, tempfile.TemporaryDirectory(prefix="speechgen-upload-") as tmp:
        paths = []
        for name, (_, data) in saved.items():
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(path)
        try:
            if cfg.database:  # the shared library: as ingest --database, into the collection
                from speechgen.db import ingest_to_db

                report = ingest_to_db(cfg.database, paths, cfg.upload_collection, progress=False)
            else:
                assert cfg.upload_dir is not None
                cfg.upload_dir.mkdir(parents=True, exist_ok=True)
                report = ingest(paths, cfg.upload_dir, progress=False)
        except SpeechgenError as exc:
            return {"report": None, "originals": {}, "fragments": [], "problems": [str(exc)]}
        originals = {}
        for fr in report.files:
            base = Path(fr.source).name
            originals[fr.source] = saved.get(base, (base, b""))[0]
    fragments = []
    try:
        store = cfg.store() if cfg.database else open_store_for(cfg.upload_dir)
        for name in saved:
            fragments += store.select(Filters(source=Path(name).stem))
    except SpeechgenError as exc:
        report.problems.append(str(exc))
    return {"report": report, "originals": originals, "fragments": fragments, "problems": report.problems}


def open_store_for(target: Path | None) -> Any:
    """The store of the upload folder alone (its new fragments)."""
    return open_store([target] if target else [], database="")
