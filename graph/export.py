"""Read the whole recommendation graph out of a store into a :class:`GraphSnapshot` (numpy).

Everything is read in pages: node ids with ``SKIP/LIMIT`` over a stable order, then text,
interactions and KG edges by batches of node ids (index lookups), so a graph with millions of
edges never produces one giant reply. Learned vectors go back with :mod:`graph.writeback`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from tailgraph import cypher
from tailgraph.errors import DataValidationError
from tailgraph.graph.records import NODE_LABELS, NON_KG_TYPES, Dataset
from tailgraph.graph.schema import relationship_types
from tailgraph.graph.snapshot import EdgeKey, GraphSnapshot, Interactions
from tailgraph.graph.store import GraphStore, batched, run_query

_NODE_LABELS = frozenset(NODE_LABELS)


def export_snapshot(
    store: GraphStore,
    *,
    page_size: int = 5000,
    id_batch: int = 500,
    progress: Callable[[str], None] | None = None,
) -> GraphSnapshot:
    """Read users, items, entities, text embeddings, interactions and KG edges from ``store``.

    ``page_size`` bounds node-id pages; ``id_batch`` is how many nodes each text / edge query
    covers. ``progress`` (optional) receives one short line per stage.
    """
    say = progress or (lambda _message: None)
    ids = {label: _node_ids(store, label, page_size) for label in NODE_LABELS}
    index = {label: {node_id: i for i, node_id in enumerate(ids[label])} for label in NODE_LABELS}
    say(f"nodes: {', '.join(f'{k}={len(v)}' for k, v in ids.items())}")
    text, has_text = _texts(store, ids, index, id_batch)
    say(f"text: {', '.join(f'{k}={int(v.sum())}' for k, v in has_text.items())}")
    interactions = _interactions(store, ids["User"], index, id_batch)
    say(f"interactions: {len(interactions)}")
    kg_edges: dict[EdgeKey, tuple[np.ndarray, np.ndarray]] = {}
    for key in relation_patterns(store):
        head, _, tail = key
        edges = _relation_edges(store, key, ids[head], index[head], index[tail], id_batch)
        if len(edges[0]):
            kg_edges[key] = edges
    say(f"kg edges: {sum(len(s) for s, _ in kg_edges.values())} in {len(kg_edges)} patterns")
    return GraphSnapshot(
        user_ids=ids["User"],
        item_ids=ids["Item"],
        entity_ids=ids["Entity"],
        text=text,
        has_text=has_text,
        interactions=interactions,
        kg_edges=kg_edges,
    )


def snapshot_from_dataset(
    dataset: Dataset, text: Mapping[str, Mapping[str, Sequence[float]]] | None = None
) -> GraphSnapshot:
    """The snapshot :func:`export_snapshot` would read after ingesting ``dataset`` (no store).

    ``text`` optionally maps label -> {id: vector}; relationship types are named as ingest
    names them. For tests, benchmarks and in-memory experiments.
    """
    ids = {
        "User": sorted({str(r["id"]) for r in dataset.users}),
        "Item": sorted({str(r["id"]) for r in dataset.items}),
        "Entity": sorted({str(r["id"]) for r in dataset.entities}),
    }
    index = {label: {node_id: i for i, node_id in enumerate(ids[label])} for label in ids}
    vectors = text or {}
    dim = {len(v) for label in vectors.values() for v in label.values()}
    if len(dim) > 1:
        raise DataValidationError(f"text vectors have mixed dimensions {sorted(dim)}")
    d = dim.pop() if dim else 0
    text_out, has_text = {}, {}
    for label in NODE_LABELS:
        text_out[label] = np.zeros((len(ids[label]), d), dtype=np.float32)
        has_text[label] = np.zeros(len(ids[label]), dtype=bool)
        for node_id, vector in vectors.get(label, {}).items():
            text_out[label][index[label][node_id]] = vector
            has_text[label][index[label][node_id]] = True
    rows = dataset.interactions
    user = np.asarray([index["User"][r.user] for r in rows], dtype=np.int64)
    item = np.asarray([index["Item"][r.item] for r in rows], dtype=np.int64)
    ts = np.asarray([np.nan if r.ts is None else r.ts for r in rows], dtype=np.float64)
    rating = np.asarray([np.nan if r.rating is None else r.rating for r in rows], np.float32)
    order = np.lexsort((ts, item, user))
    types = relationship_types(t.relation for t in dataset.triples)
    grouped: dict[EdgeKey, tuple[list[int], list[int]]] = {}
    for t in dataset.triples:
        src, dst = grouped.setdefault((t.head_label, types[t.relation], t.tail_label), ([], []))
        src.append(index[t.head_label][t.head])
        dst.append(index[t.tail_label][t.tail])
    kg_edges = {}
    for key in sorted(grouped):
        src_arr = np.asarray(grouped[key][0], dtype=np.int64)
        dst_arr = np.asarray(grouped[key][1], dtype=np.int64)
        pairs = np.unique(np.stack([src_arr, dst_arr], axis=1), axis=0)  # MERGE dedupes too
        kg_edges[key] = (pairs[:, 0].copy(), pairs[:, 1].copy())
    return GraphSnapshot(
        user_ids=ids["User"],
        item_ids=ids["Item"],
        entity_ids=ids["Entity"],
        text=text_out,
        has_text=has_text,
        interactions=Interactions(user[order], item[order], rating[order], ts[order]),
        kg_edges=kg_edges,
    )


def relation_patterns(store: GraphStore) -> list[EdgeKey]:
    """Sorted (head label, type, tail label) of every KG relationship between known labels."""
    found: set[EdgeKey] = set()
    for row in run_query(store, "export_relationship_patterns"):
        if row["type"] in NON_KG_TYPES:
            continue
        heads = [x for x in row["head_labels"] or [] if x in _NODE_LABELS]
        tails = [x for x in row["tail_labels"] or [] if x in _NODE_LABELS]
        if heads and tails:
            found.add((heads[0], row["type"], tails[0]))
    return sorted(found)


def _node_ids(store: GraphStore, label: str, page_size: int) -> list[str]:
    query = cypher.render("export_node_ids", store.dialect, allowed=_NODE_LABELS, label=label)
    out: list[str] = []
    while True:
        rows = store.run(query, {"skip": len(out), "limit": page_size})
        out.extend(str(row["id"]) for row in rows)
        if len(rows) < page_size:
            break
    return sorted(out)


def _texts(
    store: GraphStore,
    ids: dict[str, list[str]],
    index: dict[str, dict[str, int]],
    id_batch: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    found: dict[str, list[tuple[int, list[float]]]] = {label: [] for label in NODE_LABELS}
    for label in NODE_LABELS:
        query = cypher.render("export_node_text", store.dialect, allowed=_NODE_LABELS, label=label)
        for batch in batched(ids[label], id_batch):
            for row in store.run(query, {"ids": batch}):
                found[label].append((index[label][str(row["id"])], row["vector"]))
    dims = {len(v) for rows in found.values() for _, v in rows}
    if len(dims) > 1:
        raise DataValidationError(
            f"textEmbedding has mixed dimensions {sorted(dims)}; re-run `tailgraph encode`",
            field="textEmbedding",
        )
    dim = dims.pop() if dims else 0
    text, has_text = {}, {}
    for label in NODE_LABELS:
        matrix = np.zeros((len(ids[label]), dim), dtype=np.float32)
        mask = np.zeros(len(ids[label]), dtype=bool)
        if found[label]:
            rows_idx = np.fromiter((i for i, _ in found[label]), dtype=np.int64)
            matrix[rows_idx] = np.asarray([v for _, v in found[label]], dtype=np.float32)
            mask[rows_idx] = True
        text[label], has_text[label] = matrix, mask
    return text, has_text


def _interactions(
    store: GraphStore, user_ids: list[str], index: dict[str, dict[str, int]], id_batch: int
) -> Interactions:
    query = cypher.load("export_interactions")
    users: list[int] = []
    items: list[int] = []
    ratings: list[float] = []
    stamps: list[float] = []
    for batch in batched(user_ids, id_batch):
        for row in store.run(query, {"ids": batch}):
            users.append(index["User"][str(row["user"])])
            items.append(index["Item"][str(row["item"])])
            ratings.append(np.nan if row["rating"] is None else float(row["rating"]))
            stamps.append(np.nan if row["ts"] is None else float(row["ts"]))
    user = np.asarray(users, dtype=np.int64)
    item = np.asarray(items, dtype=np.int64)
    ts = np.asarray(stamps, dtype=np.float64)
    order = np.lexsort((ts, item, user))  # a stable order whatever the store returned
    return Interactions(
        user=user[order],
        item=item[order],
        rating=np.asarray(ratings, dtype=np.float32)[order],
        ts=ts[order],
    )


def _relation_edges(
    store: GraphStore,
    key: EdgeKey,
    head_ids: list[str],
    head_index: dict[str, int],
    tail_index: dict[str, int],
    id_batch: int,
) -> tuple[np.ndarray, np.ndarray]:
    head, rel_type, tail = key
    query = cypher.render(
        "export_relation_edges",
        store.dialect,
        allowed=_NODE_LABELS | {rel_type},
        head=head,
        type=rel_type,
        tail=tail,
    )
    src: list[int] = []
    dst: list[int] = []
    for batch in batched(head_ids, id_batch):
        for row in store.run(query, {"ids": batch}):
            src.append(head_index[str(row["head"])])
            dst.append(tail_index[str(row["tail"])])
    src_arr, dst_arr = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    order = np.lexsort((dst_arr, src_arr))
    return src_arr[order], dst_arr[order]
