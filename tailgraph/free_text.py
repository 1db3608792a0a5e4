"""Free-text visitors, measured: a protocol for people described only by what they write.

Each evaluated user of a split becomes a visitor who names a few of their training items and
those items' commonest genres ("Films like Fargo, Heat and Casino. Genres: Crime, Thriller."),
nothing else. The visitor is served through ``POST /recommendations``' use case (the steps
of :func:`tailgraph.api.anonymous.recommend_visitor`: the real store, BERT, candidate sources
and blend) and the top-K is scored against the user's held-out items (validation items to
choose the blend weight, test items to report), with the same metric code as every other
list. The service knows nothing else about the visitor, so it may show their other training
items: they count as misses for every method alike. Also computed, from the same profile:
the blend over the whole catalogue (``full``), so served/full tells whether the pool was
complete.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tailgraph.api import candidates as cand
from tailgraph.api.anonymous import anonymous_profile
from tailgraph.api.candidates import ExpansionLimits, TitleCache
from tailgraph.api.recommender import Request, rank_profile
from tailgraph.api.schemas import ProfileRequest
from tailgraph.api.scoring import Scorer
from tailgraph.api.text_index import TextIndex
from tailgraph.api.vector_source import VectorSource
from tailgraph.evaluation.scoring import ranking_context
from tailgraph.gnn import metrics as M
from tailgraph.gnn.split import InteractionSplit
from tailgraph.graph.snapshot import GraphSnapshot

NAMED_ITEMS = 3  # training items a visitor names
GENRES = 3  # commonest genres of the named items a visitor lists
KS = (10, 20)


@dataclass(frozen=True)
class Visitor:
    """One user as a free-text visitor: the text, and the training items it names."""

    user: int  # row in the snapshot's users
    text: str
    named: tuple[int, ...]  # rows in the snapshot's items


def interest_text(items: Sequence[Mapping]) -> str:
    """ "Films like A, B and C. Genres: X, Y." from item records (``title``, ``genres``)."""
    titles = [str(item["title"]) for item in items if item.get("title")]
    listed = ", ".join(titles[:-1]) + f" and {titles[-1]}" if len(titles) > 1 else "".join(titles)
    genres = Counter(g for item in items for g in item.get("genres") or ())
    text = f"Films like {listed}." if listed else ""
    top = [genre for genre, _ in genres.most_common(GENRES)]
    return f"{text} Genres: {', '.join(top)}." if top else text


def visitors(
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    items: Mapping[str, Mapping],
    *,
    seed: int = 0,
    named: int = NAMED_ITEMS,
) -> list[Visitor]:
    """A visitor for every user with test items and at least ``named`` titled training items."""
    rng = np.random.default_rng(seed)
    train: dict[int, list[int]] = {}
    for user, item in split.train.tolist():
        if items.get(snapshot.item_ids[item], {}).get("title"):
            train.setdefault(user, []).append(item)
    out = []
    for user in np.unique(split.test[:, 0]).tolist():
        own = sorted(train.get(user, []))
        if len(own) < named:
            continue
        chosen = sorted(rng.choice(own, size=named, replace=False).tolist())
        text = interest_text([items[snapshot.item_ids[i]] for i in chosen])
        out.append(Visitor(user, text, tuple(chosen)))
    return out


@dataclass
class FreeTextResult:
    """Served and full-catalogue metrics of one blend weight on one set of held-out pairs."""

    text_weight: float
    served: dict[str, float]
    full: dict[str, float]
    named_recommended: int  # named items found in the served lists (should be 0)
    latency_ms: dict[str, float]


def evaluate(
    store,
    scorer: Scorer,
    texts: TextIndex,
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    people: Sequence[Visitor],
    truth: np.ndarray,
    text_weight: float,
    *,
    k: int = 20,
    limits: ExpansionLimits | None = None,
) -> FreeTextResult:
    """Serve every visitor at ``text_weight`` and score against ``truth`` (user, item) pairs."""
    limits = limits or ExpansionLimits()
    vectors, titles = VectorSource(), TitleCache()
    index, catalogue, catalogue_rows = _catalogue(snapshot, scorer)
    people = sorted(people, key=lambda v: v.user)
    users = np.array([v.user for v in people], dtype=np.int64)
    served = np.full((len(people), k), -1, dtype=np.int64)
    full = np.full((len(people), k), -1, dtype=np.int64)
    seconds, named_shown = [], 0
    for row, visitor in enumerate(people):
        body = ProfileRequest(interests=[visitor.text], k=k, text_weight=text_weight)
        started = time.perf_counter()  # what recommend_visitor runs, keeping the profile
        profile = anonymous_profile(store, scorer, texts, body, limits)
        request = Request(body.k, body.tail_weight, cand.SELECTABLE)
        answer = rank_profile(store, scorer, profile, request, limits, vectors, titles=titles)
        seconds.append(time.perf_counter() - started)
        shown = [index[item.item_id] for item in answer.items]
        served[row, : len(shown)] = shown
        named_shown += len(set(shown) & set(visitor.named))
        collab = scorer.score(profile.vector, catalogue)
        scores = collab if profile.text is None else profile.text.blend(collab, catalogue)
        scores = np.where([i in profile.exclude for i in catalogue], -np.inf, scores)
        best = np.lexsort((catalogue_rows, -scores))[:k]
        full[row, : len(best)] = catalogue_rows[best]
    latency = np.asarray(seconds) * 1000.0
    return FreeTextResult(
        text_weight=text_weight,
        served=_metrics(users, served, truth, split),
        full=_metrics(users, full, truth, split),
        named_recommended=named_shown,
        latency_ms={f"p{p}": float(np.percentile(latency, p)) for p in (50, 95, 99)},
    )


def evaluate_previous(
    store,
    scorer: Scorer,
    texts: TextIndex,
    snapshot: GraphSnapshot,
    split: InteractionSplit,
    people: Sequence[Visitor],
    truth: np.ndarray,
    *,
    k: int = 20,
    limits: ExpansionLimits | None = None,
) -> dict[str, float]:
    """The rule served before the blend, over the whole catalogue: the similarity-weighted
    mean of the interests' nearest items' learned vectors, ranked by dot product alone, named
    items not excluded (the served lists matched it to 3 decimals, see bench/README.md)."""
    limits = limits or ExpansionLimits()
    index, catalogue, catalogue_rows = _catalogue(snapshot, scorer)
    people = sorted(people, key=lambda v: v.user)
    topk = np.full((len(people), k), -1, dtype=np.int64)
    for row, visitor in enumerate(people):
        query = texts.encode([visitor.text])[0]
        matches = texts.nearest(store, query, limits.max_text_neighbours, scorer.has_item)
        weights = np.array([similarity for _, similarity in matches], dtype=np.float32)
        learned = scorer.item_vectors([item_id for item_id, _ in matches])
        vector = (weights[:, None] * learned).sum(axis=0) / weights.sum()
        scores = scorer.score(vector, catalogue)
        best = np.lexsort((catalogue_rows, -scores))[:k]
        topk[row] = catalogue_rows[best]
    users = np.array([v.user for v in people], dtype=np.int64)
    return _metrics(users, topk, truth, split)


def _catalogue(
    snapshot: GraphSnapshot, scorer: Scorer
) -> tuple[dict[str, int], list[str], np.ndarray]:
    """Snapshot row by item id, the items the model knows, and their snapshot rows."""
    index = {item_id: n for n, item_id in enumerate(snapshot.item_ids)}
    catalogue = [i for i in snapshot.item_ids if scorer.has_item(i)]
    return index, catalogue, np.array([index[i] for i in catalogue])


def _metrics(
    users: np.ndarray, topk: np.ndarray, truth: np.ndarray, split: InteractionSplit
) -> dict[str, float]:
    """Recall, NDCG, head/tail recall, coverage and Gini of ``topk`` against ``truth``."""
    truth = truth[np.isin(truth[:, 0], users)]
    _, ctx = ranking_context(users, topk, truth, split.item_popularity())
    return M.compute_all(ctx, KS)
