"""The production store: Neo4j 5 through the official driver's ``execute_query``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tailgraph.errors import QueryError, StoreUnavailableError
from tailgraph.graph.dialect import NEO4J, check_identifier
from tailgraph.graph.store import Row

_ALREADY_EXISTS = "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists"
_SCALARS = frozenset({str, int, float, bool, type(None)})  # returned as they are


def _plain(value: Any) -> Any:
    """Neo4j graph values as plain dicts and lists (mirrors the FalkorDB store)."""
    if type(value) in _SCALARS:
        return value
    from neo4j.graph import Node, Path, Relationship

    if isinstance(value, Node):
        return {"_labels": sorted(value.labels), **dict(value)}
    if isinstance(value, Relationship):
        return {"_type": value.type, **dict(value)}
    if isinstance(value, Path):
        return {
            "nodes": [_plain(n) for n in value.nodes],
            "relationships": [_plain(r) for r in value.relationships],
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class Neo4jStore:
    """A :class:`~tailgraph.graph.store.GraphStore` over a Neo4j database (accepts a driver)."""

    dialect = NEO4J

    def __init__(self, driver: Any, database: str = "neo4j") -> None:
        self._driver = driver
        self.database = database

    def run(
        self, query: str, parameters: Mapping[str, Any] | None = None, *, read_only: bool = False
    ) -> list[Row]:
        from neo4j import RoutingControl
        from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable, SessionExpired

        try:
            records, _summary, keys = self._driver.execute_query(
                query,
                dict(parameters or {}),
                database_=self.database,
                routing_=RoutingControl.READ if read_only else RoutingControl.WRITE,
            )
        except (ServiceUnavailable, SessionExpired) as e:
            raise StoreUnavailableError(f"Neo4j is not reachable: {e}") from e
        except AuthError as e:
            raise StoreUnavailableError(f"Neo4j rejected the user or password: {e}") from e
        except Neo4jError as e:
            raise QueryError(f"Neo4j rejected the query: {e}") from e
        return [
            {k: v if type(v) in _SCALARS else _plain(v) for k, v in zip(keys, record, strict=True)}
            for record in records
        ]

    def ping(self) -> bool:
        try:
            self._driver.verify_connectivity()
        except Exception:  # any failure means unreachable
            return False
        return True

    def ensure_unique_id(self, label: str) -> None:
        for statement in self.dialect.unique_id_ddl(check_identifier(label)):
            self._create_schema(statement)

    def _create_schema(self, statement: str) -> None:
        """Run a ``CREATE ... IF NOT EXISTS``; when two clients (a service's workers starting
        together) race, the loser is told an equivalent rule exists: what it wanted."""
        try:
            self.run(statement)
        except QueryError as e:
            if getattr(e.__cause__, "code", None) != _ALREADY_EXISTS:
                raise

    def list_constraints(self) -> list[dict[str, Any]]:
        """Constraints in the FalkorDB store's shape: ``label``, ``properties``, ``type``."""
        rows = self.run(
            "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type, entityType "
            "WHERE entityType = 'NODE' RETURN labelsOrTypes, properties, type"
        )
        return [
            {
                "label": row["labelsOrTypes"][0],
                "properties": row["properties"],
                "type": "UNIQUE" if row["type"] == "UNIQUENESS" else row["type"],
            }
            for row in rows
        ]

    def ensure_vector_index(self, label: str, prop: str, dimensions: int) -> None:
        self._create_schema(self.dialect.vector_index_ddl(label, prop, dimensions))

    def drop_vector_index(self, label: str, prop: str) -> None:
        self.run(f"DROP INDEX {self.dialect.vector_index_name(label, prop)} IF EXISTS")

    def clear(self) -> None:
        """Delete every node and relationship in the database."""
        self.run("MATCH (n) DETACH DELETE n")

    def close(self) -> None:
        self._driver.close()
