"""The recommendation use cases behind the routes: expand, score, re-rank, explain.

Each function takes the store, the scorer and plain arguments and returns a response model, so
routes only validate input and delegate. Known users and anonymous profiles share one pipeline
(:func:`rank_profile`): candidates from every selected source, merged by item id (each item
lists all the sources that proposed it), optionally restricted to one KG entity, scored with
``user · item``, re-ranked for the long tail and cut to ``k``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

import numpy as np

from tailgraph.api import candidates as cand
from tailgraph.api.candidates import Candidate, ExpansionLimits, TitleCache
from tailgraph.api.explanations import explanation_paths
from tailgraph.api.prometheus import Metrics
from tailgraph.api.read_cache import ReadCache
from tailgraph.api.schemas import (
    Explanation,
    Recommendations,
    RecommendedItem,
    SimilarItem,
    SimilarItems,
    UserVectorKind,
)
from tailgraph.api.scoring import Scorer, TextAffinity
from tailgraph.api.vector_source import VectorSource
from tailgraph.errors import ConflictError, DataValidationError, NotFoundError
from tailgraph.gnn.neighbours import COLLABORATIVE, KNOWLEDGE
from tailgraph.gnn.tail import rerank
from tailgraph.graph.store import GraphStore


@dataclass
class Profile:
    """Whom to recommend for: a vector, graph seeds and what must never be recommended."""

    user_id: str | None  # None: an anonymous profile
    vector: np.ndarray
    kind: UserVectorKind
    seeds: list[str]
    exclude: frozenset[str]  # never recommended (seen items, given items)
    exclude_seen_in_graph: bool = False  # also let the graph drop the user's items
    proposed: dict[str, Candidate] = field(default_factory=dict)  # e.g. text matches
    text: TextAffinity | None = None  # free-text interests blended into the ranking score
    nearest: list[tuple[str, float]] | None = None  # vector-source results already read


@dataclass(frozen=True)
class Request:
    """How to rank: size, long-tail weight, sources and an optional KG-entity filter."""

    k: int
    tail_weight: float = 0.0
    sources: Collection[str] = cand.SELECTABLE
    entity_id: str | None = None


def user_profile(
    store: GraphStore,
    scorer: Scorer,
    user_id: str,
    limits: ExpansionLimits,
    exclude_seen: bool,
    vectors: VectorSource | None = None,
    reads: ReadCache | None = None,
    kept: tuple | None = None,
) -> Profile:
    """A stored user's profile: their vector (with live interactions folded in) and history.

    With ``vectors``, a user the model learned is read with the vector source's candidates in
    the same statement (:meth:`VectorSource.history_and_nearest`), or taken from ``reads`` when
    that read is kept and no write touched it since (``kept``: that read, already looked up);
    the candidates are used only if no interaction newer than the model changed the vector
    they were searched with.
    """
    learned = scorer.learned_user_vector(user_id) if vectors is not None else None
    combined = None
    if learned is not None and vectors is not None:
        key = kept_read_key(scorer, limits, exclude_seen)
        combined = kept
        if combined is None and reads is not None:
            combined = reads.get(user_id, key)
        if combined is None:
            combined = _read_and_keep(
                store, user_id, learned, limits, exclude_seen, vectors, reads, key
            )
    history = combined[0] if combined is not None else cand.user_history(store, user_id)
    live = history.recorded_after(scorer.trained_at)
    vector, kind = scorer.user_vector(user_id, history.seen, live)
    return Profile(
        user_id=user_id,
        vector=vector,
        kind=kind,
        seeds=history.seeds(limits.max_seeds),
        exclude=history.seen if exclude_seen else frozenset(),
        exclude_seen_in_graph=exclude_seen,
        nearest=combined[1] if combined is not None and kind == "learned" else None,
    )


def recommend(
    store: GraphStore,
    scorer: Scorer,
    user_id: str,
    k: int,
    *,
    limits: ExpansionLimits,
    tail_weight: float = 0.0,
    exclude_seen: bool = True,
    entity_id: str | None = None,
    sources: Collection[str] | None = None,
    vectors: VectorSource | None = None,
    metrics: Metrics | None = None,
    titles: TitleCache | None = None,
    reads: ReadCache | None = None,
    kept: tuple | None = None,
    on_pool: Callable[[dict[str, Candidate]], None] | None = None,
) -> Recommendations:
    """Top-``k`` items for a stored user (see :func:`rank_profile`); ``reads`` keeps the
    store read of a default request between requests (:mod:`tailgraph.api.read_cache`),
    ``kept`` is that read when the caller already looked it up (:func:`kept_in_memory`)."""
    if sources is not None and set(sources) <= {cand.TEXT}:
        raise DataValidationError(
            "the text source matches free-text interests, which only visitors give "
            "(POST /recommendations); choose another source for a stored user",
            field="sources",
        )
    if entity_id is not None:
        cand.require_entities(store, [entity_id])
    request = Request(k, tail_weight, tuple(sources or cand.SELECTABLE), entity_id)
    wants_vector = cand.VECTOR in request.sources
    profile = user_profile(
        store,
        scorer,
        user_id,
        limits,
        exclude_seen,
        vectors if wants_vector else None,
        reads,
        kept if wants_vector else None,
    )
    return rank_profile(
        store, scorer, profile, request, limits, vectors, metrics, titles, on_pool=on_pool
    )


def _extra_nearest(limits: ExpansionLimits, exclude_seen: bool) -> int:
    """Nearest items read beyond ``max_vector_candidates``, at most one per seen item, so
    dropping the user's own items still leaves enough."""
    return limits.max_vector_candidates if exclude_seen else 0


def kept_read_key(scorer: Scorer, limits: ExpansionLimits, exclude_seen: bool) -> tuple:
    """What a kept read of :func:`user_profile` depends on besides the user."""
    return (scorer.version, limits.max_vector_candidates, _extra_nearest(limits, exclude_seen))


def _read_and_keep(
    store: GraphStore,
    user_id: str,
    learned: np.ndarray,
    limits: ExpansionLimits,
    exclude_seen: bool,
    vectors: VectorSource,
    reads: ReadCache | None,
    key: tuple,
) -> tuple | None:
    """The user's history and nearest items in one statement, kept in ``reads`` under the
    write counters as they were before the read (a write landing meanwhile makes it stale)."""
    counters = reads.before_read(user_id) if reads is not None else (0, 0)
    combined = vectors.history_and_nearest(
        store, user_id, learned, limits.max_vector_candidates, _extra_nearest(limits, exclude_seen)
    )
    if combined is not None and reads is not None:
        reads.put(user_id, key, combined, counters)
    return combined


def refresh_kept_read(
    store: GraphStore,
    scorer: Scorer,
    user_id: str,
    limits: ExpansionLimits,
    exclude_seen: bool,
    vectors: VectorSource,
    reads: ReadCache,
) -> None:
    """Read a kept read again, off the request path (after :meth:`ReadCache.claim_refresh`)."""
    key = kept_read_key(scorer, limits, exclude_seen)
    try:
        learned = scorer.learned_user_vector(user_id)
        if learned is not None:
            _read_and_keep(store, user_id, learned, limits, exclude_seen, vectors, reads, key)
    finally:
        reads.release(user_id, key)


def kept_in_memory(
    scorer: Scorer,
    user_id: str,
    limits: ExpansionLimits,
    *,
    exclude_seen: bool,
    sources: Collection[str] | None,
    entity_id: str | None,
    vectors: VectorSource | None,
    reads: ReadCache | None,
) -> tuple | None:
    """The kept read with which :func:`recommend` answers without a store call (pass it as
    ``kept``), or None: a default-shaped request for a user the model learned, whose read is
    kept with no interaction newer than the model.

    The route runs such a request on the event loop and the rest in a worker thread, so a slow
    store never holds the loop and the common request pays no thread hop or GIL hand-over.
    """
    if reads is None or vectors is None or entity_id is not None:
        return None
    wanted = set(sources or cand.SELECTABLE)
    if cand.VECTOR not in wanted or wanted & {COLLABORATIVE, KNOWLEDGE} - set(scorer.neighbours):
        return None  # no kept read, or graph sources the model has no neighbours for
    if scorer.learned_user_vector(user_id) is None:
        return None
    kept = reads.peek(user_id, kept_read_key(scorer, limits, exclude_seen))
    if kept is None or kept[0].recorded_after(scorer.trained_at):
        return None
    return kept


def gather(
    store: GraphStore,
    scorer: Scorer,
    profile: Profile,
    request: Request,
    limits: ExpansionLimits,
    vectors: VectorSource | None,
) -> dict[str, Candidate]:
    """Candidates from every selected source, merged; items unknown to the model dropped."""
    wanted = set(request.sources)
    pool = cand.expand_seeds(
        store,
        profile.user_id or "",
        profile.seeds,
        limits,
        exclude_seen=profile.exclude_seen_in_graph,
        exclude=profile.exclude if profile.user_id is None else (),
        sources=wanted,
        precomputed=scorer.neighbours,
        seen=profile.exclude,
    )

    def propose(source: str, found: Iterable[tuple[str, float]]) -> None:
        for item_id, _ in found:
            candidate = pool.get(item_id)
            if candidate is None:
                candidate = pool[item_id] = Candidate(item_id)
            candidate.support[source] = 1

    if cand.MODEL in wanted:
        propose(
            cand.MODEL,
            scorer.top_items(profile.vector, limits.max_model_candidates, profile.exclude),
        )
    if cand.VECTOR in wanted and vectors is not None:
        found = profile.nearest
        if found is None:
            extra = min(len(profile.exclude), limits.max_vector_candidates)
            found = vectors.nearest(store, profile.vector, limits.max_vector_candidates + extra)
        propose(cand.VECTOR, [f for f in found if f[0] not in profile.exclude])
    if cand.TAIL in wanted:
        propose(
            cand.TAIL,
            scorer.top_tail_items(profile.vector, limits.max_tail_candidates, profile.exclude),
        )
    if cand.TEXT in wanted:
        for item_id, candidate in profile.proposed.items():
            pool.setdefault(item_id, Candidate(item_id)).support.update(candidate.support)
    return {
        item_id: c
        for item_id, c in pool.items()
        if scorer.has_item(item_id) and item_id not in profile.exclude
    }


def rank_profile(
    store: GraphStore,
    scorer: Scorer,
    profile: Profile,
    request: Request,
    limits: ExpansionLimits,
    vectors: VectorSource | None = None,
    metrics: Metrics | None = None,
    titles: TitleCache | None = None,
    *,
    on_pool: Callable[[dict[str, Candidate]], None] | None = None,
) -> Recommendations:
    """Gather, filter by entity, fill to ``k`` from the model's ranking, score, re-rank, cut.

    If fewer than ``k`` candidates remain, the model's best catalogue items (under an entity
    filter: the best of that entity's items) fill the list with source ``catalogue``.
    ``titles`` (a cache) saves the titles' round trip; ``on_pool`` sees the final candidate
    pool (served-quality evaluation measures candidate recall with it).
    """
    pool = gather(store, scorer, profile, request, limits, vectors)
    if request.entity_id is not None:
        linked = cand.linked_to_entity(store, pool, request.entity_id)
        pool = {item_id: c for item_id, c in pool.items() if item_id in linked}
    if metrics is not None:
        counts = Counter(source for c in pool.values() for source in c.support)
        for source in cand.SOURCE_ORDER[:-1]:
            metrics.candidates.observe(counts[source], source=source)
    fill = _fill(store, scorer, profile, request, limits, pool)
    if metrics is not None:
        metrics.candidates.observe(len(fill), source=cand.CATALOGUE)
    for item_id in fill:
        pool[item_id] = Candidate(item_id, {cand.CATALOGUE: 0})
    if on_pool is not None:
        on_pool(pool)
    ids = list(pool)
    model_scores = scorer.score(profile.vector, ids)
    ranking = model_scores if profile.text is None else profile.text.blend(model_scores, ids)
    adjusted = rerank(ranking, scorer.penalty(ids), request.tail_weight)
    order = _rank(ids, adjusted)[: request.k]
    shown = [ids[i] for i in order]
    relevance = catalogue_share(scorer, profile.vector, model_scores[order])
    named = titles.get(store, shown) if titles is not None else cand.item_titles(store, shown)
    items = [
        RecommendedItem(
            item_id=ids[i],
            title=named.get(ids[i]),
            score=float(adjusted[i]),
            model_score=float(model_scores[i]),
            relevance=float(share),
            rank=position,
            sources=pool[ids[i]].sources,  # type: ignore[arg-type]
        )
        for position, (i, share) in enumerate(zip(order, relevance, strict=True), start=1)
    ]
    return Recommendations(
        user_id=profile.user_id,
        model=scorer.model_name,
        version=scorer.version,
        user_vector=profile.kind,
        tail_weight=request.tail_weight,
        items=items,
        shortfall=None if len(items) >= request.k else _shortfall(request, len(items)),
    )


def _shortfall(request: Request, found: int) -> str:
    """One sentence on why only ``found`` of ``request.k`` items could be recommended."""
    if request.entity_id is not None:
        return (
            f"only {found} item(s) linked to entity {request.entity_id!r} are known to the "
            "model and not excluded (seen or given)"
        )
    return f"only {found} item(s) of the catalogue are known to the model and not excluded"


def catalogue_share(scorer: Scorer, vector: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """For each of ``scores``, the share of catalogue items the model scores below it."""
    catalogue = np.sort(scorer.catalogue_scores(vector))
    below = np.searchsorted(catalogue, np.asarray(scores, dtype=catalogue.dtype), side="left")
    return np.clip(below / max(len(catalogue) - 1, 1), 0.0, 1.0)


def _fill(
    store: GraphStore,
    scorer: Scorer,
    profile: Profile,
    request: Request,
    limits: ExpansionLimits,
    pool: dict[str, Candidate],
) -> list[str]:
    """Ids of the best catalogue items to bring the pool up to ``k`` (none if it has enough)."""
    missing = request.k - len(pool)
    if missing <= 0:
        return []
    exclude = set(pool) | profile.exclude
    if request.entity_id is None:
        return [item_id for item_id, _ in scorer.top_items(profile.vector, missing, exclude)]
    members = [
        item_id
        for item_id in cand.entity_items(store, request.entity_id, limits.max_entity_items)
        if item_id not in exclude and scorer.has_item(item_id)
    ]
    scores = scorer.score(profile.vector, members)
    return [members[i] for i in _rank(members, scores)[:missing]]


def _rank(item_ids: list[str], scores: np.ndarray) -> list[int]:
    """Positions of ``item_ids`` by score descending, ties by item id (deterministic)."""
    if not item_ids:
        return []
    negated = -np.asarray(scores, dtype=np.float64)
    return np.lexsort((np.asarray(item_ids, dtype=str), negated)).tolist()


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
    vector, _ = scorer.user_vector(user_id, history.seen, history.recorded_after(scorer.trained_at))
    score = scorer.item_score(vector, item_id)
    co_users, raters = cand.co_users(store, user_id, item_id, limits)
    paths = explanation_paths(store, scorer, history.seen, item_id, limits)
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
