"""`/docs` (Swagger UI) and `/redoc` (ReDoc) served offline from vendored assets.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, a blank page without internet.
These load them from `tools/explore-assets` (npm, at build time: `make assets`) or the folder
in `TAILGRAPH_EXPLORE_ASSETS`, and say how to install them when they are missing.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

from tailgraph.api.routes.explore import ASSETS_ENV
from tailgraph.api.schemas import ErrorBody
from tailgraph.errors import NotFoundError

# served name -> (npm package, path inside it, media type)
ASSETS = {
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css", "text/css"),
    "favicon-32x32.png": ("swagger-ui-dist", "favicon-32x32.png", "image/png"),
    "redoc.standalone.js": ("redoc", "bundles/redoc.standalone.js", "text/javascript"),
}
MISSING = (
    "the API documentation assets (Swagger UI, ReDoc) are not installed: run `make assets` "
    f"(npm ci in tools/explore-assets) or point {ASSETS_ENV} at a folder holding node_modules"
)
_REPO_ASSETS = Path(__file__).resolve().parents[2] / "tools" / "explore-assets"

router = APIRouter(include_in_schema=False)


def find_asset(name: str) -> Path | None:
    """The vendored file served as ``name``, or None when it is not installed."""
    package, relative = ASSETS[name][:2]
    configured = os.environ.get(ASSETS_ENV)
    root = Path(configured).expanduser() if configured else _REPO_ASSETS
    path = root / "node_modules" / package / relative
    return path if path.is_file() else None


def _missing_page(title: str, openapi_url: str) -> HTMLResponse:
    body = (
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body>"
        f'<p role="alert">{html.escape(MISSING)}.</p>'
        f'<p>The OpenAPI document is at <a href="{openapi_url}">{openapi_url}</a>.</p>'
        "</body></html>"
    )
    return HTMLResponse(body, status_code=503)


def _static(request: Request, name: str) -> str:
    return str(request.url_for("docs_static", file=name).path)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over this service's OpenAPI document, from vendored files only."""
    app: FastAPI = request.app
    title = f"{app.title} - Swagger UI"
    if find_asset("swagger-ui-bundle.js") is None:
        return _missing_page(title, app.openapi_url or "/openapi.json")
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=title,
        swagger_js_url=_static(request, "swagger-ui-bundle.js"),
        swagger_css_url=_static(request, "swagger-ui.css"),
        swagger_favicon_url=_static(request, "favicon-32x32.png"),
        oauth2_redirect_url="/docs/oauth2-redirect",
        # no validator badge: it would call validator.swagger.io
        swagger_ui_parameters={"validatorUrl": None, "tryItOutEnabled": True},
    )


@router.get("/docs/oauth2-redirect", response_class=HTMLResponse)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    """ReDoc over this service's OpenAPI document, without Google Fonts or a CDN."""
    app: FastAPI = request.app
    title = f"{app.title} - ReDoc"
    if find_asset("redoc.standalone.js") is None:
        return _missing_page(title, app.openapi_url or "/openapi.json")
    return get_redoc_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=title,
        redoc_js_url=_static(request, "redoc.standalone.js"),
        redoc_favicon_url=_static(request, "favicon-32x32.png"),
        with_google_fonts=False,
    )


@router.get(
    "/docs/static/{file}",
    name="docs_static",
    responses={404: {"model": ErrorBody, "description": "Not a file the pages use"}},
)
def docs_static(file: str) -> FileResponse:
    """The vendored Swagger UI and ReDoc files; any other name is a 404."""
    if file not in ASSETS:
        raise NotFoundError(f"no documentation asset {file!r}")
    path = find_asset(file)
    if path is None:
        raise NotFoundError(MISSING)
    return FileResponse(path, media_type=ASSETS[file][2])
