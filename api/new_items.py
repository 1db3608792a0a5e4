"""``POST /items``: add an item with KG links and give it a vector at once, so it can be
recommended before the next training run.

The vector is TailGNN's neighbour transfer (:mod:`tailgraph.gnn.transfer`, what the model itself
does for items without interactions) over the loaded model's vectors. The candidates it borrows
from are bounded reads: the items nearest by BERT text and those sharing its KG entities (capped
per entity). With no candidate of positive similarity the item is stored but cannot be scored
until retraining (``none``). The requesting model's vector is also written as the node's
``embedding`` (for the vector index), with that model's version as ``embeddingVersion``; the
other loaded models get theirs in memory; the caller passes every model's vector on to the
service's other workers (:class:`ItemWrite`, :mod:`tailgraph.api.catalogue_sync`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

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
    links); weights :func:`~tailgraph.gnn.transfer.entity_weights` of the stored `itemCount`s.

    Two bounded reads: the new item's own entities' counts, and one aggregated row per
    candidate (its entities' counts and the entities it shares with the new item), so the
    cost grows with the candidates' own links, never with a hub entity's.
    """
    similarity = np.zeros(len(candidates), dtype=np.float32)
    if not entity_ids or not candidates:
        return similarity
    own = list(dict.fromkeys(entity_ids))
    degree = dict.fromkeys(own, 0)
    for row in run_query(store, "entity_item_degrees", {"entity_ids": own}, read_only=True):
        degree[str(row["entity_id"])] = int(row["degree"])
    weights = entity_weights(np.array([degree[e] for e in own]))
    weight = dict(zip(own, weights.tolist(), strict=True))
    own_norm = float(np.sqrt(sum(w**2 for w in weight.values())))
    position = {candidate: n for n, candidate in enumerate(candidates)}
    parameters = {"item_ids": candidates, "entity_ids": own}
    for row in run_query(store, "item_kg_profiles", parameters, read_only=True):
        theirs = entity_weights(np.array([int(d) for d in row["degrees"]], dtype=np.int64))
        norm = own_norm * float(np.sqrt(sum(w**2 for w in theirs.tolist())))
        if norm > 0:
            shared = set(str(e) for e in row["shared"])
            similarity[position[str(row["item_id"])]] = sum(weight[e] ** 2 for e in shared) / norm
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


@dataclass(frozen=True)
class ItemWrite:
    """What an item write answers, and what the service's other workers must learn of it."""

    answer: ItemCreated
    created: bool  # a new item (201), not a replace or a retry (200)
    # None: the store did not change (a retry of a finished write); otherwise the vector each
    # loaded model was given, by model version (None: no vector, the item is not scored)
    vectors: dict[str, np.ndarray | None] | None


def add_item(
    store: GraphStore,
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    body: NewItem,
    limits: ExpansionLimits,
) -> ItemWrite:
    """Validate, compute every vector, then write the item and its links.

    Reads come first, so a failure there writes nothing; the item node (properties, text and
    learned vectors) is one statement, its links follow, and a failure after the node exists
    deletes it again (if the store itself is down, as soon as it is back: :func:`_undo`).
    The same body posted again is answered as the first time (``created`` False) and
    finishes a write an earlier call left pending; a different body for an existing id is a
    ConflictError.
    """
    with _item_lock(body.item_id):
        return _add_item(store, scorer, others, texts, body, limits)


@dataclass
class _Prepared:
    """Everything a write of ``body`` needs, computed before anything is written."""

    body: NewItem
    digest: str
    allowed: frozenset[str]
    by_type: dict[str, list[str]]
    entity_ids: list[str]
    props: dict[str, object]
    text_vector: np.ndarray
    text_hash: str
    vector: np.ndarray | None
    kind: EmbeddingKind
    text_ids: list[str]
    extras: dict[int, np.ndarray]


def _prepare(
    store: GraphStore,
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    body: NewItem,
    limits: ExpansionLimits,
) -> _Prepared:
    """Validate the body and compute the item's text and inductive vectors (reads only)."""
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
        if other is scorer:
            continue
        extra, _, _ = inductive_vector(
            store, other, texts, body.item_id, text_vector, entity_ids, limits
        )
        if extra is not None:
            extras[n] = extra
    return _Prepared(
        body,
        payload_hash(body),
        allowed,
        dict(by_type),
        entity_ids,
        props,
        text_vector,
        text_hash(model_id, text),
        vector,
        kind,
        text_ids,
        extras,
    )


def _add_item(
    store: GraphStore,
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    body: NewItem,
    limits: ExpansionLimits,
) -> ItemWrite:
    p = _prepare(store, scorer, others, texts, body, limits)
    token = uuid.uuid4().hex
    rows = run_query(
        store,
        "item_create",
        {
            "item_id": body.item_id,
            "props": p.props,
            "text_embedding": [float(x) for x in p.text_vector],
            "text_hash": p.text_hash,
            "payload_hash": p.digest,
            "token": token,
            "embedding": None if p.vector is None else [float(x) for x in p.vector],
            "version": scorer.version,
        },
    )
    state = rows[0]
    created = bool(state["created"])
    if not created and state["payload_hash"] != p.digest:
        raise ConflictError(f"item {body.item_id!r} already exists with different content")
    if created or state["pending"]:  # ours, or a same-body write an earlier call left unfinished
        try:
            written = _write_links(store, body.item_id, p.by_type, p.entity_ids, p.allowed)
        except BaseException:
            if created:
                _undo(lambda: _delete_pending(store, body.item_id, token))
            raise
        if not created and p.vector is not None:  # the node may predate this vector
            write_embeddings(store, "Item", [body.item_id], p.vector[None], version=scorer.version)
        answer, vectors = _remember(scorer, others, texts, store, p, written, replace=False)
        return ItemWrite(answer, created, vectors)
    written = _count_links(store, body.item_id)
    answer, _ = _remember(scorer, others, texts, store, p, written, replace=False)
    return ItemWrite(answer, False, None)


def _remember(
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    store: GraphStore,
    p: _Prepared,
    written: int,
    *,
    replace: bool,
) -> tuple[ItemCreated, dict[str, np.ndarray | None]]:
    """Give the loaded models the item's vectors (``replace``: instead of the ones an
    earlier version of the item got); the answer, and the vector each loaded model now
    holds for it by model version (None: none, the model does not score it)."""
    item_id = p.body.item_id
    pairs = [
        (model, p.vector if model is scorer else p.extras.get(n)) for n, model in enumerate(others)
    ]
    if all(model is not scorer for model in others):
        pairs.append((scorer, p.vector))
    for model, vector in pairs:
        if replace:
            model.forget_item(item_id)
        if vector is not None and not model.has_item(item_id):
            model.add_item(item_id, vector)
    texts.add(store, item_id, p.text_vector, p.body.title)
    answer = ItemCreated(
        item_id=item_id,
        links=written,
        model=scorer.model_name,
        version=scorer.version,
        embedding=p.kind,
        text_neighbours=p.text_ids,
    )
    return answer, {model.version: model.item_vector(item_id) for model, _ in pairs}


def put_item(
    store: GraphStore,
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    body: NewItem,
    limits: ExpansionLimits,
) -> ItemWrite:
    """``PUT /items/{id}``: create the item as POST does, or replace an existing one's title,
    text, genres, year and KG links with the body's.

    The same body again changes nothing (200). A replace computes everything first, then
    writes the node and removes its old links in one statement, then its new vector and
    links; if that fails, the previous version (properties, vectors, links) is put back (if
    the store itself is down, as soon as it is back: :func:`_undo`); until then the node is
    marked pending with the new body's hash, and a retry of that body finishes the replace.
    An item added through the API gets new inductive vectors in the store and every loaded
    model; one loaded by ingest is not replaced (ConflictError).
    """
    with _item_lock(body.item_id):
        rows = run_query(store, "item_snapshot", {"item_id": body.item_id}, read_only=True)
        if not rows or rows[0]["payload_hash"] == payload_hash(body):
            return _add_item(store, scorer, others, texts, body, limits)
        if rows[0]["payload_hash"] is None:
            raise ConflictError(
                f"item {body.item_id!r} was loaded by ingest, not added through the API; "
                "change it in the dataset and ingest again"
            )
        return _replace_item(store, scorer, others, texts, body, limits, rows[0])


def _replace_item(
    store: GraphStore,
    scorer: Scorer,
    others: list[Scorer],
    texts: TextIndex,
    body: NewItem,
    limits: ExpansionLimits,
    old: dict,
) -> ItemWrite:
    p = _prepare(store, scorer, others, texts, body, limits)
    token = uuid.uuid4().hex
    rows = run_query(
        store,
        "item_replace",
        {
            "item_id": body.item_id,
            "title": body.title,
            "text": body.text,
            "year": body.year,
            "genres": body.genres or None,
            "text_embedding": [float(x) for x in p.text_vector],
            "text_hash": p.text_hash,
            "payload_hash": p.digest,
            "token": token,
            "version": None if p.vector is None else scorer.version,
        },
    )
    before = [str(e) for e in rows[0]["entity_ids"] or []] if rows else []
    try:
        if p.vector is not None:
            write_embeddings(store, "Item", [body.item_id], p.vector[None], version=scorer.version)
        written = _write_links(
            store,
            body.item_id,
            p.by_type,
            list(dict.fromkeys([*p.entity_ids, *before])),
            p.allowed,
        )
    except BaseException:
        allowed = p.allowed | _link_types(old)
        _undo(lambda: _restore(store, body.item_id, old, allowed, token))
        raise
    answer, vectors = _remember(scorer, others, texts, store, p, written, replace=True)
    return ItemWrite(answer, False, vectors)


def _as_list(value: object) -> list[float] | None:
    return None if value is None else [float(x) for x in value]  # type: ignore[attr-defined]


def _link_types(old: dict) -> frozenset[str]:
    return frozenset(str(link["type"]) for link in old["links"] or [])


def _restore(
    store: GraphStore, item_id: str, old: dict, allowed: frozenset[str], token: str
) -> None:
    """Put back the version a failed replace read first, unless the item is no longer marked
    with that replace's token (a retry of the same body finished it since)."""
    now = run_query(store, "item_snapshot", {"item_id": item_id}, read_only=True)
    if not now or now[0]["pending"] != token:
        return
    rows = run_query(
        store,
        "item_replace",
        {
            "item_id": item_id,
            "title": old["title"],
            "text": old["text"],
            "year": old["year"],
            "genres": old["genres"],
            "text_embedding": _as_list(old["text_embedding"]),
            "text_hash": old["text_hash"],
            "payload_hash": old["payload_hash"],
            "token": old["pending"],
            "version": old["embedding_version"],
        },
    )
    if old["embedding"] is not None:
        write_embeddings(
            store,
            "Item",
            [item_id],
            np.asarray([_as_list(old["embedding"])]),
            version=old["embedding_version"],
        )
    groups: dict[tuple[str, bool, object], list[str]] = defaultdict(list)
    for link in old["links"] or []:
        key = (str(link["type"]), bool(link["outgoing"]), link["relation"])
        groups[key].append(str(link["entity_id"]))
    for (rel_type, outgoing, relation), ids in groups.items():
        run_query(
            store,
            "item_link_entities" if outgoing else "item_link_entities_in",
            {"item_id": item_id, "entity_ids": ids, "relation": relation},
            allowed=allowed,
            rel_type=rel_type,
        )
    removed = [str(e) for e in rows[0]["entity_ids"] or []] if rows else []
    restored = [str(link["entity_id"]) for link in old["links"] or []]
    touched = list(dict.fromkeys([*removed, *restored]))
    if touched:
        run_query(store, "entity_item_counts_of", {"entity_ids": touched})


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
            store,
            "item_relation_name_at",
            {"entity_ids": list(dict.fromkeys(ids))},
            read_only=True,
            allowed=allowed,
            rel_type=rel_type,
        ) or run_query(
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


UNDO_RETRY_SECONDS = 120.0  # how long an undo the store could not take is retried


def _undo(action: Callable[[], None]) -> None:
    """Run an undo now; if the store cannot take it (killed, restarting), keep retrying it in
    the background until it can, so a half-written item goes as soon as the store is back,
    without restarting the API. ``action`` must be safe to repeat."""
    try:
        action()
        return
    except Exception:  # the original error is the one to report
        pass

    def retry() -> None:
        deadline = time.monotonic() + UNDO_RETRY_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                action()
                return
            except Exception:  # still unreachable: try again
                continue

    threading.Thread(target=retry, name="tailgraph-item-undo", daemon=True).start()


def _delete_pending(store: GraphStore, item_id: str, token: str) -> None:
    """Delete the item a failed call created, unless a retry has finished it since."""
    rows = run_query(store, "item_delete_pending", {"item_id": item_id, "token": token})
    entity_ids = [str(e) for e in rows[0]["entity_ids"] or []] if rows else []
    if entity_ids:
        run_query(store, "entity_item_counts_of", {"entity_ids": entity_ids})


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


def delete_item(store: GraphStore, scorers: list[Scorer], texts: TextIndex, item_id: str) -> None:
    """``DELETE /items/{id}``: the item leaves the store, every loaded model and the text
    index at once."""
    with _item_lock(item_id):
        if not delete_item_node(store, item_id):
            raise NotFoundError(f"item {item_id!r} not found")
        for scorer in scorers:
            scorer.forget_item(item_id)
        texts.remove(store, item_id)
