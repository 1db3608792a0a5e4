"""The embedded default store: FalkorDB through its native Python client."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from falkordb.edge import Edge
from falkordb.node import Node
from falkordb.path import Path as FalkorPath

from tailgraph.errors import QueryError, StoreUnavailableError
from tailgraph.graph.dialect import FALKORDB, check_identifier
from tailgraph.graph.store import Row

_SCALARS = (int, float, str, bool, type(None))


def _plain(value: Any) -> Any:
    """FalkorDB result values (Node, Edge, Path) as plain dicts and lists."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Node):
        return {"_labels": list(value.labels or []), **value.properties}
    if isinstance(value, Edge):
        return {"_type": value.relation, **value.properties}
    if isinstance(value, FalkorPath):
        return {
            "nodes": [_plain(n) for n in value.nodes()],
            "relationships": [_plain(e) for e in value.edges()],
        }
    if isinstance(value, list):
        # Vectors come back as long lists of floats: skip the per-element walk for them.
        if value and isinstance(value[0], float) and isinstance(value[-1], float):
            return value
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def rewrite_log(connection: Any, timeout: float = 120.0) -> None:
    """Rewrite the server's append-only file into a fresh snapshot (``BGREWRITEAOF``) and wait
    for it, so a restart loads the snapshot instead of replaying every write since the last one
    (and erased data leaves the log). StoreUnavailableError if it fails or takes too long."""
    import redis

    try:
        try:
            connection.execute_command("BGREWRITEAOF")
        except redis.ResponseError as e:  # one already running or scheduled: wait for it
            if "in progress" not in str(e) and "scheduled" not in str(e):
                raise
        deadline = time.monotonic() + timeout
        while True:
            info = connection.info("persistence")
            if not int(info.get("aof_rewrite_in_progress", 0)) and not int(
                info.get("aof_rewrite_scheduled", 0)
            ):
                break
            if time.monotonic() > deadline:
                raise StoreUnavailableError(f"FalkorDB's log rewrite took over {timeout:.0f}s")
            time.sleep(0.05)
    except redis.RedisError as e:
        raise StoreUnavailableError(f"FalkorDB could not rewrite its log: {e}") from e
    if info.get("aof_last_bgrewrite_status", "ok") != "ok":
        raise StoreUnavailableError("FalkorDB's log rewrite failed; see its log file")


class FalkorDBStore:
    """A :class:`~tailgraph.graph.store.GraphStore` over one FalkorDB graph key."""

    dialect = FALKORDB

    def __init__(self, client: Any, graph_name: str = "tailgraph") -> None:
        self._client = client
        self.graph_name = graph_name
        self._graph = client.select_graph(graph_name)

    def run(
        self, query: str, parameters: Mapping[str, Any] | None = None, *, read_only: bool = False
    ) -> list[Row]:
        import redis

        params = dict(parameters) if parameters else None
        try:
            if read_only:
                result = self._graph.ro_query(query, params)
            else:
                result = self._graph.query(query, params)
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as e:
            raise StoreUnavailableError(f"FalkorDB is not reachable: {e}") from e
        except redis.AuthenticationError as e:
            raise StoreUnavailableError(f"FalkorDB rejected the password: {e}") from e
        except redis.ResponseError as e:
            raise QueryError(f"FalkorDB rejected the query: {e}") from e
        if not result.header:
            return []
        columns = [column[1] for column in result.header]
        return [
            {c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in result.result_set
        ]

    def ping(self) -> bool:
        try:
            return bool(self._client.connection.ping())
        except Exception:  # any failure means unreachable
            return False

    def ensure_unique_id(self, label: str) -> None:
        """Exact-match index plus unique constraint on ``label.id`` (idempotent)."""
        label = check_identifier(label)
        existing = {c["label"] for c in self.list_constraints() if c.get("type") == "UNIQUE"}
        if label in existing:
            return
        indexed = {row["label"] for row in self.run("CALL db.indexes() YIELD label RETURN label")}
        if label not in indexed:
            for statement in self.dialect.unique_id_ddl(label):
                self.run(statement)
        try:
            self._graph.create_node_unique_constraint(label, "id")
        except Exception as e:  # mapped below
            if "already exists" not in str(e):
                raise QueryError(f"could not create unique constraint on {label}.id: {e}") from e
        # FalkorDB logs a constraint command twice, and its replay then fails with "Constraint
        # already exists": fold it into a snapshot at once so no restart ever replays it.
        self.checkpoint()

    def ensure_vector_index(self, label: str, prop: str, dimensions: int) -> None:
        """Create a cosine vector index on ``label.prop`` unless one exists."""
        rows = self.run(
            "CALL db.indexes() YIELD label, properties, types RETURN label, properties, types"
        )
        for row in rows:
            if row["label"] == label and "VECTOR" in (row["types"] or {}).get(prop, []):
                return
        self.run(self.dialect.vector_index_ddl(label, prop, dimensions))

    def drop_vector_index(self, label: str, prop: str) -> None:
        """Drop the vector index on ``label.prop`` if present (before changing dimensions)."""
        try:
            self.run(
                f"DROP VECTOR INDEX FOR (n:{check_identifier(label)}) "
                f"ON (n.{check_identifier(prop)})"
            )
        except QueryError:
            pass

    def list_constraints(self) -> list[dict[str, Any]]:
        try:
            return list(self._graph.list_constraints())
        except Exception:  # an empty graph has no constraints yet
            return []

    def clear(self) -> None:
        """Delete the whole graph (tests and ``ingest --replace``)."""
        try:
            self._graph.delete()
        except Exception:  # deleting a graph that does not exist
            pass
        self._graph = self._client.select_graph(self.graph_name)

    def checkpoint(self, timeout: float = 120.0) -> None:
        """Compact the server's log into a snapshot now (after bulk writes and erasures)."""
        rewrite_log(self._client.connection, timeout=timeout)

    def close(self) -> None:
        try:
            self._client.connection.close()
        except Exception:
            pass
