"""Bounded candidate expansion in the graph: a user's history, collaborative and KG candidates.

Every query is a file in ``cypher/`` and runs read-only with ids passed as ``$parameters``.
Fan-out is capped at each hop (:class:`ExpansionLimits`) so a hub item or hub entity costs the
same as any other.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tailgraph import cypher
from tailgraph.errors import NotFoundError
from tailgraph.graph.store import GraphStore, Row

COLLABORATIVE = "collaborative"
KNOWLEDGE = "knowledge"
CATALOGUE = "catalogue"
SOURCE_ORDER = (COLLABORATIVE, KNOWLEDGE, CATALOGUE)


@dataclass(frozen=True)
class ExpansionLimits:
    """Caps on every hop of the expansion; the product bounds the rows a request can touch."""

    max_seeds: int = 10  # most recent / best-rated history items that seed the expansion
    max_co_users: int = 30  # co-users read per seed item (a hub item's raters are sampled)
    max_items_per_co_user: int = 50  # items read per co-user
    max_entities_per_seed: int = 20  # KG entities read per seed item
    max_items_per_entity: int = 30  # items read per entity (hub entities such as genres)
    max_candidates: int = 300  # candidates kept per source, best support first
    max_paths: int = 20  # KG paths returned by an explanation
    max_raters: int = 200  # raters of an item examined by an explanation


@dataclass(frozen=True)
class HistoryItem:
    item_id: str
    rating: float | None
    ts: float | None


@dataclass(frozen=True)
class UserHistory:
    """What the store knows about a user's past: their interacted items."""

    user_id: str
    items: tuple[HistoryItem, ...]

    @property
    def seen(self) -> frozenset[str]:
        return frozenset(item.item_id for item in self.items)

    def seeds(self, limit: int) -> list[str]:
        """The ``limit`` most recent items (ties and missing timestamps: best rated first)."""

        def key(item: HistoryItem) -> tuple[float, float, str]:
            ts = item.ts if item.ts is not None else -math.inf
            rating = item.rating if item.rating is not None else -math.inf
            return (-ts, -rating, item.item_id)

        return [item.item_id for item in sorted(self.items, key=key)[:limit]]


@dataclass
class Candidate:
    """An item proposed by one or more sources, with each source's support count."""

    item_id: str
    support: dict[str, int] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        return [source for source in SOURCE_ORDER if source in self.support]


def read(store: GraphStore, name: str, parameters: Mapping[str, Any]) -> list[Row]:
    """Run the read-only query ``cypher/<name>.cypher``."""
    return store.run(cypher.load(name), parameters, read_only=True)


def user_history(store: GraphStore, user_id: str) -> UserHistory:
    """The user's interactions; NotFoundError when no such user is in the graph."""
    rows = read(store, "user_history", {"user_id": user_id})
    if not rows:
        raise NotFoundError(f"user {user_id!r} not found")
    latest: dict[str, HistoryItem] = {}
    for row in rows:
        if row["item_id"] is None:
            continue
        item = HistoryItem(
            str(row["item_id"]),
            float(row["rating"]) if row["rating"] is not None else None,
            float(row["ts"]) if row["ts"] is not None else None,
        )
        previous = latest.get(item.item_id)
        if previous is None or (item.ts or -math.inf) > (previous.ts or -math.inf):
            latest[item.item_id] = item
    return UserHistory(user_id, tuple(latest.values()))


def expand(
    store: GraphStore,
    history: UserHistory,
    limits: ExpansionLimits,
    *,
    exclude_seen: bool = True,
) -> dict[str, Candidate]:
    """Collaborative and knowledge candidates for a user, merged by item id."""
    seeds = history.seeds(limits.max_seeds)
    if not seeds:
        return {}
    common = {
        "user_id": history.user_id,
        "seeds": seeds,
        "max_candidates": limits.max_candidates,
        "exclude_seen": exclude_seen,
    }
    collaborative = read(
        store,
        "candidates_collaborative",
        {
            **common,
            "max_co_users": limits.max_co_users,
            "max_items_per_co_user": limits.max_items_per_co_user,
        },
    )
    knowledge = read(
        store,
        "candidates_knowledge",
        {
            **common,
            "max_entities_per_seed": limits.max_entities_per_seed,
            "max_items_per_entity": limits.max_items_per_entity,
        },
    )
    merged: dict[str, Candidate] = {}
    for source, rows in ((COLLABORATIVE, collaborative), (KNOWLEDGE, knowledge)):
        for row in rows:
            item_id = str(row["item_id"])
            merged.setdefault(item_id, Candidate(item_id)).support[source] = int(row["support"])
    return merged


def item_titles(store: GraphStore, item_ids: Iterable[str]) -> dict[str, str | None]:
    """Titles of the given items that exist in the graph (missing ids are absent)."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return {}
    rows = read(store, "item_titles", {"item_ids": ids})
    return {str(row["item_id"]): row["title"] for row in rows}


def kg_paths(store: GraphStore, user_id: str, item_id: str, limits: ExpansionLimits) -> list[Row]:
    """KG paths from the user's items through a shared entity to ``item_id`` (bounded)."""
    return read(
        store,
        "user_item_paths",
        {"user_id": user_id, "item_id": item_id, "max_paths": limits.max_paths},
    )


def co_users(
    store: GraphStore, user_id: str, item_id: str, limits: ExpansionLimits
) -> tuple[int, int]:
    """(co-users, raters examined): raters of ``item_id`` who share an item with the user."""
    rows = read(
        store,
        "user_item_co_users",
        {"user_id": user_id, "item_id": item_id, "max_raters": limits.max_raters},
    )
    if not rows:
        return 0, 0
    return int(rows[0]["co_users"] or 0), int(rows[0]["raters"] or 0)
