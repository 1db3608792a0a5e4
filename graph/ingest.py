"""Write a :class:`Dataset` into a graph store with idempotent, batched ``MERGE`` statements.

Order: unique-id constraints, then users, items, entities, interactions and KG triples (one
query per (head label, relationship type, tail label) group, rendered from
``merge_triples.cypher`` with validated identifiers). Running it twice leaves the same graph.
The dataset is checked first — every endpoint exists, ids are unique, properties are storable —
so a bad dataset raises :class:`DataValidationError` before anything is written.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from tailgraph import cypher
from tailgraph.errors import DataValidationError
from tailgraph.graph.records import (
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    NODE_LABELS,
    Dataset,
    property_limit,
    string_problem,
)
from tailgraph.graph.schema import relationship_types
from tailgraph.graph.store import GraphStore, run_batched, run_query

_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class IngestReport:
    """What an ingest left in the store and how fast it went."""

    nodes: dict[str, int]  # label -> nodes in the store after ingest
    relationships: dict[str, int]  # relationship type -> relationships in the store
    rows_written: int  # rows sent to the store (nodes + interactions + triples)
    seconds: float
    rows_per_second: float

    def lines(self) -> list[str]:
        """Throughput, then one aligned line per label and relationship type."""
        out = [f"ingested in {self.seconds:.1f}s ({self.rows_per_second:,.0f} rows/s)"]
        out += [f"  (:{label}) {count:>10,}" for label, count in sorted(self.nodes.items())]
        out += [f"  [:{rel}] {count:>10,}" for rel, count in sorted(self.relationships.items())]
        return out


def _excerpt(value: Any, limit: int = 60) -> str:
    """``repr`` of a value cut to ``limit`` characters (errors never echo a whole field)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _props(record: Mapping[str, Any], source: str, index: int) -> dict[str, Any]:
    """Null-free properties of one node record (everything but ``id``), checked storable."""
    props: dict[str, Any] = {}
    for key, value in record.items():
        if key == "id" or value is None:
            continue
        if isinstance(value, tuple):
            value = list(value)
        if isinstance(value, list):
            if not value:
                continue
            ok = all(isinstance(v, _SCALARS) for v in value)
        else:
            ok = isinstance(value, _SCALARS)
        if not ok or (isinstance(value, float) and not math.isfinite(value)):
            raise DataValidationError(
                f"property value {_excerpt(value)} is not a string, number, boolean or list of "
                "them",
                source=source,
                field=f"[{index}].{key}",
            )
        limit, free_text = property_limit(key)
        for element in value if isinstance(value, list) else (value,):
            if isinstance(element, float) and not math.isfinite(element):
                raise DataValidationError(
                    f"expected a finite number, found {element!r}",
                    source=source,
                    field=f"[{index}].{key}",
                )
            problem = (
                string_problem(element, limit, free_text=free_text)
                if isinstance(element, str)
                else None
            )
            if problem:
                raise DataValidationError(
                    f"value {_excerpt(element)} {problem}", source=source, field=f"[{index}].{key}"
                )
        props[key] = value
    return props


def _node_rows(records: Iterable[Mapping[str, Any]], source: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, record in enumerate(records):
        node_id = record.get("id")
        if not isinstance(node_id, str) or not node_id:
            raise DataValidationError(
                f"id must be a non-empty string, found {_excerpt(node_id)}",
                source=source,
                field=f"[{index}].id",
            )
        problem = string_problem(node_id, MAX_ID_LENGTH)
        if problem:
            raise DataValidationError(
                f"id {_excerpt(node_id)} {problem}", source=source, field=f"[{index}].id"
            )
        if node_id in seen:
            raise DataValidationError(
                f"duplicate id {_excerpt(node_id)}", source=source, field=f"[{index}].id"
            )
        seen.add(node_id)
        rows.append({"id": node_id, "props": _props(record, source, index)})
    return rows


def _interaction_rows(dataset: Dataset, users: set[str], items: set[str]) -> list[dict[str, Any]]:
    source = f"{dataset.name}.interactions"
    rows = []
    for index, interaction in enumerate(dataset.interactions):
        if interaction.user not in users:
            raise DataValidationError(
                f"unknown user {interaction.user!r}", source=source, field=f"[{index}].user"
            )
        if interaction.item not in items:
            raise DataValidationError(
                f"unknown item {interaction.item!r}", source=source, field=f"[{index}].item"
            )
        rows.append(
            {
                "user": interaction.user,
                "item": interaction.item,
                "rating": None if interaction.rating is None else float(interaction.rating),
                "ts": None if interaction.ts is None else float(interaction.ts),
            }
        )
    return rows


TripleGroup = tuple[str, str, str, str]  # head label, relationship type, tail label, relation


def _triple_groups(
    dataset: Dataset, ids: Mapping[str, set[str]]
) -> dict[TripleGroup, list[dict[str, str]]]:
    source = f"{dataset.name}.triples"
    types = relationship_types(t.relation for t in dataset.triples)
    groups: dict[TripleGroup, list[dict[str, str]]] = defaultdict(list)
    for index, triple in enumerate(dataset.triples):
        problem = (
            string_problem(triple.relation, MAX_NAME_LENGTH)
            if isinstance(triple.relation, str) and triple.relation
            else "is not a non-empty string"
        )
        if problem:
            raise DataValidationError(
                f"relation {_excerpt(triple.relation)} {problem}",
                source=source,
                field=f"[{index}].relation",
            )
        for end, label, node in (
            ("head", triple.head_label, triple.head),
            ("tail", triple.tail_label, triple.tail),
        ):
            if label not in ids:
                raise DataValidationError(
                    f"label {label!r} is not one of {', '.join(NODE_LABELS)}",
                    source=source,
                    field=f"[{index}].{end}_label",
                )
            if node not in ids[label]:
                raise DataValidationError(
                    f"unknown {label} {node!r}", source=source, field=f"[{index}].{end}"
                )
        key = (triple.head_label, types[triple.relation], triple.tail_label, triple.relation)
        groups[key].append({"head": triple.head, "tail": triple.tail})
    return groups


def counts(store: GraphStore) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label (:data:`NODE_LABELS`) and relationships per type in the store."""
    nodes = {
        r["label"]: int(r["count"])
        for r in run_query(store, "count_nodes")
        if r["label"] in NODE_LABELS
    }
    rels = {r["type"]: int(r["count"]) for r in run_query(store, "count_relationships")}
    return nodes, rels


def stored_dataset(store: GraphStore) -> dict[str, Any]:
    """What the graph holds: ``name`` of the dataset recorded by a guarded ingest (None when
    none was), its recorded sizes, and ``stored_items``, the items now in the graph."""
    rows = run_query(store, "dataset_read")
    return rows[0] if rows else {"name": None, "stored_items": 0}


class DifferentDatasetError(DataValidationError):
    """The graph already holds another dataset; ingesting would merge the two."""


def check_dataset(store: GraphStore, name: str) -> None:
    """Refuse to merge dataset ``name`` into a graph holding another dataset's nodes (or
    items that no guarded ingest recorded): :class:`DifferentDatasetError` says what to do."""
    held = stored_dataset(store)
    if held.get("name") == name or not held.get("stored_items"):
        return
    what = (
        f"dataset {held['name']!r} ({held.get('items')} items)"
        if held.get("name")
        else f"{held['stored_items']:,} items that no `tailgraph ingest` recorded"
    )
    raise DifferentDatasetError(
        f"the graph already holds {what}; ingesting {name!r} would merge the two. Pass "
        "--replace to clear it first, or ingest into another graph with --graph NAME "
        "(TAILGRAPH_GRAPH_NAME; FalkorDB) or another TAILGRAPH_NEO4J_DATABASE (Neo4j)"
    )


def record_dataset(store: GraphStore, dataset: Dataset) -> None:
    """Mark the graph as holding ``dataset`` (its name and sizes), read by :func:`check_dataset`."""
    props = {
        "name": dataset.name,
        "users": len(dataset.users),
        "items": len(dataset.items),
        "interactions": len(dataset.interactions),
    }
    run_query(store, "dataset_record", {"props": props})


def ingest(
    store: GraphStore,
    dataset: Dataset,
    *,
    batch_size: int = 5000,
    progress: bool = True,
    replace: bool = False,
    guard: bool = False,
) -> IngestReport:
    """Validate ``dataset``, then MERGE it into ``store``; ``replace`` clears the store first.

    With ``guard`` (the CLI's and the demo's ingest), a graph holding another dataset is
    refused (:func:`check_dataset`) and the dataset's name is recorded in the graph.
    """
    started = time.perf_counter()
    node_rows = {
        "User": _node_rows(dataset.users, f"{dataset.name}.users"),
        "Item": _node_rows(dataset.items, f"{dataset.name}.items"),
        "Entity": _node_rows(dataset.entities, f"{dataset.name}.entities"),
    }
    ids = {label: {row["id"] for row in rows} for label, rows in node_rows.items()}
    interaction_rows = _interaction_rows(dataset, ids["User"], ids["Item"])
    triple_groups = _triple_groups(dataset, ids)

    if replace:
        store.clear()
    elif guard:
        check_dataset(store, dataset.name)
    for label in NODE_LABELS:
        store.ensure_unique_id(label)

    total = (
        sum(len(rows) for rows in node_rows.values())
        + len(interaction_rows)
        + sum(len(rows) for rows in triple_groups.values())
    )
    written = 0
    with tqdm(total=total, disable=not progress, unit="rows", desc="ingest") as bar:
        for label, rows in node_rows.items():
            bar.set_description(f"ingest {label}")
            query = cypher.render("merge_nodes", store.dialect, set(NODE_LABELS), label=label)
            written += run_batched(store, query, rows, batch_size=batch_size, progress=bar)
        bar.set_description("ingest INTERACTED")
        written += run_batched(
            store,
            cypher.load("merge_interactions"),
            interaction_rows,
            batch_size=batch_size,
            progress=bar,
        )
        for (head_label, rel_type, tail_label, relation), rows in sorted(triple_groups.items()):
            bar.set_description(f"ingest {rel_type}")
            query = cypher.render(
                "merge_triples",
                store.dialect,
                head_label=head_label,
                rel_type=rel_type,
                tail_label=tail_label,
            )
            written += run_batched(
                store,
                query,
                rows,
                batch_size=batch_size,
                parameters={"relation": relation},
                progress=bar,
            )

    if guard:
        record_dataset(store, dataset)
    run_query(store, "entity_item_counts")  # each entity's specificity, read per request
    nodes, relationships = counts(store)
    checkpoint = getattr(store, "checkpoint", None)
    if checkpoint is not None:  # a bulk write: compact the store's log so restarts are quick
        checkpoint()
    seconds = time.perf_counter() - started
    return IngestReport(
        nodes=nodes,
        relationships=relationships,
        rows_written=written,
        seconds=seconds,
        rows_per_second=written / seconds if seconds > 0 else float("inf"),
    )
