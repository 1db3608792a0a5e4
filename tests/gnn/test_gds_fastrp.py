"""The ``gds_fastrp`` peer: GDS FastRP on a real Neo4j, scored by our evaluation.

Needs the local Neo4j with GDS (``make neo4j-gds``); skipped with the reason without it,
except under CI, where that fails. Without GDS the evaluation leaves the peer out and says why.
"""

from __future__ import annotations

import neo4j
import pytest
import torch

from tailgraph.errors import ConfigurationError
from tailgraph.evaluation import harness
from tailgraph.gnn.baselines.gds_fastrp import GdsFastRP, grid, training_graph
from tailgraph.gnn.evaluate import evaluate
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.registry import fit_baseline
from tailgraph.graph.gds import FastRPGraph
from tailgraph.graph.snapshot import GraphSnapshot


def _random_recall(split) -> float:
    best = 0.0
    for seed in range(5):
        generator = torch.Generator().manual_seed(seed)
        noise = lambda users, g=generator: torch.rand(len(users), split.n_items, generator=g)  # noqa: E731
        best = max(best, evaluate(noise, split, ks=(20,)).metrics["recall@20"])
    return best


def test_the_grid_follows_the_data_and_the_budget() -> None:
    assert len(grid(has_kg=True, has_text=True)) == 16  # the budget rule's maximum
    assert len(grid(has_kg=False, has_text=False)) == 4
    assert not any(s.with_kg or s.property_ratio for s in grid(False, False))


def test_fit_without_an_embedder_says_what_it_needs(planted: GraphSnapshot) -> None:
    split = split_snapshot(planted, "random", 0)
    with pytest.raises(ConfigurationError, match="Neo4j with GDS"):
        fit_baseline("gds_fastrp", planted, split)


def test_without_gds_the_report_leaves_it_out_and_says_why(planted, monkeypatch) -> None:
    monkeypatch.setattr(harness.gds, "gds_unavailable", lambda: "run `make neo4j-gds`")
    models, skipped = harness.runnable(["mostpop", "gds_fastrp"], planted)
    assert models == ["mostpop"]
    assert "make neo4j-gds" in skipped["gds_fastrp"]


@pytest.mark.neo4j
def test_tuned_fastrp_beats_random_on_planted_data(planted: GraphSnapshot, gds_server) -> None:
    split = split_snapshot(planted, "random", 0)
    nodes, edges, text = training_graph(planted, split)
    assert nodes["User"] == split.n_users and len(edges[0][1]) == len(split.train)
    assert set(text) == {"Item"}  # the planted data has item text only
    with neo4j.GraphDatabase.driver(
        gds_server.uri, auth=(gds_server.user, gds_server.password)
    ) as driver:
        graph = FastRPGraph(driver)
        try:
            model, table = GdsFastRP.tuned(planted, split, graph)
        finally:
            graph.clear()
    assert len(table) == 16 and model.settings.label() in table
    assert table[model.settings.label()] == max(table.values())
    recall = evaluate(model, split, ks=(20,)).metrics["recall@20"]
    assert recall > 1.3 * _random_recall(split), (recall, table)


@pytest.mark.neo4j
def test_the_report_fits_it_on_a_scratch_server_and_scores_it(planted: GraphSnapshot) -> None:
    from tailgraph.graph.gds import gds_unavailable

    if gds_unavailable():
        pytest.skip(gds_unavailable())
    result = harness.run_experiment(
        planted, models=["mostpop", "gds_fastrp"], seeds=[1], tail_weights=(), progress=False
    )
    runs = {run.model: run for run in result.runs}
    assert set(runs) == {"mostpop", "gds_fastrp"}
    fastrp = runs["gds_fastrp"]
    assert fastrp.extra["server_start_seconds"] > 0 and "valid_ndcg@20" in fastrp.extra
    assert fastrp.metrics["recall@20"] > 0
