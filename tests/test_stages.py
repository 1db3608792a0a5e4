"""The train stage end to end through a real store: export once, train, save, write back."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tailgraph import stages
from tailgraph.errors import ConfigurationError
from tailgraph.gnn import neighbours
from tailgraph.gnn.artefacts import load_embeddings
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate
from tailgraph.settings import Settings


class CountingStore:
    """The real store, counting the queries it is asked to run."""

    def __init__(self, store) -> None:
        self._store = store
        self.dialect = store.dialect
        self.queries: list[str] = []

    def run(self, query, parameters=None, *, read_only=False):
        self.queries.append(query)
        return self._store.run(query, parameters, read_only=read_only)

    def __getattr__(self, name):
        return getattr(self._store, name)


@pytest.fixture
def trained(store, tmp_path):
    dataset = generate(
        SyntheticConfig(
            n_users=60, n_items=40, n_interactions=600, n_entities=20, n_triples=80, seed=2
        )
    )
    stages.ingest(store, dataset)
    counting = CountingStore(store)
    settings = Settings(artefacts_dir=tmp_path, data_dir=tmp_path / "data")
    outcome = stages.train(settings, counting, model="lightgcn", epochs=2, protocol="cold")
    return store, counting, outcome


def test_train_saves_and_writes_back(trained) -> None:
    store, _, outcome = trained
    directory = outcome.artefacts_dir
    assert directory == stages.model_directory(Settings(artefacts_dir=directory.parent))
    assert outcome.written["User"] == 60 and outcome.written["Item"] == 40
    # 20 per user, fewer only for users who have already seen more than 20 of the 40 items.
    per_user = store.run(
        "MATCH (u:User) OPTIONAL MATCH (u)-[:INTERACTED]->(i:Item) "
        "RETURN u.id AS u, count(i) AS seen"
    )
    expected = sum(min(20, 40 - row["seen"]) for row in per_user)
    assert outcome.written["RECOMMENDED"] == expected
    stored = store.run("MATCH ()-[r:RECOMMENDED {model: 'lightgcn'}]->() RETURN count(r) AS n")
    assert stored[0]["n"] == expected
    saved = load_embeddings(directory)
    assert saved.version == outcome.version and saved.version.startswith("lightgcn-")
    assert saved.item_popularity.sum() == len(outcome.run.split.train)
    metrics = json.loads((directory / "metrics.json").read_text())
    assert metrics["protocol"] == "cold" and "recall@20" in metrics["test"]
    assert (directory / "model.pt").stat().st_size > 0
    row = store.run("MATCH (i:Item {id: $id}) RETURN i.embedding AS e", {"id": saved.item_ids[0]})[
        0
    ]
    np.testing.assert_allclose(row["e"], saved.item[0], rtol=1e-5, atol=1e-6)


def test_train_reads_the_store_once_and_serving_neighbours_come_from_that_snapshot(
    trained,
) -> None:
    _, counting, outcome = trained
    exports = [q for q in counting.queries if "SKIP $skip LIMIT $limit" in q]
    assert len(exports) == 3  # one page of ids per label: the graph was exported once
    reads = [q for q in counting.queries if "SET" not in q and "CREATE" not in q]
    writes = [q for q in counting.queries if q not in reads]
    assert writes and all("embedding" in q or "RECOMMENDED" in q for q in writes)
    saved = neighbours.load(outcome.artefacts_dir)
    fresh = neighbours.from_snapshot(outcome.snapshot)
    assert set(saved) == {neighbours.COLLABORATIVE, neighbours.KNOWLEDGE}
    for kind, found in fresh.items():
        assert np.array_equal(saved[kind].rows, found.rows)
        assert np.array_equal(saved[kind].counts, found.counts)


def test_unknown_model_fails_before_reading_the_store(store, tmp_path) -> None:
    counting = CountingStore(store)
    with pytest.raises(ConfigurationError, match="unknown model 'bprmf'.*bpr_mf"):
        stages.train(Settings(artefacts_dir=tmp_path), counting, model="bprmf")
    with pytest.raises(ConfigurationError, match="unknown split protocol"):
        stages.train(Settings(artefacts_dir=tmp_path), counting, protocol="weekly")
    assert counting.queries == []


def test_snapshot_item_entity_links_are_the_graphs(trained) -> None:
    """Knowledge neighbours need every (item, entity) link, any type or direction."""
    store, _, outcome = trained
    snapshot = outcome.snapshot
    rows = store.run("MATCH (i:Item)--(e:Entity) RETURN DISTINCT i.id AS item, e.id AS entity")
    in_graph = {(r["item"], r["entity"]) for r in rows}
    items, entities = snapshot.item_entity_links()
    pairs = zip(items, entities, strict=True)
    found = {(snapshot.item_ids[i], snapshot.entity_ids[e]) for i, e in pairs}
    assert found == in_graph and in_graph
