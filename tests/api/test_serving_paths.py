"""The default request's one-statement path: the same answers as the two-statement path, in
one store round trip (history and vector candidates together, titles from memory)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tailgraph.api import recommender
from tailgraph.api.candidates import Candidate, ExpansionLimits, TitleCache
from tailgraph.api.scoring import Scorer
from tailgraph.api.vector_source import VectorSource
from tailgraph.gnn import neighbours
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.export import export_snapshot
from tailgraph.graph.falkordb_store import FalkorDBStore

from .conftest import index_item_vectors


@pytest.fixture
def indexed(graph: FalkorDBStore, embeddings: LearnedEmbeddings) -> tuple[Scorer, VectorSource]:
    """The small graph with learned item vectors and an operational vector index."""
    scorer = Scorer(embeddings)
    return scorer, index_item_vectors(graph, scorer.dimension)


def _two_statements(graph, scorer, vectors, user_id, request, limits, exclude_seen):
    """The path before: the history query, then (in gather) a separate nearest() query."""
    pool: dict[str, Candidate] = {}
    profile = recommender.user_profile(graph, scorer, user_id, limits, exclude_seen)
    assert profile.nearest is None
    answer = recommender.rank_profile(
        graph, scorer, profile, request, limits, vectors, on_pool=pool.update
    )
    return answer, {i: c.support for i, c in pool.items()}


@pytest.mark.parametrize("tail_weight", [0.0, 0.7])
@pytest.mark.parametrize("exclude_seen", [True, False])
def test_one_statement_serves_what_two_statements_serve(
    graph: FalkorDBStore, indexed: tuple[Scorer, VectorSource], tail_weight: float,
    exclude_seen: bool,
) -> None:  # fmt: skip
    scorer, vectors = indexed
    # k small enough that the vector index's candidates decide sources and the tail re-rank
    limits = ExpansionLimits(max_model_candidates=2, max_vector_candidates=2)
    # u1, u2, u3: learned; u4: learned with an interaction newer than the model (blended,
    # so its vector candidates are searched again); u5: unknown to the model (folded in)
    graph.run("MATCH (:User {id: 'u4'})-[r:INTERACTED]->() SET r.recorded = $now",
              {"now": time.time() + 3600})  # fmt: skip
    for user_id in ("u1", "u2", "u3", "u4", "u5"):
        pool: dict[str, Candidate] = {}
        one = recommender.recommend(
            graph, scorer, user_id, 3, limits=limits, tail_weight=tail_weight,
            exclude_seen=exclude_seen, vectors=vectors, on_pool=pool.update,
        )  # fmt: skip
        request = recommender.Request(3, tail_weight)
        two, two_pool = _two_statements(
            graph, scorer, vectors, user_id, request, limits, exclude_seen
        )
        assert one.model_dump() == two.model_dump(), user_id
        assert {i: c.support for i, c in pool.items()} == two_pool, user_id
    u1 = recommender.recommend(graph, scorer, "u1", 3, limits=limits, vectors=vectors)
    assert any("vector" in item.sources for item in u1.items)  # the path was exercised


def test_a_default_request_costs_one_round_trip(
    graph: FalkorDBStore, indexed: tuple[Scorer, VectorSource], embeddings: LearnedEmbeddings
) -> None:
    _, vectors = indexed
    # as a model saved by training serves: graph sources from precomputed item neighbours
    scorer = Scorer(embeddings, neighbours=neighbours.from_snapshot(export_snapshot(graph), 20))
    titles = TitleCache()
    titles.load(graph)
    calls: list[str] = []
    run = graph.run

    def counted(query, parameters=None, *, read_only=False):
        calls.append(query)
        return run(query, parameters, read_only=read_only)

    graph.run = counted  # type: ignore[method-assign]
    try:
        answer = recommender.recommend(
            graph, scorer, "u1", 3, limits=ExpansionLimits(), vectors=vectors, titles=titles
        )
    finally:
        graph.run = run  # type: ignore[method-assign]
    assert len(calls) == 1, calls
    assert [item.title for item in answer.items] == ["Seven", "Three", "Five"]
    assert "vector" in answer.items[0].sources


def test_the_one_statement_reads_a_whole_history_and_the_nearest_items_in_order(
    graph: FalkorDBStore, indexed: tuple[Scorer, VectorSource]
) -> None:
    scorer, vectors = indexed
    graph.run("CREATE (:User {id: 'quiet'})")
    vector = scorer.learned_user_vector("u1")
    history, nearest = vectors.history_and_nearest(graph, "u1", vector, 2, 10)
    assert history.items == recommender.cand.user_history(graph, "u1").items  # nulls in place
    # k = 2 + one per seen item (at most 10), nearest first, as a separate search gives them
    assert nearest == vectors.nearest(graph, vector, 2 + min(len(history.seen), 10))
    assert [s for _, s in nearest] == sorted((s for _, s in nearest), reverse=True)
    quiet, found = vectors.history_and_nearest(graph, "quiet", vector, 2, 10)
    assert quiet.items == () and len(found) == 2  # no interactions: the search alone
    assert vectors.history_and_nearest(graph, "nobody", vector, 2, 10) is None


def test_item_routes_make_the_title_map_read_again(client) -> None:
    titles = client.app.state.service.titles
    assert titles.get(None, ["i7"]) == {"i7": "Seven"}  # loaded at start-up: no store needed
    assert client.delete("/items/i7").status_code == 204
    assert "i7" not in titles._entries  # a re-created i7 is read from the store, not memory


def test_rank_orders_by_score_then_id_like_a_sort() -> None:
    ids = ["i9", "i10", "a", "b", "c"]
    scores = np.array([0.5, 0.5, 0.9, 0.5, -1.0], dtype=np.float32)
    expected = sorted(range(len(ids)), key=lambda i: (-float(scores[i]), ids[i]))
    assert recommender._rank(ids, scores) == expected == [2, 3, 1, 0, 4]
    assert recommender._rank([], np.zeros(0)) == []
