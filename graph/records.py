"""In-memory form of a dataset between a loader and the store: plain records, no I/O.

Every loader (RecBole atomic, KGAT, MovieLens, CSV, synthetic) produces a :class:`Dataset`;
``graph.ingest`` writes one into the store. Ids are strings, namespaced by label.
"""

from __future__ import annotations

import re
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


# -- what both stores accept, checked the same way by ingest and the API ----------------------
MAX_ID_LENGTH = 512  # characters in a user, item or entity id
MAX_TITLE_LENGTH = 500  # an item's title
MAX_NAME_LENGTH = 1_000  # an entity name, relation name, genre or other short property
MAX_TEXT_LENGTH = 10_000  # an item description or any other string property

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # no control character at all (ids, names)
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab and newlines allowed
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def string_problem(value: str, max_length: int, *, free_text: bool = False) -> str | None:
    """Why ``value`` cannot be stored, or None: over-long, a control character (tab and line
    breaks allowed in ``free_text``) or a lone surrogate (not encodable as UTF-8). The FalkorDB
    client inlines values into the query text, where a NUL breaks the query."""
    if len(value) > max_length:
        return f"is {len(value):,} characters long (at most {max_length:,})"
    match = (_TEXT_CONTROL if free_text else _CONTROL).search(value)
    if match:
        return f"contains the control character {match.group()!r} at position {match.start()}"
    match = _SURROGATE.search(value)
    if match:
        return f"contains a lone surrogate {match.group()!r} at position {match.start()}"
    return None


def property_limit(key: str) -> tuple[int, bool]:
    """(maximum length, free text allowed) for a string property called ``key``."""
    if key == "title":
        return MAX_TITLE_LENGTH, False
    if key in ("name", "genres"):
        return MAX_NAME_LENGTH, False
    return MAX_TEXT_LENGTH, True
