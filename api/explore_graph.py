"""The read-only ``/explore`` page: browse users, items, entities and recommendations as a graph.

The embedded default store has no Neo4j Browser, so the API serves a small page drawn with
cytoscape.js. The library is vendored at build time (``make assets``: ``npm ci`` in
``tools/explore-assets``) and served from this router, never from a CDN. Routes:

- ``GET /explore``                 the HTML page (a notice when the library is missing);
  ``?kind=user&id=42&select=item:7`` opens a neighbourhood and selects one of its nodes;
- ``GET /explore/static/{file}``   whitelisted files only: the page's js/css and the library;
- ``GET /explore/search?q=``       users and items whose id or title contains ``q`` (bounded);
- ``GET /explore/graph?kind=&id=`` the neighbourhood of a user or item as nodes and edges.

Every query is a ``cypher/explore_*.cypher`` file run with ``read_only=True``.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field

from tailgraph import cypher
from tailgraph.api.auth import AUTHENTICATED
from tailgraph.errors import NotFoundError, StoreUnavailableError, TailGraphError
from tailgraph.graph.store import GraphStore, Row

ASSETS_ENV = "TAILGRAPH_EXPLORE_ASSETS"
LIBRARY_FILE = "cytoscape.min.js"
MISSING_LIBRARY = (
    f"the graph library {LIBRARY_FILE} is not installed: run `make assets` "
    f"(npm ci in tools/explore-assets) or point {ASSETS_ENV} at a folder holding it"
)
ENTITIES_PER_ITEM = 4  # KG entities drawn per item (those shared by drawn items first)
PATHS_PER_RECOMMENDATION = 3  # explanation paths drawn per recommended item
SEARCH_LIMIT = 10  # hits per label in the search box

_NODE_MODULES_LIBRARY = Path("node_modules", "cytoscape", "dist", LIBRARY_FILE)
_STATIC_DIR = Path(__file__).resolve().parent / "static"
_OWN_STATIC = {"explore.js": "text/javascript", "explore.css": "text/css"}
_HIDDEN_PROPERTIES = {"embedding", "textEmbedding", "textHash"}
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)

Kind = Literal["user", "item"]
Scalar = str | int | float | bool | None
PropValue = Scalar | list[Scalar]


class SearchHit(BaseModel):
    """One user or item matching the search text."""

    kind: Kind
    id: str = Field(description="the node's id in the store")
    label: str = Field(description="caption: an item's title, a user's id")


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]


class GraphNode(BaseModel):
    """A node of the drawn neighbourhood; ``id`` is unique across labels (``item:42``)."""

    id: str
    kind: Literal["user", "item", "entity"]
    key: str = Field(description="the node's id in the store")
    label: str = Field(description="caption")
    role: Literal["center", "interacted", "recommended", "user", "entity", "similar"]
    props: dict[str, PropValue] = Field(default_factory=dict)


class GraphEdge(BaseModel):
    """A relationship; ``type`` is INTERACTED, RECOMMENDED, SIMILAR or a KG relationship type."""

    id: str
    source: str
    target: str
    type: str
    path: bool = Field(False, description="part of a recommendation's explanation path")
    props: dict[str, PropValue] = Field(default_factory=dict)


class ExplanationPath(BaseModel):
    """recommended item -[item_type]- entity -[via_type]- an item the user interacted with."""

    item: str
    entity: str
    via: str
    item_type: str
    via_type: str


class ExploreGraph(BaseModel):
    center: str
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    paths: list[ExplanationPath] = Field(default_factory=list)


# -- assets -----------------------------------------------------------------------------------


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
        repo = Path(__file__).resolve().parent.parent
        candidates = [repo / "tools" / "explore-assets" / _NODE_MODULES_LIBRARY]
    return next((path for path in candidates if path.is_file()), None)


# -- graph building ---------------------------------------------------------------------------


def _query(store: GraphStore, name: str, params: Mapping[str, Any], **labels: str) -> list[Row]:
    text = cypher.render(name, store.dialect, allowed={"User", "Item"}, **labels)
    return store.run(text, params, read_only=True)


def _display(props: Mapping[str, Any]) -> dict[str, PropValue]:
    """Node properties worth showing: no vectors, hashes or internal keys; long text cut."""
    shown: dict[str, PropValue] = {}
    for key, value in props.items():
        if key.startswith("_") or key in _HIDDEN_PROPERTIES:
            continue
        if isinstance(value, str) and len(value) > 400:
            value = value[:400] + "…"
        if isinstance(value, list):
            if len(value) > 20 or not all(isinstance(v, Scalar) for v in value):
                continue
        elif not isinstance(value, Scalar):
            continue
        shown[key] = value
    return shown


def _clean(props: Mapping[str, Any]) -> dict[str, PropValue]:
    return {k: v for k, v in props.items() if v is not None}


class _Builder:
    """Collects nodes and edges without duplicates (first role given to a node wins)."""

    def __init__(self) -> None:
        self.nodes: dict[str, GraphNode] = {}
        self.edges: dict[str, GraphEdge] = {}
        self.paths: list[ExplanationPath] = []

    def node(self, kind: str, key: Any, label: Any, role: str, **props: Any) -> str:
        node_id = f"{kind}:{key}"
        if node_id not in self.nodes:
            self.nodes[node_id] = GraphNode(
                id=node_id,
                kind=kind,
                key=str(key),
                label=str(label or key),
                role=role,
                props=_clean(props),
            )
        return node_id

    def edge(
        self, source: str, target: str, type_: str, *, path: bool = False, **props: Any
    ) -> None:
        edge_id = f"{source}-{type_}->{target}"
        if edge_id in self.edges:
            self.edges[edge_id].path = self.edges[edge_id].path or path
        else:
            self.edges[edge_id] = GraphEdge(
                id=edge_id,
                source=source,
                target=target,
                type=type_,
                path=path,
                props=_clean(props),
            )

    def kg_edge(
        self,
        item: str,
        entity: str,
        type_: str,
        outgoing: bool,
        *,
        path: bool = False,
        **props: Any,
    ) -> None:
        """A KG triple drawn in its stored direction."""
        source, target = (item, entity) if outgoing else (entity, item)
        self.edge(source, target, type_, path=path, **props)

    def graph(self, center: str) -> ExploreGraph:
        return ExploreGraph(
            center=center,
            nodes=list(self.nodes.values()),
            edges=list(self.edges.values()),
            paths=self.paths,
        )


def _center(store: GraphStore, kind: Kind, key: str) -> dict[str, Any]:
    rows = _query(store, "explore_node", {"id": key}, label=kind.capitalize())
    if not rows:
        raise NotFoundError(f"no {kind} with id {key!r}")
    return rows[0]["node"]


def _add_entities(store: GraphStore, graph: _Builder, item_ids: list[str]) -> None:
    rows = _query(store, "explore_item_entities", {"ids": item_ids, "per_item": ENTITIES_PER_ITEM})
    for row in rows:
        entity = graph.node("entity", row["entity"], row["name"], "entity")
        graph.kg_edge(
            f"item:{row['item']}", entity, row["type"], row["outgoing"], relation=row["relation"]
        )


def user_graph(store: GraphStore, key: str, limit: int) -> ExploreGraph:
    """A user, its items, their KG entities, its recommendations and the KG paths linking them.

    Explanation paths run through the drawn (top-`limit`) history only, so every path ends on
    a node in view and the cost stays bounded even through hub entities.
    """
    props = _center(store, "user", key)
    graph = _Builder()
    user = graph.node("user", key, f"user {key}", "center", **_display(props))
    items = _query(store, "explore_user_items", {"id": key, "limit": limit})
    for row in items:
        item = graph.node("item", row["id"], row["title"], "interacted")
        graph.edge(user, item, "INTERACTED", rating=row["rating"], ts=row["ts"])
    recommended = _query(store, "explore_user_recommendations", {"id": key, "limit": limit})
    for row in recommended:
        item = graph.node("item", row["id"], row["title"], "recommended")
        graph.edge(
            user, item, "RECOMMENDED", score=row["score"], rank=row["rank"], model=row["model"]
        )
    _add_entities(store, graph, [row["id"] for row in items])
    paths = _query(
        store,
        "explore_recommendation_paths",
        {
            "items": [row["id"] for row in recommended],
            "seen": [row["id"] for row in items],  # only the drawn history: bounded cost
            "per_item": PATHS_PER_RECOMMENDATION,
        },
    )
    for row in paths:
        item, via = f"item:{row['item']}", f"item:{row['via']}"
        entity = graph.node("entity", row["entity"], row["name"], "entity")
        graph.kg_edge(item, entity, row["item_type"], row["item_out"], path=True)
        graph.kg_edge(via, entity, row["via_type"], row["via_out"], path=True)
        graph.paths.append(
            ExplanationPath(
                item=item,
                entity=entity,
                via=via,
                item_type=row["item_type"],
                via_type=row["via_type"],
            )
        )
    return graph.graph(user)


def item_graph(store: GraphStore, key: str, limit: int) -> ExploreGraph:
    """An item, its users (bounded), its KG entities and items sharing entities with it."""
    props = _center(store, "item", key)
    graph = _Builder()
    item = graph.node("item", key, props.get("title"), "center", **_display(props))
    for row in _query(store, "explore_item_users", {"id": key, "limit": limit}):
        user = graph.node("user", row["id"], f"user {row['id']}", "user")
        graph.edge(user, item, "INTERACTED", rating=row["rating"], ts=row["ts"])
    _add_entities(store, graph, [key])
    similar = _query(
        store, "explore_similar_items", {"id": key, "limit": limit, "per_item": ENTITIES_PER_ITEM}
    )
    for row in similar:
        other = graph.node("item", row["id"], row["title"], "similar", shared=row["shared"])
        for link in row["links"]:
            entity = graph.node("entity", link["entity"], link["name"], "entity")
            graph.kg_edge(other, entity, link["type"], link["outgoing"])
            graph.kg_edge(item, entity, link["center_type"], link["center_out"])
    return graph.graph(item)


def search(store: GraphStore, text: str, limit: int = SEARCH_LIMIT) -> SearchResponse:
    """Users whose id, items whose id or title, contains ``text`` (case-insensitive)."""
    needle = text.strip().lower()
    params = {"q": needle, "limit": limit}
    hits = [
        SearchHit(kind="user", id=str(row["id"]), label=f"user {row['label']}")
        for row in _query(store, "explore_search_users", params)
    ]
    hits += [
        SearchHit(kind="item", id=str(row["id"]), label=str(row["label"]))
        for row in _query(store, "explore_search_items", params)
    ]
    return SearchResponse(query=text, hits=hits)


# -- routes -----------------------------------------------------------------------------------


def _store(request: Request) -> GraphStore:
    """The app's store: the main service's (opened lazily) or one set on ``app.state.store``."""
    service = getattr(request.app.state, "service", None)
    if service is not None:
        try:
            return service.store()
        except TailGraphError as e:
            raise HTTPException(503, str(e), headers={"Retry-After": "5"}) from e
    store = getattr(request.app.state, "store", None)
    if store is None:
        raise HTTPException(503, "no graph store is configured for this app")
    return store


StoreDep = Annotated[GraphStore, Depends(_store)]
router = APIRouter(prefix="/explore", tags=["explore"])


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


@router.get("/static/{file}", name="explore_static", response_class=FileResponse)
def static_file(file: str) -> FileResponse:
    """The page's own js/css and the vendored library; any other name is a 404."""
    if file == LIBRARY_FILE:
        path = find_library()
        if path is None:
            raise HTTPException(404, MISSING_LIBRARY)
        return FileResponse(path, media_type="text/javascript")
    if file not in _OWN_STATIC:
        raise HTTPException(404, f"no static file {file!r}")
    return FileResponse(_STATIC_DIR / file, media_type=_OWN_STATIC[file])


@router.get("/search", response_model=SearchResponse, dependencies=AUTHENTICATED)
def search_route(
    store: StoreDep, q: Annotated[str, Query(min_length=1, max_length=100)]
) -> SearchResponse:
    """Users and items whose id (or title) contains ``q``; at most 10 of each."""
    try:
        return search(store, q)
    except StoreUnavailableError as e:
        raise HTTPException(503, str(e)) from e


@router.get("/graph", response_model=ExploreGraph, dependencies=AUTHENTICATED)
def graph_route(
    store: StoreDep,
    kind: Kind,
    id: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> ExploreGraph:
    """The neighbourhood of one user or item; ``limit`` bounds each kind of neighbour."""
    build = user_graph if kind == "user" else item_graph
    try:
        return build(store, id, limit)
    except NotFoundError as e:
        raise HTTPException(404, str(e)) from e
    except StoreUnavailableError as e:
        raise HTTPException(503, str(e)) from e


def create_explore_app(store: GraphStore) -> FastAPI:
    """A stand-alone app serving only the explorer over ``store`` (tests, quick looks)."""
    app = FastAPI(title="TailGraph explorer")
    app.state.store = store
    app.include_router(router)
    return app
