"""Item neighbours computed at training time, serving candidates from them, and the title
cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api import candidates
from tailgraph.api.app import create_app
from tailgraph.api.candidates import ExpansionLimits, TitleCache
from tailgraph.errors import ArtefactError
from tailgraph.gnn import neighbours
from tailgraph.gnn.artefacts import LearnedEmbeddings, save_embeddings
from tailgraph.graph.export import export_snapshot
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings

from .conftest import make_embeddings


def test_compute_ranks_by_cosine_and_counts_co_users() -> None:
    # users 0-3 all have the hub item a; users 0 and 1 also have b and c; user 2 has d.
    user = np.array([0, 1, 2, 3, 0, 1, 0, 1, 2])
    item = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3])
    found = neighbours.compute(user, item, ["a", "b", "c", "d", "e"], k=2)
    # b and c share both raters (cosine 1); the hub a shares 2 of its 4 (cosine .71).
    assert found.of("b") == [("c", 2), ("a", 2)]
    assert found.of("d") == [("a", 1)]  # fewer neighbours than k: padded, not invented
    assert found.of("e") == []  # never interacted with
    assert found.of("unknown") == []


def test_candidates_merge_seeds_and_drop_excluded() -> None:
    user = np.array([0, 0, 0, 1, 1])
    item = np.array([0, 1, 2, 0, 2])
    found = neighbours.compute(user, item, ["a", "b", "c"], k=2)
    assert found.candidates(["a"], exclude=set(), limit=10) == [("c", 2), ("b", 1)]
    assert found.candidates(["a", "b"], exclude={"c"}, limit=10) == []  # seeds never returned
    assert found.candidates(["a"], exclude=set(), limit=1) == [("c", 2)]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    assert neighbours.load(tmp_path) == {}
    found = neighbours.compute(np.array([0, 0]), np.array([0, 1]), ["a", "b"], k=3)
    neighbours.save(tmp_path, {"collaborative": found})
    loaded = neighbours.load(tmp_path)
    assert list(loaded) == ["collaborative"]
    assert loaded["collaborative"].of("a") == [("b", 1)]


def test_load_rejects_a_broken_file(tmp_path: Path) -> None:
    (tmp_path / neighbours.FILE_NAME).write_bytes(b"not an npz")
    with pytest.raises(ArtefactError, match="cannot read"):
        neighbours.load(tmp_path)


def test_neighbours_serve_the_same_candidates_as_the_graph(graph: FalkorDBStore) -> None:
    kinds = neighbours.from_snapshot(export_snapshot(graph), k=5)
    history = candidates.user_history(graph, "u1")
    limits = ExpansionLimits()
    seeds = history.seeds(limits.max_seeds)
    from_graph = candidates.expand_seeds(graph, "u1", seeds, limits)
    precomputed = candidates.expand_seeds(
        graph, "u1", seeds, limits, precomputed=kinds, seen=history.seen
    )
    assert {i: c.support for i, c in precomputed.items()} == {
        i: c.support for i, c in from_graph.items()
    }
    assert precomputed["i5"].sources == ["collaborative", "knowledge"]


def test_served_model_uses_its_neighbours(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> None:
    directory = settings.artefacts_dir / "current"
    save_embeddings(directory, make_embeddings())
    neighbours.save(directory, neighbours.from_snapshot(export_snapshot(graph), k=5))
    graph.run("MATCH (:Item {id: 'i1'})-[r:DIRECTED_BY]->() DELETE r")  # gone from the graph,
    with TestClient(create_app(settings, store=graph)) as client:  # still in the neighbours
        response = client.get(
            "/users/u1/recommendations",
            params={"k": 3, "sources": ["collaborative", "knowledge"]},
        )
    assert response.status_code == 200, response.text
    sources = {item["item_id"]: item["sources"] for item in response.json()["items"]}
    assert sources["i6"] == ["knowledge"]


def test_title_cache_holds_titles_until_a_write_route_forgets_them(graph: FalkorDBStore) -> None:
    cache = TitleCache()
    assert cache.load(graph) == 8  # every item of the small graph, one query
    graph.run("MATCH (i:Item {id: 'i1'}) SET i.title = 'Renamed'")
    assert cache.get(graph, ["i1", "nope"]) == {"i1": "One"}  # served from memory
    cache.forget(["i1"])  # what the item routes do for an item they change
    assert cache.get(graph, ["i1"]) == {"i1": "Renamed"}
