"""The one small interface every graph store implements: run Cypher, get rows as dicts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from tailgraph import cypher
from tailgraph.graph.dialect import Dialect

Row = dict[str, Any]


@runtime_checkable
class GraphStore(Protocol):
    """A Cypher graph database. Values always travel as ``$parameters``."""

    dialect: Dialect

    def run(
        self, query: str, parameters: Mapping[str, Any] | None = None, *, read_only: bool = False
    ) -> list[Row]:
        """Run one query and return its rows as dicts; ``read_only`` may route to a replica."""
        ...

    def ping(self) -> bool:
        """True when the store answers."""
        ...

    def close(self) -> None:
        """Release connections (the store itself keeps running)."""
        ...

    def clear(self) -> None:
        """Delete every node and relationship of this graph (indexes and constraints stay)."""
        ...

    def ensure_unique_id(self, label: str) -> None:
        """Create the uniqueness constraint on ``label.id`` unless it exists."""
        ...

    def ensure_vector_index(self, label: str, prop: str, dimensions: int) -> None:
        """Create a cosine vector index on ``label.prop`` unless it exists."""
        ...

    def drop_vector_index(self, label: str, prop: str) -> None:
        """Drop the vector index on ``label.prop`` if there is one."""
        ...


def run_query(
    store: GraphStore,
    name: str,
    parameters: Mapping[str, Any] | None = None,
    *,
    read_only: bool = False,
    allowed: set[str] | frozenset[str] | None = None,
    **identifiers: str,
) -> list[Row]:
    """Run the named query ``cypher/<name>.cypher`` — the one way product code runs a query
    file. ``identifiers`` fill its ``{{label}}`` placeholders (checked against ``allowed``).
    Loops over batches render once (``cypher.render``) and call ``store.run`` per batch."""
    query = cypher.render(name, store.dialect, allowed, **identifiers)
    return store.run(query, parameters, read_only=read_only)


def batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Yield lists of at most ``size`` items."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_batched(
    store: GraphStore,
    query: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    batch_size: int = 2000,
    parameters: Mapping[str, Any] | None = None,
    progress: Any | None = None,
) -> int:
    """Run ``query`` (which must ``UNWIND $rows``) over ``rows`` in batches; return rows sent."""
    sent = 0
    extra = dict(parameters or {})
    for batch in batched(rows, batch_size):
        store.run(query, {**extra, "rows": batch})
        sent += len(batch)
        if progress is not None:
            progress.update(len(batch))
    return sent
