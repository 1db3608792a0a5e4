"""End to end through a real store: ingest a planted dataset, train, save, write back."""

from __future__ import annotations

import json

import numpy as np

from tailgraph.gnn.artefacts import load_embeddings
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.pipeline import train_from_store
from tailgraph.graph.ingest import ingest
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate


def test_train_from_store(store, tmp_path) -> None:
    dataset = generate(SyntheticConfig(n_users=60, n_items=40, n_interactions=600,
                                       n_entities=20, n_triples=80, seed=2))
    ingest(store, dataset, progress=False)
    config = TrainConfig(model="tailgnn", dim=8, epochs=3, batch_size=256, eval_every=1)
    result = train_from_store(store, config, tmp_path, protocol="cold", progress=False)
    assert result.written["User"] == 60 and result.written["Item"] == 40
    # 20 per user, fewer only for users who have already seen more than 20 of the 40 items.
    per_user = store.run("MATCH (u:User) OPTIONAL MATCH (u)-[:INTERACTED]->(i:Item) "
                         "RETURN u.id AS u, count(i) AS seen")
    expected = sum(min(20, 40 - row["seen"]) for row in per_user)
    assert result.written["RECOMMENDED"] == expected
    stored = store.run("MATCH ()-[r:RECOMMENDED {model: 'tailgnn'}]->() RETURN count(r) AS n")
    assert stored[0]["n"] == expected
    saved = load_embeddings(tmp_path)
    assert saved.version == result.version and saved.version.startswith("tailgnn-")
    assert saved.user.shape == (60, 8) and saved.item_popularity.sum() == len(result.split.train)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["protocol"] == "cold" and "recall@20" in metrics["test"]
    assert json.loads((tmp_path / "config.json").read_text())["dim"] == 8
    assert (tmp_path / "model.pt").stat().st_size > 0
    row = store.run("MATCH (i:Item {id: $id}) RETURN i.embedding AS e",
                    {"id": saved.item_ids[0]})[0]
    np.testing.assert_allclose(row["e"], saved.item[0], rtol=1e-5, atol=1e-6)
