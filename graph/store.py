"""The one small interface every graph store implements: run Cypher, get rows as dicts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

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
