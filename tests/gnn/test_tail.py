"""The one tail module: head/tail split, popularity penalty and the tail_weight re-ranker, the
same for evaluation (torch, full catalogue) and the service (numpy, a candidate set)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailgraph.gnn.tail import (
    head_items,
    popularity_penalty,
    rerank,
    tail_adjusted,
    tail_items,
)


def test_head_is_the_top_fifth_by_popularity_ties_by_index() -> None:
    popularity = np.array([10, 8, 3, 2, 1, 0])
    assert head_items(popularity).tolist() == [True, True, False, False, False, False]
    tied = np.array([5, 5, 5, 5, 5, 1, 1, 1, 1, 1])  # two head places, five items tied
    assert head_items(tied).tolist() == [True, True] + [False] * 8
    assert (tail_items(tied) == ~head_items(tied)).all()


def test_items_nobody_interacted_with_are_never_head() -> None:
    assert head_items(np.array([3, 0, 0, 0, 0, 0])).tolist() == [True] + [False] * 5
    assert not head_items(np.zeros(4)).any()


def test_penalty_is_normalised_log_and_the_same_in_numpy_and_torch() -> None:
    popularity = np.array([0, 1, 99, 5, 40])
    penalty = popularity_penalty(popularity)
    assert penalty.dtype == np.float64
    assert penalty[:3] == pytest.approx([0.0, np.log(2) / np.log(100), 1.0])
    as_tensor = popularity_penalty(torch.from_numpy(popularity))
    assert isinstance(as_tensor, torch.Tensor)
    np.testing.assert_allclose(as_tensor.numpy(), penalty, rtol=1e-6)
    assert popularity_penalty(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    assert torch.equal(popularity_penalty(torch.zeros(4)), torch.zeros(4))


def test_tail_weight_one_can_move_the_top_item_last() -> None:
    scores = np.array([1.0, 0.9, 0.2])
    penalty = np.array([1.0, 0.0, 0.0])
    assert rerank(scores, penalty, 0.0).tolist() == scores.tolist()
    assert rerank(scores, penalty, 1.0) == pytest.approx([0.2, 0.9, 0.2])


def test_full_catalogue_reranking_equals_the_services_on_the_same_candidates() -> None:
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(3, 7, generator=generator, dtype=torch.float64)
    popularity = torch.tensor([0, 1, 5, 40, 2, 0, 9])
    adjusted = tail_adjusted(lambda users: scores[users], popularity, 0.4)(torch.arange(3))
    for user in range(3):
        expected = rerank(scores[user].numpy(), popularity_penalty(popularity.numpy()), 0.4)
        np.testing.assert_allclose(adjusted[user].numpy(), expected, rtol=1e-6)
    unchanged = tail_adjusted(lambda users: scores[users], popularity, 0.0)(torch.arange(3))
    assert torch.equal(unchanged, scores)


def test_reranking_touches_only_the_candidate_pool() -> None:
    scores = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    popularity = torch.tensor([100, 100, 0, 0, 0, 0])
    adjusted = tail_adjusted(lambda users: scores[users], popularity, 1.0, pool=3)(torch.arange(1))[
        0
    ]
    order = torch.argsort(adjusted, descending=True).tolist()
    # pool {0, 1, 2}: spread 5 - 3 = 2; popular 0 and 1 drop by 2 -> 3.0, 2.0; item 2 stays 3.0
    assert set(order[:3]) == {0, 1, 2} and order[0] in (0, 2) and order[2] == 1
    assert order[3:] == [3, 4, 5]  # outside the pool: below every candidate, own order kept
