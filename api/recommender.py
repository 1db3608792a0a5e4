"""The recommendation use cases behind the routes: expand, score, re-rank, explain.

Each function takes the store, the scorer and plain arguments and returns a response model, so
routes only validate input and delegate.
"""

from __future__ import annotations

from tailgraph.api import candidates as cand
from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.rerank import rank, tail_adjusted
from tailgraph.api.schemas import (
    Explanation,
    KGPath,
    Recommendations,
    RecommendedItem,
    SimilarItem,
    SimilarItems,
)
from tailgraph.api.scoring import Scorer
from tailgraph.errors import ConflictError, NotFoundError
from tailgraph.graph.store import GraphStore


def recommend(
    store: GraphStore,
    scorer: Scorer,
    user_id: str,
    k: int,
    *,
    limits: ExpansionLimits,
    tail_weight: float = 0.0,
    exclude_seen: bool = True,
) -> Recommendations:
    """Top-``k`` items for a user.

    Candidates come from bounded collaborative and knowledge expansion in the graph; items the
    model does not know (added after training) are dropped; if fewer than ``k`` remain, the
    model's best catalogue items fill the list (source ``catalogue``). The pool is scored with
    ``user · item``, re-ranked for the long tail and cut to ``k``.
    """
    history = cand.user_history(store, user_id)
    seen = history.seen
    vector, kind = scorer.user_vector(user_id, seen)
    pool = {
        item_id: candidate
        for item_id, candidate in cand.expand(
            store, history, limits, exclude_seen=exclude_seen
        ).items()
        if scorer.has_item(item_id)
    }
    if len(pool) < k:
        exclude = set(pool) | (seen if exclude_seen else set())
        for item_id, _ in scorer.top_items(vector, k - len(pool), exclude):
            pool[item_id] = cand.Candidate(item_id, {cand.CATALOGUE: 0})
    ids = list(pool)
    model_scores = scorer.score(vector, ids)
    adjusted = tail_adjusted(model_scores, scorer.penalty(ids), tail_weight)
    order = rank(ids, adjusted)[:k]
    chosen = [ids[i] for i in order]
    titles = cand.item_titles(store, chosen)
    items = [
        RecommendedItem(
            item_id=ids[i],
            title=titles.get(ids[i]),
            score=float(adjusted[i]),
            model_score=float(model_scores[i]),
            rank=position,
            sources=pool[ids[i]].sources,  # type: ignore[arg-type]
        )
        for position, i in enumerate(order, start=1)
    ]
    return Recommendations(
        user_id=user_id,
        model=scorer.model_name,
        version=scorer.version,
        user_vector=kind,
        tail_weight=tail_weight,
        items=items,
    )


def similar_items(store: GraphStore, scorer: Scorer, item_id: str, k: int) -> SimilarItems:
    """The ``k`` items whose learned vectors are closest (cosine) to ``item_id``'s."""
    if not cand.item_titles(store, [item_id]):
        raise NotFoundError(f"item {item_id!r} not found")
    if not scorer.has_item(item_id):
        raise ConflictError(
            f"item {item_id!r} was added after model {scorer.version!r} was trained; "
            "retrain to get similar items"
        )
    neighbours = scorer.similar_items(item_id, k)
    titles = cand.item_titles(store, [i for i, _ in neighbours])
    return SimilarItems(
        item_id=item_id,
        model=scorer.model_name,
        version=scorer.version,
        items=[
            SimilarItem(item_id=i, title=titles.get(i), similarity=s, rank=position)
            for position, (i, s) in enumerate(neighbours, start=1)
        ],
    )


def explain(
    store: GraphStore,
    scorer: Scorer,
    user_id: str,
    item_id: str,
    *,
    limits: ExpansionLimits,
) -> Explanation:
    """Why ``item_id`` suits ``user_id``: shared KG entities, co-interacting users, score."""
    history = cand.user_history(store, user_id)
    titles = cand.item_titles(store, [item_id])
    if item_id not in titles:
        raise NotFoundError(f"item {item_id!r} not found")
    vector, _ = scorer.user_vector(user_id, history.seen)
    score = scorer.item_score(vector, item_id)
    co_users, raters = cand.co_users(store, user_id, item_id, limits)
    paths = [
        KGPath(
            seed_item_id=str(row["seed_id"]),
            seed_title=row["seed_title"],
            seed_relation=row["seed_relation"],
            seed_relation_name=row["seed_relation_name"],
            entity_id=str(row["entity_id"]),
            entity_name=row["entity_name"],
            item_relation=row["item_relation"],
            item_relation_name=row["item_relation_name"],
        )
        for row in cand.kg_paths(store, user_id, item_id, limits)
    ]
    return Explanation(
        user_id=user_id,
        item_id=item_id,
        title=titles[item_id],
        model=scorer.model_name,
        version=scorer.version,
        score=score,
        seen=item_id in history.seen,
        kg_paths=paths,
        co_users=co_users,
        raters_examined=raters,
    )
