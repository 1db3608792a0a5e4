"""In-memory form of a dataset between a loader and the store: plain records, no I/O.

Every loader (RecBole atomic, KGAT, MovieLens, CSV, synthetic) produces a :class:`Dataset`;
``graph.ingest`` writes one into the store. Ids are strings, namespaced by label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

NODE_LABELS = ("User", "Item", "Entity")
INTERACTED = "INTERACTED"
RECOMMENDED = "RECOMMENDED"
NON_KG_TYPES = frozenset({INTERACTED, RECOMMENDED})  # relationship types that are not KG facts


class Interaction(NamedTuple):
    """One user–item event; ``rating`` and ``ts`` (unix seconds) are optional."""

    user: str
    item: str
    rating: float | None = None
    ts: float | None = None


class Triple(NamedTuple):
    """A KG fact. Entities linked to an item are already resolved to that ``Item``."""

    head: str
    relation: str  # original relation name, e.g. "film.film.directed_by"
    tail: str
    head_label: str = "Entity"  # "Item" or "Entity"
    tail_label: str = "Entity"


@dataclass
class Dataset:
    """Users, items, entities (each a dict with at least ``id``), interactions and triples.

    Item dicts may carry ``title``, ``text`` (description), ``year``, ``genres`` (list[str])
    and any other scalar/list attributes; user dicts carry profile attributes (``age``,
    ``gender``, ``occupation``...); entity dicts may carry ``name``.
    """

    name: str
    users: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    interactions: list[Interaction] = field(default_factory=list)
    triples: list[Triple] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        return {
            "users": len(self.users),
            "items": len(self.items),
            "entities": len(self.entities),
            "interactions": len(self.interactions),
            "triples": len(self.triples),
            "relations": len({t.relation for t in self.triples}),
        }
