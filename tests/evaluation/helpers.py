"""A hand-checkable two-user split and its expected metrics, shared by scoring and peer tests."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.snapshot import GraphSnapshot, Interactions

IDCG2 = 1 + 1 / math.log2(3)


def tiny() -> tuple[GraphSnapshot, InteractionSplit]:
    """2 users, 5 items; item 4 is cold (no training pair)."""
    split = InteractionSplit(
        train=np.array([[0, 0], [1, 1]]),
        valid=np.array([[0, 1]]),
        test=np.array([[0, 2], [0, 3], [1, 4]]),
        n_users=2,
        n_items=5,
        cold_items=np.array([4]),
        protocol="cold",
    )
    empty = {
        label: np.zeros((n, 0), np.float32)
        for label, n in (("User", 2), ("Item", 5), ("Entity", 0))
    }
    snapshot = GraphSnapshot(
        ["u0", "u1"],
        [f"i{n}" for n in range(5)],
        [],
        empty,
        {k: np.zeros(len(v), bool) for k, v in empty.items()},
        Interactions(*(np.zeros(0),) * 4),
    )
    return snapshot, split


def check_hand_metrics(metrics: dict[str, float]) -> None:
    # u0 top [2, 4]: hit at rank 1 of truth {2, 3}; u1 top [0, 4]: hit at rank 2 of truth {4}
    assert metrics["recall@1"] == pytest.approx((1 / 2 + 0) / 2)
    assert metrics["recall@2"] == pytest.approx((1 / 2 + 1) / 2)
    assert metrics["ndcg@2"] == pytest.approx((1 / IDCG2 + 1 / math.log2(3)) / 2)
    assert metrics["itemcoverage@2"] == pytest.approx(3 / 5)
    assert metrics["cold/recall@2"] == pytest.approx(1.0)  # only u1 has a cold test item
    assert metrics["cold/recall@1"] == pytest.approx(0.0)
    assert metrics["sparse/recall@2"] == pytest.approx(0.75)  # both users have <= 5 train
