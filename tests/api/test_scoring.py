"""Scorer and long-tail re-ranking on plain numpy data (no store)."""

from __future__ import annotations

import numpy as np
import pytest

from tailgraph.api.rerank import popularity_penalty, rank, tail_adjusted
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


def test_popularity_penalty_is_normalised_log() -> None:
    penalty = popularity_penalty(np.array([0, 1, 99]))
    assert penalty == pytest.approx([0.0, np.log(2) / np.log(100), 1.0])
    assert popularity_penalty(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_tail_weight_one_can_move_the_top_item_last() -> None:
    scores = np.array([1.0, 0.9, 0.2])
    penalty = np.array([1.0, 0.0, 0.0])
    assert tail_adjusted(scores, penalty, 0.0).tolist() == scores.tolist()
    adjusted = tail_adjusted(scores, penalty, 1.0)
    assert adjusted == pytest.approx([0.2, 0.9, 0.2])
    assert rank(["a", "b", "c"], adjusted) == [1, 2, 0]  # the popular top item is now last
    assert rank(["b", "a", "c"], np.array([0.5, 0.5, 0.7])) == [2, 1, 0]  # ties: by item id
