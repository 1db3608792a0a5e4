"""Evaluation protocol and training: exclusions, loss goes down, beats random clearly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.models.tailgnn import CONTENT_WEIGHTS, TRANSFER_SCALES
from tailgraph.gnn.registry import build_model
from tailgraph.gnn.split import InteractionSplit, split_interactions
from tailgraph.gnn.train import NegativeSampler, train
from tailgraph.graph.snapshot import GraphSnapshot


def _tiny_split() -> InteractionSplit:
    return InteractionSplit(
        train=np.array([[0, 0], [1, 1]]),
        valid=np.array([[0, 1]]),
        test=np.array([[0, 2], [1, 3]]),
        n_users=2,
        n_items=4,
        cold_items=np.zeros(0, np.int64),
        protocol="random",
    )


def test_ranking_excludes_train_and_valid_items() -> None:
    split = _tiny_split()

    # scores prefer items 0 then 1 then 2 then 3 for everyone
    def score(users: torch.Tensor) -> torch.Tensor:
        return torch.tensor([4.0, 3.0, 2.0, 1.0]).repeat(len(users), 1)

    result = evaluate(score, split, part="test", ks=(1, 2))
    # user 0: train 0 and valid 1 excluded -> top-1 = 2 (hit); user 1: train 1 excluded ->
    # ranking [0, 2, 3]: top-1 miss, top-2 miss
    assert result.metrics["recall@1"] == pytest.approx(0.5)
    assert result.metrics["hit@2"] == pytest.approx(0.5)
    valid = evaluate(score, split, part="valid", ks=(1,))
    assert valid.metrics["recall@1"] == pytest.approx(1.0)  # user 0: item 0 excluded -> 1
    assert valid.n_users == 1


def test_negative_sampler_never_returns_positives(planted: GraphSnapshot) -> None:
    inter = planted.interactions
    split = split_interactions(inter.user, inter.item, 300, 200)
    sampler = NegativeSampler(split.train, 200, torch.Generator().manual_seed(0))
    users = torch.from_numpy(split.train[:, 0])
    neg = sampler.sample(users, 3)
    assert neg.shape == (len(users), 3)
    assert not sampler.is_positive(users.repeat_interleave(3), neg.reshape(-1)).any()


@pytest.fixture(scope="module")
def planted_split(planted: GraphSnapshot):
    inter = planted.interactions
    split = split_interactions(
        inter.user, inter.item, 300, 200, protocol="cold", ts=inter.ts, seed=0
    )
    return build_hetero_data(planted, split), split


@pytest.mark.parametrize("name", ["tailgnn", "lightgcn", "bpr_mf"])
def test_training_lowers_loss_and_beats_random(planted_split, name: str) -> None:
    data, split = planted_split
    config = TrainConfig(
        model=name, dim=32, epochs=12, batch_size=512, lr=0.01, eval_every=4, patience=5, seed=1
    )
    result = train(build_model(data, config), data, split, config)
    assert result.history[-1]["loss"] < 0.8 * result.history[0]["loss"]
    generator = torch.Generator().manual_seed(0)
    random_result = evaluate(
        lambda users: torch.rand(len(users), 200, generator=generator), split, ks=(20,)
    )
    assert result.test.metrics["recall@20"] > 2.5 * random_result.metrics["recall@20"]
    assert result.best_epoch in (4, 8, 12)
    assert result.user_embeddings.shape == (300, 32)
    assert "cold" in result.test.subsets and "sparse" in result.test.subsets


def test_cpu_training_is_deterministic(planted_split) -> None:
    data, split = planted_split
    config = TrainConfig(model="tailgnn", dim=16, epochs=2, batch_size=1024, eval_every=2)
    first = train(build_model(data, config), data, split, config)
    second = train(build_model(data, config), data, split, config)
    assert np.array_equal(first.item_embeddings, second.item_embeddings)
    assert first.history[-1]["loss"] == second.history[-1]["loss"]


def test_a_training_pass_adds_its_loss_to_every_step(planted_split) -> None:
    data, split = planted_split
    config = TrainConfig(
        model="lightgcn", dim=16, epochs=2, batch_size=512, lr=0.05, eval_every=2, subsets=()
    )
    shapes = []

    def shrinking(model):
        out = model()

        def pull(users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
            shapes.append((len(users), len(pos), tuple(neg.shape)))
            return 10.0 * out["item"].pow(2).sum(1).mean()

        return out, pull

    plain = train(build_model(data, config), data, split, config)
    pulled = train(build_model(data, config), data, split, config, training_pass=shrinking)
    steps = config.epochs * math.ceil(len(split.train) / config.batch_size)
    assert len(shapes) == steps
    assert all(u == p and neg == (u, config.negatives) for u, p, neg in shapes)
    norm = np.linalg.norm(pulled.item_embeddings, axis=1).mean()
    assert norm < 0.5 * np.linalg.norm(plain.item_embeddings, axis=1).mean()
    assert pulled.history[0]["loss"] > plain.history[0]["loss"]  # the term is in the loss


def test_tailgnn_trains_both_stages_then_picks_its_mix_and_transfer_scale(planted_split) -> None:
    data, split = planted_split
    config = TrainConfig(
        model="tailgnn", dim=16, epochs=4, batch_size=512, lr=0.01, eval_every=2, patience=5, seed=1
    )
    model = build_model(data, config)
    result = train(model, data, split, config)
    assert [r["stage"] for r in result.history] == ["collaborative"] * 4 + ["content"] * 4
    assert result.extra["collaborative/best_epoch"] in (2, 4)
    assert result.extra["content/best_epoch"] in (2, 4)
    tuned = result.extra["tuned_valid_ndcg@20"]
    assert len(tuned) == len(CONTENT_WEIGHTS) * len(TRANSFER_SCALES)
    weight, scale = (float(part.split("=")[1]) for part in max(tuned, key=tuned.get).split(","))
    assert model.content_weight.item() == pytest.approx(weight)
    assert model.transfer_scale.item() == pytest.approx(scale)
    assert model.stage == "hybrid"
    assert result.best_valid["ndcg@20"] == pytest.approx(max(tuned.values()))
