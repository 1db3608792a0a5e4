"""Score-function baselines: hand-checked definitions, and each beats random on planted data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.baselines.fusion import Fusion, standardise
from tailgraph.gnn.baselines.itemknn import ItemKNN, cosine_similarity
from tailgraph.gnn.baselines.mostpop import MostPop
from tailgraph.gnn.baselines.text_only import NO_TEXT_SCORE, TextOnly
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.registry import build_model
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.train import make_score_fn, train
from tailgraph.graph.snapshot import GraphSnapshot, Interactions


def _split(train: list[list[int]], n_users: int, n_items: int) -> InteractionSplit:
    empty = np.zeros((0, 2), np.int64)
    return InteractionSplit(
        np.array(train), empty, empty, n_users, n_items, np.zeros(0, np.int64), "random"
    )


def test_mostpop_scores_are_training_counts() -> None:
    model = MostPop.fit(_split([[0, 1], [1, 1], [1, 2]], 2, 3))
    assert model(torch.tensor([0, 1])).tolist() == [[0.0, 2.0, 1.0]] * 2


def test_itemknn_cosine_and_scores_by_hand() -> None:
    # users: 0 -> {0, 1}, 1 -> {0, 1, 2}, 2 -> {2}
    split = _split([[0, 0], [0, 1], [1, 0], [1, 1], [1, 2], [2, 2]], 3, 3)
    sim = cosine_similarity(split.train, 3, 3)
    # items 0 and 1 share both raters: cos 1; 0 and 2 share user 1: 1 / sqrt(2 * 2)
    assert sim[0, 1] == pytest.approx(1.0) and sim[0, 2] == pytest.approx(0.5)
    assert np.diag(sim).tolist() == [0.0, 0.0, 0.0]
    full = ItemKNN(sim, split, neighbours=None)
    # user 2 (history {2}): score(i) = sim(i, 2)
    assert full(torch.tensor([2])).tolist()[0] == pytest.approx([0.5, 0.5, 0.0])
    pruned = ItemKNN(sim, split, neighbours=1)
    # each target keeps one neighbour: item 0 -> 1, item 1 -> 0, item 2 -> 0 or 1 (a tie)
    assert pruned(torch.tensor([2])).tolist()[0] == pytest.approx([0.0, 0.0, 0.0])
    assert pruned(torch.tensor([0])).tolist()[0] == pytest.approx([1.0, 1.0, 0.5])


def test_text_only_profile_is_mean_of_history_and_profile_text() -> None:
    item_text = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], np.float32)
    snapshot = GraphSnapshot(
        ["u0", "u1"],
        ["a", "b", "c", "d"],
        [],
        text={
            "User": np.array([[0, 0, 0], [0, 0, 2]], np.float32),
            "Item": item_text,
            "Entity": np.zeros((0, 3), np.float32),
        },
        has_text={
            "User": np.array([False, True]),
            "Item": np.array([True, True, True, False]),
            "Entity": np.zeros(0, bool),
        },
        interactions=Interactions(*(np.zeros(0),) * 4),
    )
    model = TextOnly.fit(snapshot, _split([[0, 0], [1, 1]], 2, 4))
    scores = model(torch.tensor([0, 1])).numpy()
    assert scores[0] == pytest.approx([1.0, 0.0, 0.0, NO_TEXT_SCORE])
    # user 1: mean(b, own profile text c) -> cos with b and c = 1/sqrt(2)
    assert scores[1] == pytest.approx([0.0, 2**-0.5, 2**-0.5, NO_TEXT_SCORE], abs=1e-6)


def test_text_only_needs_text(planted: GraphSnapshot) -> None:
    bare = GraphSnapshot(
        planted.user_ids,
        planted.item_ids,
        planted.entity_ids,
        {k: v[:, :0] for k, v in planted.text.items()},
        {k: np.zeros_like(v) for k, v in planted.has_text.items()},
        planted.interactions,
    )
    with pytest.raises(ConfigurationError, match="text embeddings"):
        TextOnly.fit(bare, split_snapshot(bare, "random", 0))


def test_fusion_standardises_and_mixes() -> None:
    scores = torch.tensor([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    z = standardise(scores)
    assert z[0].mean().item() == pytest.approx(0.0) and z[0].std().item() == pytest.approx(1.0)
    assert z[1].tolist() == [0.0, 0.0, 0.0]
    text = lambda users: torch.tensor([[3.0, 2.0, 1.0]]).repeat(len(users), 1)  # noqa: E731
    cf = lambda users: torch.tensor([[10.0, 20.0, 30.0]]).repeat(len(users), 1)  # noqa: E731
    users = torch.tensor([0])
    assert Fusion(text, cf, 1.0)(users).argmax().item() == 0
    assert Fusion(text, cf, 0.0)(users).argmax().item() == 2
    assert Fusion(text, cf, 0.5)(users).abs().max().item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="alpha"):
        Fusion(text, cf, 1.5)


@pytest.fixture(scope="module")
def planted_baselines(planted: GraphSnapshot):
    """Every score-function baseline fitted on one random split of the planted data."""
    split = split_snapshot(planted, "random", 0)
    data = build_hetero_data(planted, split)
    config = TrainConfig(model="lightgcn", epochs=15, lr=0.01, batch_size=512, seed=0, subsets=())
    result = train(build_model(data, config), data, split, config)
    lightgcn = make_score_fn(
        torch.from_numpy(result.user_embeddings), torch.from_numpy(result.item_embeddings)
    )
    text = TextOnly.fit(planted, split)
    models = {
        "mostpop": MostPop.fit(split),
        "itemknn": ItemKNN.tuned(split)[0],
        "text_only": text,
        "fusion": Fusion.tuned(text, lightgcn, split)[0],
    }
    return split, models


@pytest.mark.parametrize("name", ["mostpop", "itemknn", "text_only", "fusion"])
def test_every_baseline_beats_random(planted_baselines, name: str) -> None:
    split, models = planted_baselines
    random_recall = []
    for seed in range(5):
        generator = torch.Generator().manual_seed(seed)
        noise = lambda users, g=generator: torch.rand(len(users), split.n_items, generator=g)  # noqa: E731
        random_recall.append(evaluate(noise, split, ks=(20,)).metrics["recall@20"])
    recall = evaluate(models[name], split, ks=(20,)).metrics["recall@20"]
    assert recall > 1.3 * max(random_recall), (name, recall, random_recall)


def test_tuned_models_report_their_choice(planted_baselines) -> None:
    _, models = planted_baselines
    assert models["itemknn"].neighbours in (10, 20, 50, 100, 200)
    assert 0.0 <= models["fusion"].alpha <= 1.0
