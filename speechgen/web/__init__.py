"""The browser workbench: ``speechgen serve`` (issue #14).

The same three jobs as the CLI — find fragments, put a speech together, ingest past
speeches — in a local web app. Every route calls the functions the CLI calls
(``open_store``, ``parse_brief`` + ``compose``, ``export``, ``ingest``, ``lint_draft``);
nothing here composes on its own.

* :mod:`~speechgen.web.app` — the Starlette app, its routes and error pages;
* :mod:`~speechgen.web.security` — loopback/token guard, CSRF, Content-Security-Policy;
* :mod:`~speechgen.web.briefform` — the compose form ↔ brief YAML ↔ the fields of messages;
* :mod:`~speechgen.web.workbench` — compose, lint and export for the compose page;
* :mod:`~speechgen.web.present` — drafts and fragments as escaped HTML;
* ``pages/`` the Jinja page templates, ``static/`` the CSS and htmx (npm ``htmx.org``,
  BSD Zero-Clause licence in ``static/htmx.LICENSE.txt``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from speechgen.web.config import WebConfig, is_loopback

__all__ = ["WebConfig", "create_app", "serve", "web_config"]


def create_app(config: WebConfig) -> Any:
    """The Starlette app for *config* (see :mod:`speechgen.web.app`)."""
    from speechgen.web.app import create_app as _create

    return _create(config)


def web_config(host: str, library: list[Path], templates: list[Path], token: str | None,
               database: str | None = None, collections: list[str] | None = None) -> WebConfig:
    """The configuration ``speechgen serve`` runs with; a token is made for a non-loopback host.

    *database* (None: ``SPEECHGEN_DATABASE``) serves the shared library of a PostgreSQL
    database instead of the folders; it is opened once here, so a wrong URL, a missing
    schema or an unknown collection is one message before the server starts.
    """
    from speechgen.compose import template_dirs
    from speechgen.library import database_url
    from speechgen.paths import ingest_target, library_dirs
    from speechgen.web.security import new_token

    url = database_url(database)
    dirs = library_dirs(list(library))
    upload = None if url else (Path(library[-1]) if library else ingest_target())
    if library and upload is not None:
        upload.mkdir(parents=True, exist_ok=True)  # the writer's own library may start empty
    if token is None and not is_loopback(host):
        token = new_token()
    config = WebConfig(dirs=dirs, tdirs=template_dirs(list(templates) or None), upload_dir=upload,
                       token=token or None, host=host, database=url, collections=list(collections or []))
    if url:
        config.store()
    return config


def address(config: WebConfig, port: int) -> str:
    """The address to open: with ``?token=…`` when the server needs one."""
    host = config.host
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    url = f"http://{shown}:{port}/"
    return url + (f"?token={config.token}" if config.token else "")


def serve(config: WebConfig, port: int, open_browser: bool = False, echo: Callable[[str], Any] = print,
          searches_at_once: int | None = None) -> None:
    """Run the workbench until Ctrl+C; print its address (and open it with *open_browser*).

    With a database, at most *searches_at_once* of its searches run at once (None: twice
    this machine's cores; see :class:`~speechgen.library.postgres.SearchSlots`).
    """
    import logging

    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    url = address(config, port)
    echo(f"speechgen serve: {url}")
    if config.token:
        echo("access token required on this address (it is in the link above); keep it private")
        if config.host in ("0.0.0.0", "::"):
            echo(f"from other computers: the same link with this computer's name or address for {url.split('/')[2].rsplit(':', 1)[0]}")
    if config.database:
        from speechgen.library.postgres import PgStore, SearchSlots, default_search_slots, mask_url

        PgStore.slots = SearchSlots(searches_at_once or default_search_slots())
        shown = ", ".join(config.collections) or "all collections"
        echo(f"library: {mask_url(config.database)} ({shown}); uploads are ingested into "
             f"collection {config.upload_collection}; {PgStore.slots.n} searches at a time")
    elif config.upload_dir is not None:
        echo(f"uploads are ingested into {config.upload_dir}")
    echo("press Ctrl+C to stop")
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    uvicorn.run(create_app(config), host=config.host, port=port, log_level="warning")
