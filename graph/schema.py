"""Graph schema: node labels and how source KG relation names become relationship types.

A relation such as ``film.film.directed_by`` becomes the relationship type ``DIRECTED_BY``
(its last dotted segment in upper snake case); the original name is kept on every
relationship in a ``relation`` property. When two relations of one dataset would get the same
type, :func:`relationship_types` uses more segments (``film.film.genre`` -> ``FILM_GENRE``,
``tv.tv_program.genre`` -> ``TV_PROGRAM_GENRE``) so the mapping stays one-to-one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from tailgraph.graph.records import INTERACTED, NODE_LABELS, RECOMMENDED

__all__ = [
    "NODE_LABELS",
    "RESERVED_TYPES",
    "relationship_type",
    "relationship_types",
]

# Relationship types with a fixed meaning; no KG relation may be mapped onto them.
RESERVED_TYPES = frozenset({INTERACTED, RECOMMENDED})

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
_FALLBACK = "RELATED_TO"


def _segment(text: str) -> str:
    """One dotted segment in upper snake case: ``directedBy``/``directed-by`` -> ``DIRECTED_BY``."""
    text = _CAMEL_BOUNDARY.sub("_", text)
    return _NOT_WORD.sub("_", text).strip("_").upper()


def _segments(relation: str) -> list[str]:
    return [s for s in (_segment(part) for part in relation.split(".")) if s]


def _join(parts: list[str]) -> str:
    name = "_".join(parts) or _FALLBACK
    return f"R_{name}" if name[0].isdigit() else name


def relationship_type(relation: str) -> str:
    """The relationship type for one relation name, on its own (last segment, upper snake)."""
    parts = _segments(relation)
    name = _join(parts[-1:])
    return f"KG_{name}" if name in RESERVED_TYPES else name


def relationship_types(relations: Iterable[str]) -> dict[str, str]:
    """A one-to-one mapping from every relation name to a relationship type.

    Each relation starts with its last segment; relations whose names collide (or hit a
    reserved type) take one more segment from the left, repeatedly, until all names are
    distinct. Names that still collide once every segment is used get ``_2``, ``_3`` ...
    in sorted order, so the result is deterministic.
    """
    unique = sorted(set(relations))
    parts = {r: _segments(r) for r in unique}
    depth = dict.fromkeys(unique, 1)

    def name_of(relation: str) -> str:
        return _join(parts[relation][-depth[relation] :])

    while True:
        groups: dict[str, list[str]] = defaultdict(list)
        for relation in unique:
            groups[name_of(relation)].append(relation)
        grew = False
        for name, members in groups.items():
            if len(members) > 1 or name in RESERVED_TYPES:
                for relation in members:
                    if depth[relation] < len(parts[relation]):
                        depth[relation] += 1
                        grew = True
        if not grew:
            break

    result: dict[str, str] = {}
    taken: set[str] = set()
    for name, members in sorted(groups.items()):
        base = f"KG_{name}" if name in RESERVED_TYPES else name
        suffix = 1
        for relation in members:
            candidate = base if suffix == 1 else f"{base}_{suffix}"
            # A suffixed name must not steal a name another group legitimately holds.
            while candidate in taken or (candidate != name and candidate in groups):
                suffix += 1
                candidate = f"{base}_{suffix}"
            taken.add(candidate)
            result[relation] = candidate
            suffix += 1
    return result
