"""``POST /items``: add an item with KG links and give it an inductive vector at once.

Inductive vector: TailGNN's neighbour transfer (:mod:`tailgraph.gnn.models.neighbour_transfer`),
the path the model itself takes for items without interactions, over the vectors the loaded
model serves:

    candidates = the items nearest by BERT text (top ``max_text_neighbours``, cosine > 0)
                 + the items sharing its KG entities (``max_neighbours_per_entity`` per entity)
    sim(j)     = (1 - a) cos(text, t_j) + a cos(entity links, j's entity links)
    vector     = s x the length-restored softmax(sim / τ) mix of the best ``NEIGHBOURS``
                 candidates, s the model's tuned ``transfer_scale`` (1 for other models)

Two differences from training time, both bounded reads: candidates come from the text top-k and
the capped KG neighbourhood rather than every item, and they are any item the model has a vector
for (an item borrowed from earlier included). With no candidate of positive similarity the item
is stored but the model cannot score it until retraining (``none``). The requesting model's
vector is written as the node's ``embedding`` (so the vector index can propose it); every loaded
model gets one in memory. Models loaded later treat the item as unknown until retraining.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import torch

from tailgraph import cypher
from tailgraph.api import candidates as cand
from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.schemas import EmbeddingKind, ItemCreated, NewItem
from tailgraph.api.scoring import Scorer
from tailgraph.api.text_index import TextIndex
from tailgraph.encoders.cache import text_hash
from tailgraph.encoders.text import item_text
from tailgraph.errors import ConflictError, DataValidationError
from tailgraph.gnn.models.neighbour_transfer import (
    KG_WEIGHT,
    NEIGHBOURS,
    TEMPERATURE,
    borrow,
    entity_weights,
)
from tailgraph.graph.dialect import check_identifier
from tailgraph.graph.records import INTERACTED, RECOMMENDED
from tailgraph.graph.store import GraphStore

_NOT_KG = frozenset({INTERACTED, RECOMMENDED})


def kg_relation_types(store: GraphStore) -> frozenset[str]:
    """The validated set: relationship types present in the graph, minus non-KG ones."""
    rows = cand.read(store, "item_relation_types", {})
    return frozenset(str(row["type"]) for row in rows) - _NOT_KG


def kg_similarities(
    store: GraphStore, item_id: str, entity_ids: list[str], candidates: list[str]
) -> np.ndarray:
    """Cosine of the new item's weighted entity links with each candidate's (zeros without
    links); weights :func:`~tailgraph.gnn.models.neighbour_transfer.entity_weights`."""
    similarity = np.zeros(len(candidates), dtype=np.float32)
    if not entity_ids or not candidates:
        return similarity
    links: dict[str, set[str]] = defaultdict(set)
    for row in cand.read(store, "item_entity_links", {"item_ids": candidates}):
        links[str(row["item_id"])].add(str(row["entity_id"]))
    entities = sorted(set(entity_ids).union(*links.values()))
    degree = {e: 0 for e in entities}
    parameters = {"entity_ids": entities, "item_id": item_id}
    for row in cand.read(store, "entity_item_degrees", parameters):
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
        rows = cand.read(
            store,
            "item_entity_neighbours",
            {
                "entity_ids": entity_ids,
                "item_id": item_id,
                "per_entity": limits.max_neighbours_per_entity,
            },
        )
        shared = [i for i in dict.fromkeys(str(r["item_id"]) for r in rows) if scorer.has_item(i)]
    candidates = list(dict.fromkeys([*text_ids, *shared]))
    if not candidates:
        return None, "none", text_ids
    by_text = texts.cosines(store, text_vector, candidates).clip(min=0.0)
    by_kg = kg_similarities(store, item_id, entity_ids, candidates)
    similarity = (1.0 - KG_WEIGHT) * by_text + KG_WEIGHT * by_kg
    best = np.argsort(-similarity, kind="stable")[:NEIGHBOURS]
    best = best[similarity[best] > 0]
    if not len(best):
        return None, "none", text_ids
    vectors = torch.from_numpy(scorer.item_vectors([candidates[b] for b in best]))
    index, weights = torch.arange(len(best))[None], torch.from_numpy(similarity[best])[None]
    vector = scorer.transfer_scale * borrow(vectors, index, weights, TEMPERATURE)[0].numpy()
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
    store.run(
        cypher.render("item_create", store.dialect),
        {
            "item_id": body.item_id,
            "props": props,
            "text_embedding": [float(x) for x in text_vector],
            "text_hash": text_hash(model_id, text),
        },
    )
    written = 0
    for rel_type, ids in by_type.items():
        name_rows = store.run(
            cypher.render("item_relation_name", store.dialect, allowed=allowed, rel_type=rel_type),
            read_only=True,
        )
        result = store.run(
            cypher.render("item_link_entities", store.dialect, allowed=allowed, rel_type=rel_type),
            {
                "item_id": body.item_id,
                "entity_ids": list(dict.fromkeys(ids)),
                "relation": name_rows[0]["relation"] if name_rows else None,
            },
        )
        written += int(result[0]["written"]) if result else 0

    vector, kind, text_ids = inductive_vector(
        store, scorer, texts, body.item_id, text_vector, entity_ids, limits
    )
    if vector is not None:
        scorer.add_item(body.item_id, vector)
        store.run(
            cypher.render("write_embeddings", store.dialect, label="Item"),
            {"rows": [{"id": body.item_id, "vector": [float(x) for x in vector]}]},
        )
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
