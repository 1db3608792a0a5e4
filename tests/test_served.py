"""Served quality on a real store: the endpoint's use case scored like the full ranking."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailgraph.api.candidates import ExpansionLimits
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.pipeline import train_snapshot
from tailgraph.gnn.train import make_score_fn
from tailgraph.graph.export import export_snapshot, snapshot_from_dataset
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate
from tailgraph.served import (
    evaluate_served,
    history_snapshot,
    load_history,
    serving_scorer,
)

K = 20


@pytest.fixture(scope="module")
def trained():
    dataset = generate(SyntheticConfig(n_users=80, n_items=60, n_interactions=900,
                                       n_entities=20, n_triples=120, seed=4))  # fmt: skip
    snapshot = snapshot_from_dataset(dataset)
    config = TrainConfig(model="lightgcn", dim=16, epochs=6, batch_size=256, eval_every=2)
    run = train_snapshot(snapshot, config, protocol="random")
    embeddings = LearnedEmbeddings(
        "lightgcn", run.version, snapshot.user_ids, snapshot.item_ids,
        run.result.user_embeddings, run.result.item_embeddings, run.split.item_popularity(),
    )  # fmt: skip
    return snapshot, run.split, embeddings


@pytest.fixture
def served_store(store, trained):
    snapshot, split, embeddings = trained
    load_history(store, snapshot, split, embeddings)
    return store


def test_the_store_holds_what_serving_knows(served_store, trained) -> None:
    snapshot, split, _ = trained
    known = export_snapshot(served_store)
    assert known.item_ids == snapshot.item_ids and known.user_ids == snapshot.user_ids
    assert len(known.interactions) == len(split.train) + len(split.valid)
    assert known.summary()["kg_edges"] == snapshot.summary()["kg_edges"]
    assert len(history_snapshot(snapshot, split).interactions) == len(known.interactions)
    rows = served_store.run("MATCH (i:Item) WHERE i.embedding IS NOT NULL RETURN count(i) AS n")
    assert rows[0]["n"] == len(snapshot.item_ids)


def test_served_lists_equal_the_full_ranking_when_the_pool_holds_the_models_best(
    served_store, trained
) -> None:
    snapshot, split, embeddings = trained
    served = evaluate_served(served_store, serving_scorer(embeddings, snapshot, split), snapshot,
                             split, k=K)  # fmt: skip
    score = make_score_fn(torch.from_numpy(embeddings.user), torch.from_numpy(embeddings.item))
    offline = evaluate(score, split, ks=(10, 20)).metrics
    assert served.users == len(np.unique(split.test[:, 0]))
    for key in ("recall@20", "ndcg@20", "recall@10", "tailrecall@20", "itemcoverage@20"):
        assert served.metrics[key] == pytest.approx(offline[key], abs=1e-9), key
    assert served.candidate_recall >= served.metrics["recall@20"]
    assert served.latency_ms["p50"] > 0 and served.latency_ms["max"] >= served.latency_ms["p99"]
    flat = served.flat()
    assert flat["served/recall@20"] == served.metrics["recall@20"]
    assert "served/candidate_recall" in flat and "served/latency_ms/p50" in flat


def test_without_the_model_source_the_served_lists_get_worse(served_store, trained) -> None:
    snapshot, split, embeddings = trained
    scorer = serving_scorer(embeddings, snapshot, split)
    full = evaluate_served(served_store, scorer, snapshot, split, k=K)
    # the tail pool alone never proposes a head item
    limits = ExpansionLimits(max_tail_candidates=K)  # k candidates: no catalogue fill
    tail_only = evaluate_served(served_store, scorer, snapshot, split, k=K, limits=limits,
                                sources=("tail",))  # fmt: skip
    assert tail_only.metrics["recall@20"] < full.metrics["recall@20"]
    assert tail_only.metrics["tailrecall@20"] >= full.metrics["tailrecall@20"]


def test_candidate_recall_is_the_share_of_test_items_in_the_pool(served_store, trained) -> None:
    """Only the model source, capped at N below k: the pool is the model's top max(N, k)
    unseen items (the catalogue fill tops it up to k), so candidate recall can be counted by
    hand."""
    snapshot, split, embeddings = trained
    scorer = serving_scorer(embeddings, snapshot, split)
    limits = ExpansionLimits(max_model_candidates=5)
    served = evaluate_served(served_store, scorer, snapshot, split, k=K, limits=limits,
                             sources=("model",))  # fmt: skip
    scores = embeddings.user @ embeddings.item.T
    seen = np.concatenate([split.train, split.valid])
    scores[seen[:, 0], seen[:, 1]] = -np.inf
    shares = []
    for user in np.unique(split.test[:, 0]):
        pool = set(np.argsort(-scores[user], kind="stable")[:K].tolist())
        test = set(split.test[split.test[:, 0] == user, 1].tolist())
        shares.append(len(test & pool) / len(test))
    assert served.candidate_recall == pytest.approx(float(np.mean(shares)))
    assert served.pool_sizes["max"] == K
