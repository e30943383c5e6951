"""speechgen serve, server-side: first page of a fresh process, and preview refresh p50/p95.

Run by ``benchmarks/run.py --only web`` (prints one JSON line); alone:

    python benchmarks/web_preview.py --repeat 60

Preview times are the app's own (its Server-Timing header: the guard, routing, form parsing,
compose, lint and the HTML); the round trip through Starlette's in-process test client is
printed beside them. First pages are round trips.
Each preview changes 市名, so nothing is served from a cache of the previous answer.
The baseline is ``compose()`` alone on the same brief text (what the CLI does in-process).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=60)
    args = ap.parse_args()
    t0 = time.perf_counter()
    from starlette.testclient import TestClient

    from speechgen.web import create_app, web_config

    app = create_app(web_config("127.0.0.1", [], [], None))
    t_import = time.perf_counter() - t0
    client = TestClient(app, base_url="http://127.0.0.1:8765")
    client.__enter__()  # one event loop for the whole run, as a server has
    t = time.perf_counter()
    assert client.get("/library").status_code == 200
    first_library = time.perf_counter() - t
    t = time.perf_counter()
    assert client.get("/compose").status_code == 200
    first_compose = time.perf_counter() - t
    csrf = client.cookies.get("speechgen_csrf")
    form = {
        "csrf": csrf, "template": "推进会", "meeting": "第二批主题教育推进会", "speaker": "张明",
        "date": "2023-08-28", "campaign": "主题教育", "opening": "auto", "closing": "auto",
        "var_name": ["市名", "本级", "上级"], "var_value": ["临江市", "市", "省委"],
        "pt": ['{"id":"s000.point.1"}', '{"id":"s001b.point.1"}', '{"query":"调查研究","count":1}',
               '{"id":"s003.point.3"}'],
        "subn-1": "3", "sub-1": ["1", "3"],
    }
    from speechgen.web.briefform import BriefForm
    from speechgen.web.workbench import compose_text

    cfg = app.state.config
    times, base, trips = [], [], []
    # Previews and compose() alone alternate, so both see the same load on the machine.
    for i in range(args.repeat + 1):
        form["var_value"] = [f"临江{i}市", "市", "省委"]
        t = time.perf_counter()
        r = client.post("/compose/preview", data=form, headers={"X-CSRF-Token": csrf})
        elapsed = time.perf_counter() - t
        server = float(r.headers["server-timing"].split("dur=")[1]) / 1000
        assert r.status_code == 200 and f"临江{i}市" in r.text and "cli-error" not in r.text, r.text[:500]
        text = BriefForm.from_form(_Multi(form)).to_yaml()[0]
        t = time.perf_counter()
        compose_text(text, cfg, allow_blanks=False)
        if i:  # the first round warms the compose path
            base.append(time.perf_counter() - t)
            times.append(server)
            trips.append(elapsed)
    q = statistics.quantiles(times, n=20)
    print(json.dumps({
        "import": t_import, "first_library": first_library, "first_compose": first_compose,
        "p50": statistics.median(times), "p95": q[18], "compose_p50": statistics.median(base),
        "n": len(times), "trip_p50": statistics.median(trips),
    }))


class _Multi(dict):  # type: ignore[type-arg]
    """A dict answering getlist like a form."""

    def getlist(self, key: str) -> list[str]:
        value = self.get(key, [])
        return value if isinstance(value, list) else [value]


if __name__ == "__main__":
    main()
