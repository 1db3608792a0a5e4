"""``/explore``: the graph explorer page, its static files, and the JSON it draws.

The page and its static files are public (they hold no data); the JSON routes need the API key
like every other data endpoint, which the page asks for once and sends. Only the page's own
js/css and the vendored cytoscape.js are served: any other file name is a 404.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse

from tailgraph.api import explore_graph
from tailgraph.api.auth import AUTHENTICATED
from tailgraph.api.deps import ServiceState, StateDep, StoreDep
from tailgraph.api.routes.common import AUTH_ERRORS, ID_PATTERN
from tailgraph.api.schemas import ErrorBody, ExploreGraph, ExploreKind, SearchResponse
from tailgraph.api.scoring import Scorer
from tailgraph.errors import ArtefactError, NotFoundError

ASSETS_ENV = "TAILGRAPH_EXPLORE_ASSETS"
LIBRARY_FILE = "cytoscape.min.js"
MISSING_LIBRARY = (
    f"the graph library {LIBRARY_FILE} is not installed: run `make assets` "
    f"(npm ci in tools/explore-assets) or point {ASSETS_ENV} at a folder holding it"
)

SIMILAR_LIMIT = 10  # similar items drawn around an item (the endpoint's default k)

_NODE_MODULES_LIBRARY = Path("node_modules", "cytoscape", "dist", LIBRARY_FILE)
_STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_OWN_STATIC = {"explore.js": "text/javascript", "explore.css": "text/css"}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_ERRORS: dict[int | str, dict] = {
    **AUTH_ERRORS,
    503: {"model": ErrorBody, "description": "Store unreachable"},
}

router = APIRouter(prefix="/explore", tags=["explore"])


def find_library(environ: Mapping[str, str] | None = None) -> Path | None:
    """The vendored ``cytoscape.min.js``, or None when ``make assets`` has not been run.

    With ``TAILGRAPH_EXPLORE_ASSETS`` set, only that folder is searched (the file itself or
    ``node_modules/cytoscape/dist/`` under it); otherwise ``tools/explore-assets`` next to the
    package source (an editable install or a checkout).
    """
    env = os.environ if environ is None else environ
    configured = env.get(ASSETS_ENV)
    if configured:
        root = Path(configured).expanduser()
        candidates = [root / LIBRARY_FILE, root / _NODE_MODULES_LIBRARY]
    else:
        repo = _STATIC_DIR.parent.parent
        candidates = [repo / "tools" / "explore-assets" / _NODE_MODULES_LIBRARY]
    return next((path for path in candidates if path.is_file()), None)


@router.get("", response_class=HTMLResponse, name="explore_page")
def page(request: Request) -> HTMLResponse:
    """The explorer page; names the missing library when ``make assets`` has not been run."""
    text = (_STATIC_DIR / "explore.html").read_text(encoding="utf-8")
    base = str(request.url_for("explore_page").path).rstrip("/")
    notice = (
        ""
        if find_library()
        else (
            f'<p id="notice" class="notice" role="alert">Graph view unavailable: '
            f"{html.escape(MISSING_LIBRARY)}.</p>"
        )
    )
    text = text.replace("<!--ASSETS-NOTICE-->", notice).replace("__BASE__", html.escape(base))
    return HTMLResponse(text, headers={"Content-Security-Policy": _CSP})


@router.get(
    "/static/{file}",
    name="explore_static",
    response_class=FileResponse,
    responses={404: {"model": ErrorBody, "description": "Not a file the page uses"}},
)
def static_file(file: str) -> FileResponse:
    """The page's own js/css and the vendored library; any other name is a 404."""
    if file == LIBRARY_FILE:
        path = find_library()
        if path is None:
            raise NotFoundError(MISSING_LIBRARY)
        return FileResponse(path, media_type="text/javascript")
    if file not in _OWN_STATIC:
        raise NotFoundError(f"no static file {file!r}")
    return FileResponse(_STATIC_DIR / file, media_type=_OWN_STATIC[file])


@router.get("/search", dependencies=AUTHENTICATED, responses=_ERRORS)
def search_route(
    store: StoreDep,
    q: Annotated[str, Query(min_length=1, max_length=100, pattern=ID_PATTERN)],
    limit: Annotated[int, Query(ge=1, le=50)] = explore_graph.SEARCH_LIMIT,
) -> SearchResponse:
    """Users whose id contains ``q``, and items ranked by their title (with its year) or id:
    exact, prefix, word start, then substring, the more interacted first on ties; at most
    ``limit`` of each."""
    return explore_graph.search(store, q, limit)


@router.get(
    "/graph",
    dependencies=AUTHENTICATED,
    responses={**_ERRORS, 404: {"model": ErrorBody, "description": "Unknown user or item"}},
)
def graph_route(
    store: StoreDep,
    state: StateDep,
    kind: ExploreKind,
    id: Annotated[str, Query(min_length=1, max_length=200, pattern=ID_PATTERN)],
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> ExploreGraph:
    """The neighbourhood of one user or item; ``limit`` bounds each kind of neighbour. An
    item's similar items are the default model's, as ``GET /items/{id}/similar`` gives them
    (none while no model is trained, or for an item added after training)."""
    similar: list[tuple[str, float]] = []
    if kind == "item":
        scorer = _try_load(state)
        if scorer is not None and scorer.has_item(id):
            similar = scorer.similar_items(id, min(limit, SIMILAR_LIMIT))
    shown = state.settings.explore_user_attributes
    return explore_graph.neighbourhood(store, kind, id, limit, similar, shown)


def _try_load(state: ServiceState) -> Scorer | None:
    """The default model, or None when there is none to serve yet."""
    try:
        return state.scorer()
    except ArtefactError:
        return None
