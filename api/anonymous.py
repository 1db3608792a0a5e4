"""Recommendations for visitors the system has not seen, from liked items and/or free-text
interests.

Choice (documented for ``POST /recommendations``): the visitor's vector lives in the learned
space. Each given item the model knows contributes its learned vector. Each free-text interest
is encoded with the same BERT model as the items (``TextEncoder``), matched to the items whose
``textEmbedding`` is closest by cosine (top ``max_text_neighbours``, positive similarity only),
and contributes the similarity-weighted mean of *their* learned vectors. The visitor vector is
the plain mean of all contributions (an interest counts as much as a liked item). The best
``max_text_candidates`` matches are also candidates (source ``text``) and, after the given
items, graph seeds.

With interests and ``text_weight`` > 0, the ranking score blends the two signals
(:class:`TextAffinity`): each is standardised over the catalogue (a z-score, so neither scale
dominates) and mixed with weight ``text_weight``. The default, :data:`TEXT_WEIGHT`, is the
weight ``bench/free_text.py`` chose on validation (see docs/models.md): 0, the learned order.
Items whose title the interests name ("movies like The Godfather") count as liked items (their
learned vectors join the profile) and are not recommended back.
"""

from __future__ import annotations

import numpy as np

from tailgraph.api import candidates as cand
from tailgraph.api.candidates import Candidate, ExpansionLimits, TitleCache
from tailgraph.api.prometheus import Metrics
from tailgraph.api.recommender import Profile, Request, rank_profile
from tailgraph.api.schemas import ProfileRequest, Recommendations
from tailgraph.api.scoring import Scorer, TextAffinity
from tailgraph.api.text_index import TextIndex
from tailgraph.api.vector_source import VectorSource
from tailgraph.errors import DataValidationError, NotFoundError
from tailgraph.graph.store import GraphStore

TEXT_WEIGHT = 0.0  # text z-score's share in a visitor's ranking: chosen on validation


def anonymous_profile(
    store: GraphStore,
    scorer: Scorer,
    texts: TextIndex,
    body: ProfileRequest,
    limits: ExpansionLimits,
) -> Profile:
    """The visitor's vector, seeds and exclusions (their own items are never recommended)."""
    if not body.item_ids and not body.interests:
        raise DataValidationError("give item_ids, interests or both", field="item_ids")
    given = list(dict.fromkeys(body.item_ids))
    found = cand.item_titles(store, given)
    missing = [item_id for item_id in given if item_id not in found]
    if missing:
        raise NotFoundError(f"items not found: {', '.join(repr(m) for m in missing[:10])}")
    contributions = list(scorer.item_vectors(given))
    proposed: dict[str, Candidate] = {}
    exclude = set(given)
    queries = texts.encode(body.interests) if body.interests else np.zeros((0, 0))
    if len(queries):
        scan = max(limits.max_text_neighbours, limits.max_text_candidates)
        nearest = [texts.nearest(store, q, scan, scorer.has_item) for q in queries]
        named = texts.named(store, body.interests) - exclude
        # a named film is evidence like a liked one: its learned vector joins the profile
        contributions.extend(scorer.item_vectors(sorted(named)))
        exclude |= named
        for matches in nearest:
            matches = [(i, s) for i, s in matches if i not in exclude]
            neighbours = matches[: limits.max_text_neighbours]
            if not neighbours:
                continue
            weights = np.array([similarity for _, similarity in neighbours], dtype=np.float32)
            learned = scorer.item_vectors([item_id for item_id, _ in neighbours])
            contributions.append((weights[:, None] * learned).sum(axis=0) / weights.sum())
            for item_id, _ in matches[: limits.max_text_candidates]:
                support = proposed.setdefault(item_id, Candidate(item_id)).support
                support[cand.TEXT] = support.get(cand.TEXT, 0) + 1
    if contributions:
        vector, kind = np.mean(contributions, axis=0), "folded_in"
    else:
        vector, kind = scorer.mean_user(), "average"
    affinity = None
    weight = TEXT_WEIGHT if body.text_weight is None else body.text_weight
    if len(queries) and weight > 0:  # at weight 0 the blend is the learned order: skip it
        query = queries.mean(axis=0)
        query = query / (np.linalg.norm(query) or 1.0)
        affinity = TextAffinity.build(
            weight, scorer.catalogue_scores(vector), texts.catalogue_cosines(store, query)
        )
    seeds = [*given, *(i for i in proposed if i not in given)][: limits.max_seeds]
    return Profile(
        user_id=None,
        vector=vector,
        kind=kind,  # type: ignore[arg-type]
        seeds=seeds,
        exclude=frozenset(exclude),
        proposed=proposed,
        text=affinity,
    )


def recommend_visitor(
    store: GraphStore,
    scorer: Scorer,
    texts: TextIndex,
    body: ProfileRequest,
    limits: ExpansionLimits,
    vectors: VectorSource | None = None,
    metrics: Metrics | None = None,
    titles: TitleCache | None = None,
) -> Recommendations:
    """Top-``k`` items for the visitor, through the same pipeline as a stored user's."""
    if body.entity_id is not None:
        cand.require_entities(store, [body.entity_id])
    profile = anonymous_profile(store, scorer, texts, body, limits)
    sources = tuple(body.sources or cand.SELECTABLE)
    request = Request(body.k, body.tail_weight, sources, body.entity_id)
    return rank_profile(store, scorer, profile, request, limits, vectors, metrics, titles)
