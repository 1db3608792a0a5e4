"""Scorer and the deterministic ranking on plain numpy data (no store); the tail rule and the
re-ranking formula are tested with :mod:`tailgraph.gnn.tail`."""

from __future__ import annotations

import numpy as np
import pytest

from tailgraph.api.recommender import _rank
from tailgraph.api.scoring import Scorer
from tailgraph.errors import ArtefactError
from tailgraph.gnn.artefacts import LearnedEmbeddings

from .conftest import make_embeddings


def test_top_items_excludes_and_sorts() -> None:
    scorer = Scorer(make_embeddings())
    vector, kind = scorer.user_vector("u1", [])
    assert kind == "learned"
    top = scorer.top_items(vector, 3, exclude={"i7"})
    assert [item for item, _ in top] == ["i3", "i5", "i6"]
    assert [score for _, score in top] == pytest.approx([0.9, 0.7, 0.5])
    everything = scorer.top_items(vector, 100, exclude={"i1", "unknown"})
    assert len(everything) == 6


def test_fold_in_is_the_mean_of_known_items() -> None:
    scorer = Scorer(make_embeddings())
    vector, kind = scorer.user_vector("new", ["i1", "i3", "not-in-model"])
    assert kind == "folded_in"
    assert vector == pytest.approx([0.5, 0.55, 0.0, 0.0])
    _, kind = scorer.user_vector("new", ["not-in-model"])
    assert kind == "average"


def test_mismatched_artefacts_are_rejected() -> None:
    good = make_embeddings()
    bad = LearnedEmbeddings(
        model_name="m",
        version="v",
        user_ids=good.user_ids,
        item_ids=good.item_ids,
        user=good.user[:, :2],
        item=good.item,
        item_popularity=good.item_popularity,
    )
    with pytest.raises(ArtefactError, match="shapes do not match"):
        Scorer(bad)
    bad.user = good.user
    bad.item_popularity = good.item_popularity[:2]
    with pytest.raises(ArtefactError, match="item_popularity"):
        Scorer(bad)


def test_tail_pool_is_gnn_tails_tail_and_added_items_join_it() -> None:
    scorer = Scorer(make_embeddings())
    vector, _ = scorer.user_vector("u1", [])
    # head = the 2 most popular of 7 (i3, i1); i6 and i7 were never interacted with: tail
    pool = [item for item, _ in scorer.top_tail_items(vector, 10)]
    assert pool == ["i7", "i5", "i6", "i2", "i4"]
    assert scorer.penalty(["i3", "i6"]).tolist() == [1.0, 0.0]
    scorer.add_item("new", np.array([2.0, 0.0, 0.0, 0.0]))
    assert scorer.top_tail_items(vector, 1) == [("new", 2.0)]
    assert scorer.penalty(["new"]).tolist() == [0.0]


def test_rank_orders_by_score_then_item_id() -> None:
    assert _rank(["a", "b", "c"], np.array([0.2, 0.9, 0.5])) == [1, 2, 0]
    assert _rank(["b", "a", "c"], np.array([0.5, 0.5, 0.7])) == [2, 1, 0]  # ties: by item id
