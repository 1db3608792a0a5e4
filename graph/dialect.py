"""Every difference between FalkorDB's and Neo4j's Cypher lives here and nowhere else.

Differences covered: unique-id constraint DDL, vector values (FalkorDB needs ``vecf32``),
vector index DDL, and the vector query procedure (whose scores are normalised to cosine
similarity so callers never see the engines' different conventions).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_identifier(name: str, *, allowed: set[str] | frozenset[str] | None = None) -> str:
    """Return ``name`` if it is a safe label/relationship identifier (and in ``allowed``)."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise ValueError(f"not a valid Cypher identifier: {name!r}")
    if allowed is not None and name not in allowed:
        raise ValueError(f"identifier {name!r} is not one of the validated names {sorted(allowed)}")
    return name


@dataclass(frozen=True)
class Dialect:
    """Base: Cypher shared by both engines; subclasses override the few differences."""

    name: str = "base"

    def vector_value(self, expression: str) -> str:
        """Cypher expression that stores the list ``expression`` as a vector property."""
        return expression

    def unique_id_ddl(self, label: str) -> list[str]:
        """Statements creating a unique constraint / index on ``label.id``."""
        raise NotImplementedError

    def vector_index_ddl(self, label: str, prop: str, dimensions: int) -> str:
        raise NotImplementedError

    def vector_query(self, label: str, prop: str, k: str, vector: str) -> str:
        """A ``CALL ... YIELD`` clause binding ``node`` and ``similarity`` (cosine, in [-1, 1])."""
        raise NotImplementedError

    def vector_index_name(self, label: str, prop: str) -> str:
        return f"{check_identifier(label).lower()}_{check_identifier(prop).lower()}"


@dataclass(frozen=True)
class FalkorDBDialect(Dialect):
    name: str = "falkordb"

    def vector_value(self, expression: str) -> str:
        return f"vecf32({expression})"

    def unique_id_ddl(self, label: str) -> list[str]:
        # The unique constraint itself is created with the client's API (GRAPH.CONSTRAINT);
        # it requires this exact-match index first.
        return [f"CREATE INDEX FOR (n:{check_identifier(label)}) ON (n.id)"]

    def vector_index_ddl(self, label: str, prop: str, dimensions: int) -> str:
        return (
            f"CREATE VECTOR INDEX FOR (n:{check_identifier(label)}) "
            f"ON (n.{check_identifier(prop)}) OPTIONS {{dimension: {int(dimensions)}, "
            "similarityFunction: 'cosine', efRuntime: 200}"
        )

    def vector_query(self, label: str, prop: str, k: str, vector: str) -> str:
        # FalkorDB yields cosine *distance* (1 - cos).
        return (
            f"CALL db.idx.vector.queryNodes('{check_identifier(label)}', "
            f"'{check_identifier(prop)}', {k}, vecf32({vector})) YIELD node, score "
            "WITH node, 1.0 - score AS similarity"
        )


@dataclass(frozen=True)
class Neo4jDialect(Dialect):
    name: str = "neo4j"

    def unique_id_ddl(self, label: str) -> list[str]:
        label = check_identifier(label)
        return [
            f"CREATE CONSTRAINT {label.lower()}_id_unique IF NOT EXISTS "
            f"FOR (n:{label}) REQUIRE n.id IS UNIQUE"
        ]

    def vector_index_ddl(self, label: str, prop: str, dimensions: int) -> str:
        # Quantization (on by default since 5.23) scores against int8 copies of the vectors,
        # so even an identical direction does not score 1: off, scores are exact cosines.
        name = self.vector_index_name(label, prop)
        return (
            f"CREATE VECTOR INDEX {name} IF NOT EXISTS FOR (n:{check_identifier(label)}) "
            f"ON (n.{check_identifier(prop)}) OPTIONS {{indexConfig: {{"
            f"`vector.dimensions`: {int(dimensions)}, `vector.similarity_function`: 'cosine', "
            "`vector.quantization.enabled`: false}}"
        )

    def vector_query(self, label: str, prop: str, k: str, vector: str) -> str:
        # Neo4j yields (1 + cos) / 2 for cosine indexes.
        name = self.vector_index_name(label, prop)
        return (
            f"CALL db.index.vector.queryNodes('{name}', {k}, {vector}) YIELD node, score "
            "WITH node, 2.0 * score - 1.0 AS similarity"
        )


FALKORDB = FalkorDBDialect()
NEO4J = Neo4jDialect()
