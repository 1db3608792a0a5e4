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

from collections import defaultdict

import numpy as np

from tailgraph.api import candidates as cand
from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.schemas import EmbeddingKind, ItemCreated, NewItem
from tailgraph.api.scoring import Scorer
from tailgraph.api.text_index import TextIndex
from tailgraph.encoders.cache import text_hash
from tailgraph.encoders.text import item_text
from tailgraph.errors import ConflictError, DataValidationError
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
    parameters = {"entity_ids": entities, "item_id": item_id}
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


def add_item(
    store: GraphStore,
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    body: NewItem,
    limits: ExpansionLimits,
) -> ItemCreated:
    """Validate, write the item and its links, embed it for every loaded model."""
    if cand.item_titles(store, [body.item_id]):
        raise ConflictError(f"item {body.item_id!r} already exists")
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
    run_query(
        store,
        "item_create",
        {
            "item_id": body.item_id,
            "props": props,
            "text_embedding": [float(x) for x in text_vector],
            "text_hash": text_hash(model_id, text),
        },
    )
    written = 0
    for rel_type, ids in by_type.items():
        name_rows = run_query(
            store, "item_relation_name", read_only=True, allowed=allowed, rel_type=rel_type
        )
        result = run_query(
            store,
            "item_link_entities",
            {
                "item_id": body.item_id,
                "entity_ids": list(dict.fromkeys(ids)),
                "relation": name_rows[0]["relation"] if name_rows else None,
            },
            allowed=allowed,
            rel_type=rel_type,
        )
        written += int(result[0]["written"]) if result else 0
    if entity_ids:  # the linked entities now link one more item
        run_query(store, "entity_item_counts_of", {"entity_ids": entity_ids})

    vector, kind, text_ids = inductive_vector(
        store, scorer, texts, body.item_id, text_vector, entity_ids, limits
    )
    if vector is not None:
        scorer.add_item(body.item_id, vector)
        write_embeddings(store, "Item", [body.item_id], vector[None])
    for other in others:
        if other is scorer or other.has_item(body.item_id):
            continue
        extra, _, _ = inductive_vector(
            store, other, texts, body.item_id, text_vector, entity_ids, limits
        )
        if extra is not None:
            other.add_item(body.item_id, extra)
    texts.add(store, body.item_id, text_vector)
    return ItemCreated(
        item_id=body.item_id,
        links=written,
        model=scorer.model_name,
        version=scorer.version,
        embedding=kind,
        text_neighbours=text_ids,
    )
