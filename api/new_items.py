"""``POST /items``: add an item with KG links and give it a vector at once, so it can be
recommended before the next training run.

The vector is TailGNN's neighbour transfer (:mod:`tailgraph.gnn.transfer`, what the model itself
does for items without interactions) over the loaded model's vectors. The candidates it borrows
from are bounded reads: the items nearest by BERT text and those sharing its KG entities (capped
per entity). With no candidate of positive similarity the item is stored but cannot be scored
until retraining (``none``). The requesting model's vector is also written as the node's
``embedding`` (for the vector index); the other loaded models get theirs in memory only.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import defaultdict

import numpy as np

from tailgraph.api import candidates as cand
from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.schemas import EmbeddingKind, ItemCreated, NewItem
from tailgraph.api.scoring import Scorer
from tailgraph.api.text_index import TextIndex
from tailgraph.encoders.cache import text_hash
from tailgraph.encoders.text import item_text
from tailgraph.errors import ConflictError, DataValidationError, NotFoundError
from tailgraph.gnn.transfer import entity_weights, transfer
from tailgraph.graph.dialect import check_identifier
from tailgraph.graph.records import NON_KG_TYPES
from tailgraph.graph.store import GraphStore, run_query
from tailgraph.graph.writeback import write_embeddings


def kg_relation_types(store: GraphStore) -> frozenset[str]:
    """The validated set: relationship types present in the graph, minus non-KG ones."""
    rows = run_query(store, "item_relation_types", read_only=True)
    return frozenset(str(row["type"]) for row in rows) - NON_KG_TYPES


def kg_similarities(
    store: GraphStore, item_id: str, entity_ids: list[str], candidates: list[str]
) -> np.ndarray:
    """Cosine of the new item's weighted entity links with each candidate's (zeros without
    links); weights :func:`~tailgraph.gnn.transfer.entity_weights`."""
    similarity = np.zeros(len(candidates), dtype=np.float32)
    if not entity_ids or not candidates:
        return similarity
    links: dict[str, set[str]] = defaultdict(set)
    for row in run_query(store, "item_entity_links", {"item_ids": candidates}, read_only=True):
        links[str(row["item_id"])].add(str(row["entity_id"]))
    entities = sorted(set(entity_ids).union(*links.values()))
    degree = {e: 0 for e in entities}
    parameters = {"entity_ids": entities}
    for row in run_query(store, "entity_item_degrees", parameters, read_only=True):
        degree[str(row["entity_id"])] = int(row["degree"])
    weights = entity_weights(np.array([degree[e] for e in entities]))
    weight = dict(zip(entities, weights.tolist(), strict=True))
    own = set(entity_ids)
    own_norm = float(np.sqrt(sum(weight[e] ** 2 for e in own)))
    for n, candidate in enumerate(candidates):
        theirs = links.get(candidate, set())
        norm = own_norm * float(np.sqrt(sum(weight[e] ** 2 for e in theirs)))
        if norm > 0:
            similarity[n] = sum(weight[e] ** 2 for e in own & theirs) / norm
    return similarity


def inductive_vector(
    store: GraphStore,
    scorer: Scorer,
    texts: TextIndex,
    item_id: str,
    text_vector: np.ndarray,
    entity_ids: list[str],
    limits: ExpansionLimits,
) -> tuple[np.ndarray | None, EmbeddingKind, list[str]]:
    """(vector or None, what it came from, text neighbours) — see the module docstring."""
    matches = texts.nearest(
        store, text_vector, limits.max_text_neighbours, scorer.has_item, exclude={item_id}
    )
    text_ids = [i for i, _ in matches]
    shared: list[str] = []
    if entity_ids:
        rows = run_query(
            store,
            "item_entity_neighbours",
            {
                "entity_ids": entity_ids,
                "item_id": item_id,
                "per_entity": limits.max_neighbours_per_entity,
            },
            read_only=True,
        )
        shared = [i for i in dict.fromkeys(str(r["item_id"]) for r in rows) if scorer.has_item(i)]
    candidates = list(dict.fromkeys([*text_ids, *shared]))
    if not candidates:
        return None, "none", text_ids
    by_text = texts.cosines(store, text_vector, candidates).clip(min=0.0)
    by_kg = kg_similarities(store, item_id, entity_ids, candidates)
    vector, best = transfer(
        scorer.item_vectors(candidates), by_text, by_kg, scale=scorer.transfer_scale
    )
    if vector is None:
        return None, "none", text_ids
    kinds: dict[tuple[bool, bool], EmbeddingKind] = {
        (True, True): "text+kg",
        (True, False): "text",
        (False, True): "kg",
    }
    return vector, kinds[(bool(by_text[best].max() > 0), bool(by_kg[best].max() > 0))], text_ids


_ITEM_LOCKS: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
_ITEM_LOCKS_GUARD = threading.Lock()


def _item_lock(item_id: str) -> threading.Lock:
    """One lock per item id in this process: concurrent writes of one item run in turn."""
    with _ITEM_LOCKS_GUARD:
        return _ITEM_LOCKS[item_id]


def payload_hash(body: NewItem) -> str:
    """What identifies a request body: a retry of the same body has the same hash."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def add_item(
    store: GraphStore,
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    body: NewItem,
    limits: ExpansionLimits,
) -> tuple[ItemCreated, bool]:
    """Validate, compute every vector, then write the item and its links; (answer, created).

    Reads come first, so a failure there writes nothing; the item node (properties, text and
    learned vectors) is one statement, its links follow, and a failure after the node exists
    deletes it again before the error is raised. The same body posted again is answered as
    the first time (``created`` False) and finishes a write an earlier call left pending; a
    different body for an existing id is a ConflictError.
    """
    with _item_lock(body.item_id):
        return _add_item(store, scorer, others, texts, body, limits)


def _add_item(
    store: GraphStore,
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    body: NewItem,
    limits: ExpansionLimits,
) -> tuple[ItemCreated, bool]:
    digest = payload_hash(body)
    allowed = kg_relation_types(store)
    by_type: dict[str, list[str]] = defaultdict(list)
    for link in body.links:
        try:
            check_identifier(link.relation, allowed=allowed)
        except ValueError as e:
            raise DataValidationError(
                f"relation {link.relation!r} is not a KG relationship type in the graph "
                f"(known: {', '.join(sorted(allowed)) or 'none'})",
                field="links",
            ) from e
        by_type[link.relation].append(link.entity_id)
    entity_ids = list(dict.fromkeys(link.entity_id for link in body.links))
    cand.require_entities(store, entity_ids)

    props = {
        key: value
        for key, value in (
            ("title", body.title),
            ("text", body.text),
            ("year", body.year),
            ("genres", body.genres or None),
        )
        if value is not None
    }
    text = item_text(props) or body.title
    text_vector = texts.encode([text])[0]
    model_id = getattr(texts.encoder, "model_id", "")
    vector, kind, text_ids = inductive_vector(
        store, scorer, texts, body.item_id, text_vector, entity_ids, limits
    )
    extras: dict[int, np.ndarray] = {}
    for n, other in enumerate(others):
        if other is scorer or other.has_item(body.item_id):
            continue
        extra, _, _ = inductive_vector(
            store, other, texts, body.item_id, text_vector, entity_ids, limits
        )
        if extra is not None:
            extras[n] = extra

    token = uuid.uuid4().hex
    rows = run_query(
        store,
        "item_create",
        {
            "item_id": body.item_id,
            "props": props,
            "text_embedding": [float(x) for x in text_vector],
            "text_hash": text_hash(model_id, text),
            "payload_hash": digest,
            "token": token,
            "embedding": None if vector is None else [float(x) for x in vector],
        },
    )
    state = rows[0]
    created = bool(state["created"])
    if not created and state["payload_hash"] != digest:
        raise ConflictError(f"item {body.item_id!r} already exists with different content")
    if created or state["pending"]:  # ours, or a same-body write an earlier call left unfinished
        try:
            written = _write_links(store, body.item_id, by_type, entity_ids, allowed)
        except BaseException:
            if created:
                _delete_quietly(store, body.item_id)
            raise
        if not created and vector is not None:  # the node may predate this vector
            write_embeddings(store, "Item", [body.item_id], vector[None])
    else:
        written = _count_links(store, body.item_id)

    if vector is not None and not scorer.has_item(body.item_id):
        scorer.add_item(body.item_id, vector)
    for n, extra in extras.items():
        if not others[n].has_item(body.item_id):
            others[n].add_item(body.item_id, extra)
    texts.add(store, body.item_id, text_vector)
    answer = ItemCreated(
        item_id=body.item_id,
        links=written,
        model=scorer.model_name,
        version=scorer.version,
        embedding=kind,
        text_neighbours=text_ids,
    )
    return answer, created


def _write_links(
    store: GraphStore,
    item_id: str,
    by_type: dict[str, list[str]],
    entity_ids: list[str],
    allowed: frozenset[str],
) -> int:
    """MERGE the item's KG links (idempotent), refresh the entities' counts, mark it done."""
    written = 0
    for rel_type, ids in by_type.items():
        name_rows = run_query(
            store, "item_relation_name", read_only=True, allowed=allowed, rel_type=rel_type
        )
        result = run_query(
            store,
            "item_link_entities",
            {
                "item_id": item_id,
                "entity_ids": list(dict.fromkeys(ids)),
                "relation": name_rows[0]["relation"] if name_rows else None,
            },
            allowed=allowed,
            rel_type=rel_type,
        )
        written += int(result[0]["written"]) if result else 0
    if entity_ids:  # the linked entities now link one more item
        run_query(store, "entity_item_counts_of", {"entity_ids": entity_ids})
    run_query(store, "item_complete", {"item_id": item_id})
    return written


def _count_links(store: GraphStore, item_id: str) -> int:
    rows = run_query(store, "item_entity_links", {"item_ids": [item_id]}, read_only=True)
    return len(rows)


def _delete_quietly(store: GraphStore, item_id: str) -> None:
    """Undo a half-written item; if the store is gone too, the next call replaces it."""
    try:
        delete_item_node(store, item_id)
    except Exception:  # the original error is the one to report
        pass


def delete_item_node(store: GraphStore, item_id: str) -> bool:
    """Delete the item and its relationships from the store, refreshing its entities' counts;
    False when there is no such item."""
    rows = run_query(store, "item_delete", {"item_id": item_id})
    if not rows:
        return False
    entity_ids = [str(e) for e in rows[0]["entity_ids"] or []]
    if entity_ids:
        run_query(store, "entity_item_counts_of", {"entity_ids": entity_ids})
    return True


def delete_item(store: GraphStore, scorers: list[Scorer], item_id: str) -> None:
    """``DELETE /items/{id}``: the item leaves the store and every loaded model at once."""
    with _item_lock(item_id):
        if not delete_item_node(store, item_id):
            raise NotFoundError(f"item {item_id!r} not found")
        for scorer in scorers:
            scorer.forget_item(item_id)
