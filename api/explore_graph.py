"""The /explore use cases: a user's or item's neighbourhood as nodes and edges, and the search
box, each a few bounded read-only ``cypher/explore_*.cypher`` queries."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from tailgraph.api.candidates import item_titles
from tailgraph.api.schemas import (
    ExploreGraph,
    ExploreKind,
    GraphEdge,
    GraphNode,
    KGPath,
    PropValue,
    Scalar,
    SearchHit,
    SearchResponse,
)
from tailgraph.api.titles import ARTICLES, display_title
from tailgraph.errors import NotFoundError
from tailgraph.graph.store import GraphStore, run_query

ENTITIES_PER_ITEM = 4  # KG entities drawn per item (those shared by drawn items first)
PATHS_PER_RECOMMENDATION = 3  # explanation paths drawn per recommended item
SEARCH_LIMIT = 10  # hits per label in the search box

_HIDDEN_PROPERTIES = {"embedding", "textEmbedding", "textHash", "itemCount"}


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
        self.paths: list[KGPath] = []

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


def _center(store: GraphStore, kind: ExploreKind, key: str) -> dict[str, Any]:
    label = kind.capitalize()
    rows = run_query(
        store, "explore_node", {"id": key}, read_only=True, allowed={"User", "Item"}, label=label
    )
    if not rows:
        raise NotFoundError(f"no {kind} with id {key!r}")
    return rows[0]["node"]


def _add_entities(store: GraphStore, graph: _Builder, item_ids: list[str]) -> None:
    parameters = {"ids": item_ids, "per_item": ENTITIES_PER_ITEM}
    rows = run_query(store, "explore_item_entities", parameters, read_only=True)
    for row in rows:
        entity = graph.node("entity", row["entity"], row["name"], "entity")
        graph.kg_edge(
            f"item:{row['item']}", entity, row["type"], row["outgoing"], relation=row["relation"]
        )


def user_graph(
    store: GraphStore, key: str, limit: int, user_attributes: Collection[str] = ()
) -> ExploreGraph:
    """A user, its items, their KG entities, its recommendations and the KG paths linking them.

    Explanation paths run through the drawn (top-`limit`) history only, so every path ends on
    a node in view and the cost stays bounded even through hub entities. A user's personal
    attributes (age, zip code ...) are shown only when named in ``user_attributes``.
    """
    props = _center(store, "user", key)
    shown = {k: v for k, v in props.items() if k == "id" or k in user_attributes}
    graph = _Builder()
    user = graph.node("user", key, f"user {key}", "center", **_display(shown))
    bounded = {"id": key, "limit": limit}
    items = run_query(store, "explore_user_items", bounded, read_only=True)
    for row in items:
        item = graph.node("item", row["id"], row["title"], "interacted")
        graph.edge(user, item, "INTERACTED", rating=row["rating"], ts=row["ts"])
    recommended = run_query(store, "explore_user_recommendations", bounded, read_only=True)
    for row in recommended:
        item = graph.node("item", row["id"], row["title"], "recommended")
        graph.edge(
            user, item, "RECOMMENDED", score=row["score"], rank=row["rank"], model=row["model"]
        )
    _add_entities(store, graph, [row["id"] for row in items])
    paths = run_query(
        store,
        "explore_recommendation_paths",
        {
            "items": [row["id"] for row in recommended],
            "seen": [row["id"] for row in items],  # only the drawn history: bounded cost
            "per_item": PATHS_PER_RECOMMENDATION,
        },
        read_only=True,
    )
    for row in paths:
        item, via = f"item:{row['item']}", f"item:{row['via']}"
        entity = graph.node("entity", row["entity"], row["name"], "entity")
        graph.kg_edge(item, entity, row["item_type"], row["item_out"], path=True)
        graph.kg_edge(via, entity, row["via_type"], row["via_out"], path=True)
        graph.paths.append(
            KGPath(
                item_id=str(row["item"]),
                seed_item_id=str(row["via"]),
                seed_title=row["via_title"],
                seed_relation=row["via_type"],
                seed_relation_name=None,
                entity_id=str(row["entity"]),
                entity_name=row["name"],
                item_relation=row["item_type"],
                item_relation_name=None,
            )
        )
    return graph.graph(user)


def item_graph(
    store: GraphStore, key: str, limit: int, similar: Sequence[tuple[str, float]] = ()
) -> ExploreGraph:
    """An item, its users (bounded), its KG entities, and its ``similar`` items — the served
    model's, as ``GET /items/{id}/similar`` returns them — with the entities they share."""
    props = _center(store, "item", key)
    graph = _Builder()
    item = graph.node("item", key, props.get("title"), "center", **_display(props))
    bounded = {"id": key, "limit": limit}
    for row in run_query(store, "explore_item_users", bounded, read_only=True):
        user = graph.node("user", row["id"], f"user {row['id']}", "user")
        graph.edge(user, item, "INTERACTED", rating=row["rating"], ts=row["ts"])
    _add_entities(store, graph, [key])
    similar = list(similar)[:limit]
    titles = item_titles(store, [other for other, _ in similar])
    for other_id, similarity in similar:
        other = graph.node("item", other_id, titles.get(other_id), "similar",
                           similarity=round(similarity, 4))  # fmt: skip
        graph.edge(item, other, "SIMILAR", similarity=round(similarity, 4))
    parameters = {"id": key, "others": [other for other, _ in similar],
                  "per_item": ENTITIES_PER_ITEM}  # fmt: skip
    for row in run_query(store, "explore_item_links", parameters, read_only=True):
        other = f"item:{row['id']}"
        for link in row["links"]:
            entity = graph.node("entity", link["entity"], link["name"], "entity")
            graph.kg_edge(other, entity, link["type"], link["outgoing"])
            graph.kg_edge(item, entity, link["center_type"], link["center_out"])
    return graph.graph(item)


def neighbourhood(
    store: GraphStore,
    kind: ExploreKind,
    key: str,
    limit: int,
    similar: Sequence[tuple[str, float]] = (),
    user_attributes: Collection[str] = (),
) -> ExploreGraph:
    """The drawn neighbourhood of one user or item; ``limit`` bounds each kind of neighbour;
    ``similar`` are an item's similar items by the served model (none without a model);
    ``user_attributes`` the user properties shown (none by default: they are personal)."""
    if kind == "user":
        return user_graph(store, key, limit, user_attributes)
    return item_graph(store, key, limit, similar)


SEARCH_CANDIDATES = 500  # matching items read (most interacted first) before ranking


def _match_tier(needles: Sequence[str], *texts: str) -> int | None:
    """0 exact, 1 prefix, 2 a word starts with it, 3 substring; None when nothing matches."""
    best: int | None = None
    for text in texts:
        for needle in needles:
            if not text or needle not in text:
                continue
            if text == needle:
                tier = 0
            elif text.startswith(needle):
                tier = 1
            elif re.search(r"(^|[\s(\-:'\"])" + re.escape(needle), text):
                tier = 2
            else:
                tier = 3
            best = tier if best is None else min(best, tier)
    return best


def search(store: GraphStore, text: str, limit: int = SEARCH_LIMIT) -> SearchResponse:
    """Users whose id contains ``text``, and items ranked by how their title (as shown, with its
    year) or id matches it: exact, then prefix, word start, substring; ties go to the more
    interacted item. Case-insensitive; a leading article in ``text`` is optional."""
    needle = " ".join(text.strip().lower().split())
    needles = [needle]
    first, _, rest = needle.partition(" ")
    if first in ARTICLES and rest:
        needles.append(rest)  # "the godfather" finds "Godfather, The"
    hits = [
        SearchHit(kind="user", id=str(row["id"]), label=f"user {row['label']}")
        for row in run_query(
            store, "explore_search_users", {"q": needle, "limit": limit}, read_only=True
        )
    ]
    rows = run_query(
        store, "explore_search_items", {"qs": needles, "limit": SEARCH_CANDIDATES}, read_only=True
    )
    ranked = []
    for row in rows:
        label = display_title(row["title"], row["year"]) or str(row["id"])
        raw = (row["title"] or "").lower()
        tier = _match_tier(needles, label.lower(), raw, str(row["id"]).lower())
        if tier is not None:
            ranked.append((tier, -int(row["interactions"]), label, str(row["id"])))
    ranked.sort()
    hits += [
        SearchHit(kind="item", id=item_id, label=label, interactions=-minus)
        for _, minus, label, item_id in ranked[:limit]
    ]
    return SearchResponse(query=text, hits=hits)
