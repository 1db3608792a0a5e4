"""How baselines pick a hyper-parameter without the test set: the best validation NDCG@20."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.split import InteractionSplit
from tailgraph.gnn.tail import ScoreFn

Candidate = TypeVar("Candidate", bound=ScoreFn)


def best_on_validation(
    candidates: Iterable[tuple[str, Candidate]], split: InteractionSplit
) -> tuple[Candidate, dict[str, float]]:
    """The first candidate with the highest validation NDCG@20, and every label's score.

    How baselines pick a hyper-parameter (ItemKNN's neighbours, fusion's α) without the test set.
    """
    best, best_score, scores = None, float("-inf"), {}
    for label, model in candidates:
        result = evaluate(model, split, part="valid", ks=(20,), metric_names=("ndcg",))
        scores[label] = result.metrics["ndcg@20"]
        if best is None or scores[label] > best_score:
            best, best_score = model, scores[label]
    if best is None:
        raise ValueError("no candidates to choose from")
    return best, scores
