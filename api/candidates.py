"""Bounded candidate expansion in the graph: a user's history, collaborative and KG candidates,
and the KG-entity filter.

Every query is a file in ``cypher/`` and runs read-only with ids passed as ``$parameters``.
Fan-out is capped at each hop (:class:`ExpansionLimits`) so a hub item or hub entity costs the
same as any other. A model saved with item neighbours (:mod:`tailgraph.gnn.neighbours`) serves
the collaborative and knowledge sources from them instead, one lookup per seed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tailgraph.api.read_cache import WriteCounters
from tailgraph.api.titles import display_title
from tailgraph.errors import NotFoundError
from tailgraph.gnn.neighbours import COLLABORATIVE, KNOWLEDGE, ItemNeighbours
from tailgraph.graph.store import GraphStore, Row, run_query

MODEL = "model"  # the served model's exact top-N by its learned vectors (in-memory MIPS)
VECTOR = "vector"
TAIL = "tail"
TEXT = "text"
CATALOGUE = "catalogue"
SOURCE_ORDER = (MODEL, COLLABORATIVE, KNOWLEDGE, VECTOR, TAIL, TEXT, CATALOGUE)
SELECTABLE = (MODEL, COLLABORATIVE, KNOWLEDGE, VECTOR, TAIL, TEXT)


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
    max_path_rows: int = 500  # (seed, entity) pairs read before ranking an explanation
    max_raters: int = 200  # raters of an item examined by an explanation
    max_model_candidates: int = 200  # the model's exact best unseen items, always in the pool
    max_vector_candidates: int = 50  # nearest items read from the store's vector index
    max_tail_candidates: int = 50  # best-scoring low-popularity items in the tail pool
    max_text_neighbours: int = 10  # items matched to one free-text interest / new item text
    max_text_candidates: int = 100  # best text matches of a visitor's interests in the pool
    max_entity_items: int = 1000  # items of a filter entity read for the catalogue fill
    max_neighbours_per_entity: int = 50  # items per KG entity averaged for a new item


# One interaction: (item id, rating, ts, recorded: the server time the API recorded it, None when
# bulk-loaded). Plain tuples of plain values, so the collector stops tracking the many a worker
# keeps (:mod:`tailgraph.api.read_cache`) and its full passes stay short.
HistoryEntry = tuple[str, float | None, float | None, float | None]


@dataclass(frozen=True)
class UserHistory:
    """What the store knows about a user's past: their interacted items."""

    user_id: str
    items: tuple[HistoryEntry, ...]

    @functools.cached_property
    def seen(self) -> frozenset[str]:
        return frozenset(item_id for item_id, *_ in self.items)

    def recorded_after(self, moment: float) -> list[str]:
        """Items whose interaction was recorded through the API after ``moment``."""
        return [
            item_id
            for item_id, _, _, recorded in self.items
            if recorded is not None and recorded > moment
        ]

    @functools.cached_property
    def _most_recent_first(self) -> tuple[str, ...]:
        def key(entry: HistoryEntry) -> tuple[float, float, str]:
            item_id, rating, ts, _ = entry
            return (
                -(ts if ts is not None else -math.inf),
                -(rating if rating is not None else -math.inf),
                item_id,
            )

        return tuple(entry[0] for entry in sorted(self.items, key=key))

    def seeds(self, limit: int) -> list[str]:
        """The ``limit`` most recent items (ties and missing timestamps: best rated first);
        sorted once per history, which a kept read serves many times."""
        return list(self._most_recent_first[:limit])


@dataclass
class Candidate:
    """An item proposed by one or more sources, with each source's support count."""

    item_id: str
    support: dict[str, int] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        return [source for source in SOURCE_ORDER if source in self.support]


def user_history(store: GraphStore, user_id: str) -> UserHistory:
    """The user's interactions; NotFoundError when no such user is in the graph."""
    rows = run_query(store, "user_history", {"user_id": user_id}, read_only=True)
    if not rows:
        raise NotFoundError(f"user {user_id!r} not found")
    entries = [(row["item_id"], row["rating"], row["ts"], row.get("recorded")) for row in rows]
    return history_from_entries(user_id, entries)


def history_from_entries(user_id: str, entries: Iterable[Sequence]) -> UserHistory:
    """A :class:`UserHistory` from ``(item_id, rating, ts, recorded)`` entries as the store
    returns them (item_id None: a user without interactions); one item per id, latest ``ts``."""
    latest: dict[str, HistoryEntry] = {}
    for item_id, rating, ts, recorded in entries:
        if item_id is None:
            continue
        entry = (
            str(item_id),
            float(rating) if rating is not None else None,
            float(ts) if ts is not None else None,
            float(recorded) if recorded is not None else None,
        )
        previous = latest.get(entry[0])
        if previous is None or (entry[2] or -math.inf) > (previous[2] or -math.inf):
            latest[entry[0]] = entry
    return UserHistory(user_id, tuple(latest.values()))


def expand_seeds(
    store: GraphStore,
    user_id: str,
    seeds: list[str],
    limits: ExpansionLimits,
    *,
    exclude_seen: bool = True,
    exclude: Iterable[str] = (),
    sources: Iterable[str] = (COLLABORATIVE, KNOWLEDGE),
    precomputed: Mapping[str, ItemNeighbours] | None = None,
    seen: Collection[str] = (),
) -> dict[str, Candidate]:
    """Graph candidates around ``seeds``; ``user_id`` may name no user (an anonymous profile).

    ``exclude_seen`` drops the user's own items (checked in the graph); ``exclude`` drops a
    short explicit list (an anonymous profile's given items). A source found in
    ``precomputed`` is served from its item neighbours (one lookup per seed, no Cypher);
    ``exclude_seen`` then drops ``seen``, the user's items the caller already read.
    """
    wanted = set(sources)
    if not seeds or not wanted & {COLLABORATIVE, KNOWLEDGE}:
        return {}
    precomputed = precomputed or {}
    if wanted & set(precomputed):
        dropped = {*exclude, *(seen if exclude_seen else ())}
        merged = expand_seeds(
            store,
            user_id,
            seeds,
            limits,
            exclude_seen=exclude_seen,
            exclude=exclude,
            sources=wanted - set(precomputed),
        )
        for source in (COLLABORATIVE, KNOWLEDGE):
            if source in wanted and source in precomputed:
                found = precomputed[source].candidates(seeds, dropped, limits.max_candidates)
                for item_id, support in found:
                    merged.setdefault(item_id, Candidate(item_id)).support[source] = support
        return merged
    common = {
        "user_id": user_id,
        "seeds": seeds,
        "max_candidates": limits.max_candidates,
        "exclude_seen": exclude_seen,
        "exclude": list(exclude),
    }
    queries = {
        COLLABORATIVE: (
            "candidates_collaborative",
            {
                "max_co_users": limits.max_co_users,
                "max_items_per_co_user": limits.max_items_per_co_user,
            },
        ),
        KNOWLEDGE: (
            "candidates_knowledge",
            {
                "max_entities_per_seed": limits.max_entities_per_seed,
                "max_items_per_entity": limits.max_items_per_entity,
            },
        ),
    }
    results = [
        (source, run_query(store, name, {**common, **hops}, read_only=True))
        for source, (name, hops) in queries.items()
        if source in wanted
    ]
    merged: dict[str, Candidate] = {}
    for source, rows in results:
        for row in rows:
            item_id = str(row["item_id"])
            merged.setdefault(item_id, Candidate(item_id)).support[source] = int(row["support"])
    return merged


def require_entities(store: GraphStore, entity_ids: Iterable[str]) -> None:
    """NotFoundError naming the KG entities that do not exist (if any)."""
    ids = list(dict.fromkeys(entity_ids))
    if not ids:
        return
    rows = run_query(store, "entity_exists", {"entity_ids": ids}, read_only=True)
    found = {str(row["entity_id"]) for row in rows}
    missing = [entity_id for entity_id in ids if entity_id not in found]
    if len(missing) == 1:
        raise NotFoundError(f"entity {missing[0]!r} not found")
    if missing:
        raise NotFoundError(f"entities not found: {', '.join(repr(m) for m in missing[:10])}")


def linked_to_entity(store: GraphStore, item_ids: Iterable[str], entity_id: str) -> set[str]:
    """Those of ``item_ids`` linked to the KG entity by any relationship (exact, no cap)."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return set()
    parameters = {"item_ids": ids, "entity_id": entity_id}
    rows = run_query(store, "item_entity_filter", parameters, read_only=True)
    return {str(row["item_id"]) for row in rows}


def entity_items(store: GraphStore, entity_id: str, limit: int) -> list[str]:
    """Up to ``limit`` items linked to the KG entity (the catalogue fill under a filter)."""
    parameters = {"entity_id": entity_id, "limit": limit}
    rows = run_query(store, "entity_items", parameters, read_only=True)
    return [str(row["item_id"]) for row in rows]


def item_titles(store: GraphStore, item_ids: Iterable[str]) -> dict[str, str | None]:
    """Titles, as people read them (year appended, trailing article moved), of the given
    items that exist in the graph (missing ids are absent)."""
    ids = list(dict.fromkeys(item_ids))
    if not ids:
        return {}
    rows = run_query(store, "item_titles", {"item_ids": ids}, read_only=True)
    return {str(row["item_id"]): display_title(row["title"], row["year"]) for row in rows}


class TitleCache:
    """Item titles in process memory: every title is read once at start-up (:meth:`load`), ids
    missing then (items added later) are read on first use and kept; the item write routes drop
    the ids they change (:meth:`forget`). With ``counters``, an item write made by another
    worker (the catalogue counter moved) drops every kept title: they are read again on use."""

    def __init__(self, max_items: int = 2_000_000, counters: WriteCounters | None = None) -> None:
        self.max_items = max_items
        self.counters = counters
        self._catalogue = counters.catalogue() if counters is not None else 0
        self._entries: dict[str, str | None] = {}

    def load(self, store: GraphStore) -> int:
        """Read every item's title (one query); return how many are held."""
        if self.counters is not None:
            self._catalogue = self.counters.catalogue()
        rows = run_query(store, "item_titles_all", {}, read_only=True)
        entries = {str(row["item_id"]): display_title(row["title"], row["year"]) for row in rows}
        if len(entries) <= self.max_items:
            self._entries = entries
        return len(self._entries)

    def forget(self, item_ids: Iterable[str]) -> None:
        """Drop ``item_ids`` (created, replaced or deleted): their next use reads the store."""
        for item_id in item_ids:
            self._entries.pop(item_id, None)

    def get(self, store: GraphStore, item_ids: Iterable[str]) -> dict[str, str | None]:
        """Like :func:`item_titles`; only ids not held go to the store (one query)."""
        if self.counters is not None and self.counters.catalogue() != self._catalogue:
            self._catalogue = self.counters.catalogue()
            self._entries = {}
        found: dict[str, str | None] = {}
        missing: list[str] = []
        entries = self._entries
        for item_id in dict.fromkeys(item_ids):
            if item_id in entries:
                found[item_id] = entries[item_id]
            else:
                missing.append(item_id)
        if missing:
            fresh = item_titles(store, missing)
            if len(entries) + len(fresh) > self.max_items:
                self._entries = {}
            self._entries.update(fresh)
            found.update(fresh)
        return found


def kg_paths(
    store: GraphStore,
    seen: Collection[str],
    item_id: str,
    limits: ExpansionLimits,
    hub_items: int,
) -> list[Row]:
    """KG paths from the user's items (``seen``) through a shared entity to ``item_id``: one
    per distinct (seed, entity) pair, at most ``max_path_rows``. Entities linking fewer than
    ``hub_items`` items are read first; hubs only when none link, least general first, until
    ``max_paths`` paths are found (a hub links much of the catalogue, so each costs a scan)."""
    if not seen:
        return []
    base = {"item_id": item_id, "seen": sorted(seen), "max_rows": limits.max_path_rows}
    specific = {"min_entity_items": 0, "max_entity_items": hub_items - 1}
    rows = run_query(store, "user_item_paths", base | specific, read_only=True)
    if rows:
        return rows
    hubs = run_query(
        store, "item_hub_counts", {"item_id": item_id, "min_entity_items": hub_items},
        read_only=True,
    )  # fmt: skip
    for hub in hubs:
        count = int(hub["entity_items"])
        bounds = {"min_entity_items": count, "max_entity_items": count}
        rows += run_query(store, "user_item_paths", base | bounds, read_only=True)
        if len(rows) >= limits.max_paths:
            break
    return rows[: limits.max_path_rows]


def co_users(
    store: GraphStore, user_id: str, item_id: str, limits: ExpansionLimits
) -> tuple[int, int]:
    """(co-users, raters examined): raters of ``item_id`` who share an item with the user."""
    rows = run_query(
        store,
        "user_item_co_users",
        {"user_id": user_id, "item_id": item_id, "max_raters": limits.max_raters},
        read_only=True,
    )
    if not rows:
        return 0, 0
    return int(rows[0]["co_users"] or 0), int(rows[0]["raters"] or 0)
