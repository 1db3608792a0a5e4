"""Scoring top-K lists: metrics by hand, subsets, exposure, recall by popularity decile."""

from __future__ import annotations

import numpy as np

from tailgraph.evaluation.scoring import decile_recall, score_topk
from tests.evaluation.helpers import check_hand_metrics, tiny


def test_score_topk_by_hand() -> None:
    _, split = tiny()
    scored = score_topk(np.array([0, 1]), np.array([[2, 4], [0, 4]]), split, ks=(1, 2))
    check_hand_metrics(scored.metrics)
    assert scored.subset_users == {"all": 2, "cold": 1, "sparse": 2}
    assert scored.exposure.tolist() == [1, 0, 1, 0, 2]


def test_decile_recall_counts_test_pairs_per_popularity_group() -> None:
    popularity = np.arange(10)  # item n is in decile n
    truth = np.array([[0, 9], [0, 0], [1, 0]])
    out = decile_recall(np.array([0, 1]), np.array([[9, 5], [1, 2]]), truth, popularity, k=2)
    assert out[9] == 1.0 and out[0] == 0.0 and out[5] is None
