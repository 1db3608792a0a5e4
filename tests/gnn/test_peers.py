"""The peers that set the bar (EASE, RP3β, iALS, XSimGCL), checked by hand or by their defining
property on tiny interaction matrices and trained on planted data; TailGNN's ablations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.baselines.ease import EASE, ease_weights, interaction_matrix
from tailgraph.gnn.baselines.ials import IALS
from tailgraph.gnn.baselines.rp3beta import RP3Beta, rp3beta_weights, transition_product
from tailgraph.gnn.baselines.xsimgcl import build_xsimgcl, fit_xsimgcl
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data, kg_edges
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.models.xsimgcl import info_nce
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.registry import ablate, build_model, fit_baseline
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.train import train
from tailgraph.graph.snapshot import GraphSnapshot

# 5 users x 4 items, a small real-looking matrix (item 0 popular, item 3 rare)
TRAIN = [[0, 0], [0, 1], [1, 0], [1, 2], [2, 0], [2, 1], [2, 3], [3, 1], [3, 2], [4, 0]]


def _split(train: list[list[int]], n_users: int, n_items: int) -> InteractionSplit:
    empty = np.zeros((0, 2), np.int64)
    return InteractionSplit(
        np.array(train), empty, empty, n_users, n_items, np.zeros(0, np.int64), "random", seed=3
    )


def _random_recall(split: InteractionSplit) -> float:
    recalls = []
    for seed in range(5):
        generator = torch.Generator().manual_seed(seed)
        noise = lambda users, g=generator: torch.rand(len(users), split.n_items, generator=g)  # noqa: E731
        recalls.append(evaluate(noise, split, ks=(20,)).metrics["recall@20"])
    return max(recalls)


def test_ease_closed_form_equals_a_direct_solve_per_column() -> None:
    split = _split(TRAIN, 5, 4)
    x = interaction_matrix(split).toarray().astype(np.float64)
    gram, lam = x.T @ x, 2.0
    weights = ease_weights(*np.linalg.eigh(gram), lam)
    for j in range(4):  # min ||x_j - X_{-j} b||^2 + λ||b||^2 over the other items' weights
        others = [i for i in range(4) if i != j]
        direct = np.linalg.solve(gram[np.ix_(others, others)] + lam * np.eye(3), gram[others, j])
        np.testing.assert_allclose(weights[others, j], direct, rtol=1e-5, atol=1e-6)
        assert weights[j, j] == 0.0
    scores = EASE(weights, interaction_matrix(split), lam)(torch.tensor([4]))
    np.testing.assert_allclose(scores.numpy()[0], x[4] @ weights, rtol=1e-6)


def test_ease_refuses_lambda_zero_and_huge_catalogues() -> None:
    split = _split(TRAIN, 5, 4)
    x = interaction_matrix(split).toarray()
    with pytest.raises(ValueError, match="λ > 0"):
        ease_weights(*np.linalg.eigh(x.T @ x), 0.0)
    with pytest.raises(ConfigurationError, match="limit is"):
        EASE.fit(_split([[0, 0]], 1, 20_001))


def test_rp3beta_walk_by_hand_and_the_popularity_discount() -> None:
    # users 0, 1 hold items {0, 1}; user 2 holds {0, 2}: item 0 is the hub
    split = _split([[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 2]], 3, 3)
    walk = transition_product(interaction_matrix(split), alpha=1.0)
    # from item 1 (users 0, 1; each holds 2 items): to 0 w.p. 1/2, to 1 w.p. 1/2, never to 2
    np.testing.assert_allclose(walk[1], [0.5, 0.5, 0.0])
    # from item 2 (user 2 only): items 0 and 2 w.p. 1/2 each
    np.testing.assert_allclose(walk[2], [0.5, 0.0, 0.5])
    # from item 0 (three users, 1/3 each): 0 w.p. 1/2, 1 w.p. 1/3, 2 w.p. 1/6
    np.testing.assert_allclose(walk[0], [0.5, 1 / 3, 1 / 6])
    pop = split.item_popularity()  # [3, 2, 1]
    plain = rp3beta_weights(walk, pop, beta=0.0, neighbours=None)
    np.testing.assert_allclose(plain[0], [0.0, 1 / 3, 1 / 6], rtol=1e-6)
    # user 2 holds items 0 and 2; with β = 1 each target is divided by its popularity and
    # an item never recommends itself: score_j = Σ_{i in {0, 2}, i != j} walk[i, j] / pop_j
    model = RP3Beta(rp3beta_weights(walk, pop, 1.0, None), interaction_matrix(split), 1.0, 1.0)
    expected = walk[0] / pop + walk[2] / pop
    expected[[0, 2]] -= [walk[0, 0] / 3, walk[2, 2] / 1]  # the zeroed diagonal
    np.testing.assert_allclose(model(torch.tensor([2])).numpy()[0], expected, rtol=1e-6)
    # pruning keeps each source item's largest targets only
    pruned = rp3beta_weights(walk, pop, beta=0.0, neighbours=1)
    assert (np.count_nonzero(pruned, axis=1) <= 1).all()
    assert pruned[0, 1] == pytest.approx(1 / 3)


def test_ials_training_loss_decreases_and_seed_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    pairs = np.unique(np.stack([rng.integers(0, 40, 300), rng.integers(0, 30, 300)], 1), axis=0)
    split = _split(pairs.tolist(), 40, 30)
    losses: list[float] = []
    model = IALS.fit(
        split,
        reg=0.1,
        alpha=3.0,
        factors=8,
        iterations=6,
        on_iteration=lambda _, loss: losses.append(loss),
    )  # noqa: E501
    assert len(losses) == 6 and losses[-1] < losses[0]
    again = IALS.fit(split, reg=0.1, alpha=3.0, factors=8, iterations=6)
    torch.testing.assert_close(model(torch.arange(40)), again(torch.arange(40)))


def test_info_nce_is_low_for_aligned_views_and_high_for_shuffled_ones() -> None:
    x = torch.nn.functional.normalize(
        torch.randn(64, 16, generator=torch.Generator().manual_seed(0)), dim=1
    )
    aligned = info_nce(x, x, 0.15)
    shuffled = info_nce(x, x[torch.randperm(64, generator=torch.Generator().manual_seed(1))], 0.15)
    assert aligned < 0.5 < shuffled


def test_xsimgcl_adds_noise_only_when_training() -> None:
    split = _split(TRAIN, 5, 4)
    model = build_xsimgcl(split, TrainConfig(seed=0, dim=8, layers=2))
    clean = model()
    torch.testing.assert_close(clean["item"], model()["item"])  # forward is deterministic
    final, view = model.training_views()
    assert not torch.allclose(final["item"], clean["item"])
    with pytest.raises(ValueError, match="cl_layer"):
        build_xsimgcl(split, TrainConfig(layers=2), cl_layer=3)


@pytest.fixture(scope="module")
def planted_split(planted: GraphSnapshot) -> InteractionSplit:
    return split_snapshot(planted, "random", 0)


@pytest.mark.parametrize("name", ["ease", "rp3beta", "ials", "xsimgcl"])
def test_every_peer_beats_random_and_reports_its_choice(
    planted: GraphSnapshot, planted_split: InteractionSplit, name: str
) -> None:
    config = TrainConfig(epochs=10, eval_every=2, lr=0.01, batch_size=512, seed=0)
    model, extra = fit_baseline(name, planted, planted_split, config=config)
    recall = evaluate(model, planted_split, ks=(20,)).metrics["recall@20"]
    assert recall > 1.3 * _random_recall(planted_split), (name, recall)
    chosen = {"ease": "lambda", "rp3beta": "beta", "ials": "reg", "xsimgcl": "best_epoch"}
    assert chosen[name] in extra


def test_xsimgcl_loss_falls_over_training(planted_split: InteractionSplit) -> None:
    config = TrainConfig(epochs=6, eval_every=2, patience=10, lr=0.01, batch_size=512, seed=0)
    _, extra = fit_xsimgcl(planted_split, config)
    assert extra["epochs_run"] == 6 and extra["loss"][-1] < extra["loss"][0]


def test_xsimgcl_repeats_itself_and_trains_with_its_contrastive_term(
    planted_split: InteractionSplit,
) -> None:
    config = TrainConfig(epochs=4, eval_every=2, lr=0.01, batch_size=512, seed=0)
    users = torch.arange(50)
    first, extra = fit_xsimgcl(planted_split, config)
    second, again = fit_xsimgcl(planted_split, config)
    assert torch.equal(first(users), second(users)) and extra["loss"] == again["loss"]
    _, without = fit_xsimgcl(planted_split, config, cl_weight=0.0)
    assert without["loss"][0] < extra["loss"][0]  # λ_cl InfoNCE is part of the loss


def test_ablations_remove_or_shuffle_only_what_they_name(planted: GraphSnapshot) -> None:
    split = split_snapshot(planted, "random", 0)
    data = build_hetero_data(planted, split)
    kg = kg_edges(data)
    full = ablate(data, kg, None, 0)
    assert full[0] is kg
    no_kg, text, _ = ablate(data, kg, "no-kg", 0)
    assert len(no_kg.src) == 0 and torch.equal(text["item"], data["item"].x)
    shuffled, text, _ = ablate(data, kg, "shuffled-kg", 0)
    assert len(shuffled.src) == len(kg.src) and torch.equal(text["item"], data["item"].x)
    start, n_items = kg.offsets["item"], int(data["item"].num_nodes)

    def item_degree(edges) -> torch.Tensor:
        ends = torch.cat([edges.src, edges.dst])
        ends = ends[(ends >= start) & (ends < start + n_items)] - start
        return torch.bincount(ends, minlength=n_items)

    before, after = item_degree(kg), item_degree(shuffled)
    assert torch.equal(before.sort().values, after.sort().values)  # same shape ...
    assert not torch.equal(before, after)  # ... other items
    _, no_text, no_has = ablate(data, kg, "no-text", 0)
    assert not any(h.any() for h in no_has.values()) and not no_text["item"].any()
    _, perm_text, perm_has = ablate(data, kg, "shuffled-text", 0)
    x = data["item"].x
    torch.testing.assert_close(perm_text["item"].sum(0), x.sum(0))  # the same rows, moved
    assert not torch.equal(perm_text["item"], x)
    assert int(perm_has["item"].sum()) == int(data["item"].has_text.sum())
    with pytest.raises(ConfigurationError, match="ablation"):
        ablate(data, kg, "no-users", 0)


@pytest.mark.parametrize("variant", ["tailgnn-no-kg", "tailgnn-no-text"])
def test_tailgnn_trains_without_kg_or_text(planted: GraphSnapshot, variant: str) -> None:
    split = split_snapshot(planted, "cold", 0)
    data = build_hetero_data(planted, split)
    config = TrainConfig(model=variant, epochs=2, eval_every=2, batch_size=1024, seed=0)
    result = train(build_model(data, config), data, split, config)
    assert np.isfinite(result.item_embeddings).all()
    assert result.test.metrics["recall@20"] > 0
