"""Served quality: what the recommendation endpoint returns, scored exactly like the full ranking.

For one split of a snapshot, the store is loaded with what the service would know at test time
(every node, the KG, the train and validation interactions), and for every test user the same
use case the route calls (:func:`tailgraph.api.recommender.recommend`: Cypher and model
candidates, learned scoring, tail re-ranking, default settings) produces the top-K. Those lists
are scored by :func:`tailgraph.evaluation.scoring.score_topk` against the test pairs, as offline
lists are, with the same exclusions (the user's train and validation items). Also measured:
*candidate recall* (share of each user's test items that reach the candidate pool) and the
latency of each call.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

from tailgraph.api import recommender
from tailgraph.api.candidates import Candidate, ExpansionLimits, TitleCache
from tailgraph.api.scoring import Scorer
from tailgraph.api.vector_source import VectorSource
from tailgraph.encoders.stage import vector_text
from tailgraph.errors import ConfigurationError
from tailgraph.evaluation.scoring import score_topk
from tailgraph.gnn import neighbours
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.ingest import ingest
from tailgraph.graph.records import Dataset, Interaction, Triple
from tailgraph.graph.snapshot import GraphSnapshot, Interactions
from tailgraph.graph.store import GraphStore, batched, run_query
from tailgraph.graph.writeback import write_embeddings

LATENCY_PERCENTILES = (50, 95, 99)


@dataclass
class ServedResult:
    """Served metrics (keys as offline, e.g. ``recall@20``), candidate recall and latency."""

    metrics: dict[str, float]
    candidate_recall: float
    latency_ms: dict[str, float]
    users: int
    pool_sizes: dict[str, float] = field(default_factory=dict)  # mean / max candidates

    def flat(self, prefix: str = "served/") -> dict[str, float]:
        """One dict: ``served/<metric>``, ``served/candidate_recall``, ``served/latency_ms/p50``."""
        out = {f"{prefix}{key}": value for key, value in self.metrics.items()}
        out[f"{prefix}candidate_recall"] = self.candidate_recall
        out.update({f"{prefix}latency_ms/{k}": v for k, v in self.latency_ms.items()})
        return out


def history_snapshot(snapshot: GraphSnapshot, split: InteractionSplit) -> GraphSnapshot:
    """``snapshot`` with only the train and validation interactions: what serving knows."""
    pairs = np.concatenate([split.train, split.valid])
    inter = snapshot.interactions
    key = inter.user * split.n_items + inter.item
    known = np.isin(key, pairs[:, 0] * split.n_items + pairs[:, 1])
    kept = Interactions(inter.user[known], inter.item[known], inter.rating[known], inter.ts[known])
    return GraphSnapshot(
        user_ids=snapshot.user_ids, item_ids=snapshot.item_ids, entity_ids=snapshot.entity_ids,
        text=snapshot.text, has_text=snapshot.has_text, interactions=kept,
        kg_edges=snapshot.kg_edges,
    )  # fmt: skip


def history_dataset(
    snapshot: GraphSnapshot, name: str = "served", items: Mapping[str, Mapping] | None = None
) -> Dataset:
    """The records that, ingested, give a store holding ``snapshot`` (without text vectors);
    ``items`` adds item properties (titles, genres) by id."""
    items = items or {}
    inter = snapshot.interactions
    interactions = [
        Interaction(
            snapshot.user_ids[u], snapshot.item_ids[i],
            None if np.isnan(r) else float(r), None if np.isnan(t) else float(t),
        )
        for u, i, r, t in zip(inter.user, inter.item, inter.rating, inter.ts, strict=True)
    ]  # fmt: skip
    triples = [
        Triple(snapshot.ids(head)[s], relation, snapshot.ids(tail)[d], head, tail)
        for (head, relation, tail), (src, dst) in sorted(snapshot.kg_edges.items())
        for s, d in zip(src.tolist(), dst.tolist(), strict=True)
    ]
    return Dataset(
        name,
        users=[{"id": u} for u in snapshot.user_ids],
        items=[{**items.get(i, {}), "id": i} for i in snapshot.item_ids],
        entities=[{"id": e} for e in snapshot.entity_ids],
        interactions=interactions,
        triples=triples,
    )


def load_history(
    store: GraphStore,
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    embeddings: LearnedEmbeddings | None = None,
    *,
    items: Mapping[str, Mapping] | None = None,
    text: bool = False,
) -> None:
    """Replace the store's graph with what serving knows at test time for ``split``, and the
    model's vectors as training writes them back (so the vector-index source can run);
    ``items`` adds item properties, ``text`` the items' BERT vectors as encode writes them."""
    history = history_dataset(history_snapshot(snapshot, split), items=items)
    ingest(store, history, replace=True, progress=False)
    if text:
        has = snapshot.has_text["Item"]
        rows = [
            {"id": item_id, "embedding": vector_text(vector), "hash": "served"}
            for item_id, vector, known in zip(
                snapshot.item_ids, snapshot.text["Item"], has, strict=True
            )
            if known
        ]
        for batch in batched(rows, 500):
            run_query(store, "write_text_embeddings", {"rows": batch}, label="Item")
    if embeddings is not None:
        version = embeddings.version
        write_embeddings(store, "User", embeddings.user_ids, embeddings.user, version=version)
        write_embeddings(store, "Item", embeddings.item_ids, embeddings.item, version=version)


def serving_scorer(
    embeddings: LearnedEmbeddings, snapshot: GraphSnapshot, split: InteractionSplit, k: int = 20
) -> Scorer:
    """The scorer the service would load, with serving neighbours from the known history."""
    kinds = neighbours.from_snapshot(history_snapshot(snapshot, split), k) if k > 0 else {}
    return Scorer(embeddings, neighbours=kinds)


def evaluate_served(
    store: GraphStore,
    scorer: Scorer,
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    *,
    k: int = 20,
    limits: ExpansionLimits | None = None,
    sources: Collection[str] | None = None,
    tail_weight: float = 0.0,
) -> ServedResult:
    """Call the recommendation use case for every test user of ``split`` (the store must hold
    :func:`load_history` of it) and score the lists like the full ranking."""
    limits = limits or ExpansionLimits()
    vectors, titles = VectorSource(), TitleCache()
    users = np.unique(split.test[:, 0])
    item_index = {item_id: n for n, item_id in enumerate(snapshot.item_ids)}
    truth: dict[int, set[int]] = {}
    for user, item in split.test.tolist():
        truth.setdefault(user, set()).add(item)
    topk = np.full((len(users), k), -1, dtype=np.int64)
    seconds, found, sizes = [], [], []
    for row, user in enumerate(users.tolist()):
        pool: dict[str, Candidate] = {}
        started = time.perf_counter()
        answer = recommender.recommend(
            store, scorer, snapshot.user_ids[user], k, limits=limits, tail_weight=tail_weight,
            sources=sources, vectors=vectors, titles=titles, on_pool=pool.update,
        )  # fmt: skip
        seconds.append(time.perf_counter() - started)
        shown = [item_index[item.item_id] for item in answer.items]
        topk[row, : len(shown)] = shown
        pooled = {item_index[i] for i in pool if i in item_index}
        found.append(len(truth[user] & pooled) / len(truth[user]))
        sizes.append(len(pool))
    if (topk < 0).any():
        raise ConfigurationError(f"some served lists hold fewer than {k} items")
    latency = np.asarray(seconds) * 1000.0
    return ServedResult(
        metrics=score_topk(users, topk, split).metrics,
        candidate_recall=float(np.mean(found)) if found else 0.0,
        latency_ms={f"p{p}": float(np.percentile(latency, p)) for p in LATENCY_PERCENTILES}
        | {"max": float(latency.max()) if len(latency) else 0.0},
        users=len(users),
        pool_sizes={"mean": float(np.mean(sizes)) if sizes else 0.0,
                    "max": float(max(sizes, default=0))},
    )  # fmt: skip
