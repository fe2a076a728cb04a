"""The dashboard's web application (Starlette): one page, its JSON, and the plotly.js it draws with.

Routes:
    `GET /`: the page (`lab.dashboard.page`), refreshing itself every `refresh_s` seconds.
    `GET /api/state[?campaign=NAME]`: `lab.dashboard.snapshot.read_snapshot` of the store (default: newest campaign).
    `GET /api/campaigns`: the store's campaigns (id, name, scenario, status).
    `GET /static/plotly.min.js`: plotly.js as bundled in the `plotly` Python package (no CDN).

Every request opens the store read-only and closes it again; a store that cannot be read answers 503 with
`{"error": "..."}` (the page shows it and keeps polling), an unknown campaign 404.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from lab.dashboard.page import render_page
from lab.dashboard.snapshot import UNKNOWN_CAMPAIGN, read_campaigns, read_snapshot
from lab.errors import StoreError

_NO_CACHE = {"Cache-Control": "no-store"}


def plotly_js_path() -> Path | None:
    """The `plotly.min.js` the `plotly` package ships (found without importing plotly), or None."""
    spec = importlib.util.find_spec("plotly")
    for base in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(base) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    return None


def create_app(url: str, refresh_s: float = 3.0) -> Starlette:
    """The dashboard of the store at SQLAlchemy `url`, its page polling every `refresh_s` seconds."""
    page = render_page(refresh_s)
    plotly_js = plotly_js_path()

    def index(request: Request) -> Response:
        return HTMLResponse(page, headers=_NO_CACHE)

    def state(request: Request) -> Response:
        try:
            body = read_snapshot(url, request.query_params.get("campaign") or None)
        except StoreError as exc:
            status = 404 if str(exc).startswith(UNKNOWN_CAMPAIGN) else 503
            return JSONResponse({"error": str(exc)}, status_code=status, headers=_NO_CACHE)
        return JSONResponse({**body, "refresh_s": refresh_s}, headers=_NO_CACHE)

    def campaigns(request: Request) -> Response:
        try:
            body = read_campaigns(url)
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=503, headers=_NO_CACHE)
        return JSONResponse(body, headers=_NO_CACHE)

    def static_plotly(request: Request) -> Response:
        if plotly_js is None:
            return JSONResponse({"error": "plotly.min.js not found: install the plotly package"}, status_code=404)
        return FileResponse(plotly_js, media_type="application/javascript")

    return Starlette(routes=[
        Route("/", index),
        Route("/api/state", state),
        Route("/api/campaigns", campaigns),
        Route("/static/plotly.min.js", static_plotly),
    ])
