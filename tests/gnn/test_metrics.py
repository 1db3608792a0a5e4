"""Every registered metric against values computed by hand on a 2-user, 6-item example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tailgraph.gnn import metrics as M

# popularity: items 0 and 1 are the head (ceil(0.2 * 6) = 2), 2..5 the tail
POP = np.array([10, 8, 3, 2, 1, 0])


@pytest.fixture
def ctx() -> M.RankingContext:
    # user A: top-3 = [0, 2, 4], truth = {2, 5}       -> hit at rank 2
    # user B: top-3 = [1, 0, 3], truth = {1, 3, 4, 0} -> hits at ranks 1, 2, 3
    return M.RankingContext(
        topk=np.array([[0, 2, 4], [1, 0, 3]]),
        hits=np.array([[False, True, False], [True, True, True]]),
        truth_count=np.array([2, 4]),
        popularity=POP,
        head_truth_count=np.array([0, 2]),
    )


def log2(x: float) -> float:
    return math.log2(x)


@pytest.mark.parametrize(
    ("name", "k", "expected"),
    [
        ("recall", 3, (1 / 2 + 3 / 4) / 2),
        ("recall", 1, (0 + 1 / 4) / 2),
        (
            "ndcg",
            3,
            (
                (1 / log2(3)) / (1 + 1 / log2(3))
                + (1 + 1 / log2(3) + 1 / log2(4)) / (1 + 1 / log2(3) + 1 / log2(4))
            )
            / 2,
        ),
        ("hit", 1, 0.5),
        ("hit", 3, 1.0),
        ("precision", 3, (1 / 3 + 3 / 3) / 2),
        ("mrr", 3, (1 / 2 + 1) / 2),
        ("itemcoverage", 3, 5 / 6),  # {0, 1, 2, 3, 4}
        ("averagepopularity", 3, ((10 + 3 + 1) / 3 + (8 + 10 + 2) / 3) / 2),
        ("tailpercentage", 3, (2 / 3 + 1 / 3) / 2),
        ("headrecall", 3, 2 / 2),  # only user B has head truth items (1, 0): both hit
        # A's tail truth {2, 5}: 2 is a hit -> 1/2; B's tail truth {3, 4}: 3 is a hit -> 1/2
        ("tailrecall", 3, (1 / 2 + 1 / 2) / 2),
        ("tailrecall", 1, (0 + 0) / 2),
    ],
)
def test_metric_values(ctx: M.RankingContext, name: str, k: int, expected: float) -> None:
    assert M.get(name).compute(ctx, k) == pytest.approx(expected)


def test_gini_index_by_hand(ctx: M.RankingContext) -> None:
    # exposure at K=3 sorted: [0, 1, 1, 1, 1, 2]; weights 2i - n - 1 = [-5, -3, -1, 1, 3, 5]
    # sum = -3 - 1 + 1 + 3 + 10 = 10; n * total = 6 * 6
    assert M.get("giniindex").compute(ctx, 3) == pytest.approx(10 / 36)


def test_gini_is_zero_for_uniform_exposure() -> None:
    ctx = M.RankingContext(
        topk=np.array([[0, 1], [2, 3]]),
        hits=np.zeros((2, 2), bool),
        truth_count=np.array([1, 1]),
        popularity=np.ones(4),
        head_truth_count=np.zeros(2, int),
    )
    assert M.get("giniindex").compute(ctx, 2) == pytest.approx(0.0)


def test_novelty_by_hand(ctx: M.RankingContext) -> None:
    share = (POP + 1) / (POP.sum() + 6)
    info = -np.log2(share)
    expected = (info[[0, 2, 4]].mean() + info[[1, 0, 3]].mean()) / 2
    assert M.get("novelty").compute(ctx, 3) == pytest.approx(expected)


def test_ndcg_ideal_uses_min_of_truth_and_k() -> None:
    # one truth item ranked first: NDCG must be exactly 1 whatever K is
    ctx = M.RankingContext(
        topk=np.array([[3, 1, 2]]),
        hits=np.array([[True, False, False]]),
        truth_count=np.array([1]),
        popularity=np.arange(5),
        head_truth_count=np.array([1]),
    )
    assert M.get("ndcg").compute(ctx, 3) == pytest.approx(1.0)


def test_registry_declares_needs_and_direction() -> None:
    assert M.get("GiniIndex").smaller_is_better
    assert M.get("averagepopularity").smaller_is_better
    assert not M.get("recall").smaller_is_better
    assert M.get("tailrecall").needs == "topk+truth+popularity"
    with pytest.raises(KeyError, match="unknown metric"):
        M.get("auc")


def test_compute_all_keys(ctx: M.RankingContext) -> None:
    values = M.compute_all(ctx, (1, 3), ("recall", "ndcg"))
    assert set(values) == {"recall@1", "recall@3", "ndcg@1", "ndcg@3"}
