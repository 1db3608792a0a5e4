"""Splits: disjoint, deterministic, RecBole's per-user counts, no cold-item leakage."""

from __future__ import annotations

import numpy as np
import pytest

from tailgraph.errors import ConfigurationError
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.split import InteractionSplit, _part_counts, sparse_users, split_interactions
from tailgraph.graph.snapshot import GraphSnapshot


def _split(snapshot: GraphSnapshot, protocol: str, seed: int = 0) -> InteractionSplit:
    return split_snapshot(snapshot, protocol, seed)


def _keys(pairs: np.ndarray, n_items: int) -> set[int]:
    return set((pairs[:, 0] * n_items + pairs[:, 1]).tolist())


@pytest.mark.parametrize("protocol", ["random", "temporal", "cold"])
def test_parts_are_disjoint_and_cover_everything(planted: GraphSnapshot, protocol: str) -> None:
    split = _split(planted, protocol)
    n = split.n_items
    train, valid, test = (_keys(p, n) for p in (split.train, split.valid, split.test))
    assert not (train & valid) and not (train & test) and not (valid & test)
    every = _keys(np.stack([planted.interactions.user, planted.interactions.item], 1), n)
    assert train | valid | test == every
    assert 0.7 < len(train) / len(every) < 0.9


@pytest.mark.parametrize("protocol", ["random", "temporal", "cold"])
def test_same_seed_same_split_other_seed_other_split(planted: GraphSnapshot, protocol: str):
    a, b = _split(planted, protocol, 3), _split(planted, protocol, 3)
    c = _split(planted, protocol, 4)
    assert np.array_equal(a.train, b.train) and np.array_equal(a.test, b.test)
    # temporal order is fixed by the (distinct) timestamps; the seed only breaks ties
    assert np.array_equal(a.test, c.test) == (protocol == "temporal")


def test_recbole_counts_for_small_users() -> None:
    counts = _part_counts(np.array([1, 2, 3, 10, 25]), (0.8, 0.1, 0.1))
    assert counts.tolist() == [[1, 0, 0], [1, 0, 1], [1, 1, 1], [8, 1, 1], [21, 2, 2]]


def test_temporal_puts_the_newest_interactions_in_test() -> None:
    user = np.zeros(10, dtype=np.int64)
    item = np.arange(10)
    ts = np.array([5, 3, 9, 1, 0, 8, 2, 7, 6, 4], dtype=float)
    split = split_interactions(user, item, 1, 10, protocol="temporal", ts=ts)
    assert split.test[:, 1].tolist() == [2]  # ts 9
    assert split.valid[:, 1].tolist() == [5]  # ts 8
    assert ts[split.train[:, 1]].max() == 7


def test_cold_items_never_reach_training(planted: GraphSnapshot) -> None:
    split = _split(planted, "cold")
    interacted = len(np.unique(planted.interactions.item))
    assert len(split.cold_items) == round(0.1 * interacted)
    assert not np.isin(split.train[:, 1], split.cold_items).any()
    assert split.item_popularity()[split.cold_items].sum() == 0
    held = np.concatenate([split.valid, split.test])
    cold_held = held[np.isin(held[:, 1], split.cold_items)]
    cold_all = np.isin(planted.interactions.item, split.cold_items).sum()
    assert len(cold_held) == cold_all
    # each user's cold interactions all go to one side (valid or test)
    valid_users = set(split.valid[np.isin(split.valid[:, 1], split.cold_items), 0].tolist())
    test_users = set(split.test[np.isin(split.test[:, 1], split.cold_items), 0].tolist())
    assert valid_users and test_users and not (valid_users & test_users)


def test_duplicate_pairs_collapse_to_one() -> None:
    user = np.array([0, 0, 0, 0])
    item = np.array([1, 1, 2, 3])
    split = split_interactions(user, item, 1, 4, ts=np.array([1.0, 2.0, 3.0, 4.0]))
    assert len(split.train) + len(split.valid) + len(split.test) == 3


def test_sparse_users(planted: GraphSnapshot) -> None:
    split = _split(planted, "random")
    sparse = sparse_users(split, max_train=5)
    degree = split.user_degree()
    assert (degree[sparse] <= 5).all()
    assert len(sparse) == (degree <= 5).sum() > 0


def test_unknown_protocol() -> None:
    with pytest.raises(ConfigurationError, match="unknown split protocol"):
        split_interactions(np.zeros(1, int), np.zeros(1, int), 1, 1, protocol="leave-one-out")


def test_global_temporal_cuts_everyone_at_the_same_times() -> None:
    # 4 users; user 3 appears only after the cut, item 5 only after it too
    user = np.array([0, 0, 1, 1, 2, 2, 0, 1, 2, 0, 0, 1, 2, 0, 1, 2, 3, 0, 1, 3])
    item = np.array([0, 1, 0, 2, 1, 3, 2, 1, 0, 3, 6, 3, 2, 4, 4, 4, 5, 5, 5, 1])
    ts = np.arange(20, dtype=np.float64)
    split = split_interactions(user, item, 4, 7, protocol="global_temporal", ts=ts, seed=1)
    when = {(int(u), int(i)): t for u, i, t in zip(user, item, ts, strict=True)}

    def times(pairs: np.ndarray) -> list[float]:
        return [when[(int(u), int(i))] for u, i in pairs]

    assert len(split.train) == 16 and max(times(split.train)) == 15  # oldest 80%
    assert min(times(split.valid)) >= 16 and max(times(split.valid)) < 18  # next 10%
    assert min(times(split.test)) >= 18
    assert 3 not in split.valid[:, 0] and 3 not in split.test[:, 0]  # never seen in training
    assert len(split.valid) + len(split.test) == 2  # user 3's two pairs dropped
    assert split.cold_items.tolist() == [5]  # first seen after the cut (users 0 and 1, t = 17, 18)
    with pytest.raises(ConfigurationError, match="timestamps"):
        split_interactions(user, item, 4, 7, protocol="global_temporal", seed=1)
