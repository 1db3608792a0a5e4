"""Every query in cypher/ loads, renders and runs on the real embedded store.

Semantics are tested beside the code that uses each query; this test guarantees that no file
is left behind unparsed or unrunnable on FalkorDB (the Neo4j side is linted in
test_cypher_lint.py). Parameters get sample values by name, so a new file with a new parameter
name fails here until a sample is added — on purpose.
"""

from __future__ import annotations

import re

import pytest

from tailgraph import cypher
from tailgraph.graph.ingest import ingest
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate

SAMPLES: dict[str, object] = {
    # single ids
    "id": "u1",
    "user_id": "u1",
    "item_id": "i1",
    "entity_id": "e1",
    # id lists
    "ids": ["u1", "i1", "e1"],
    "item_ids": ["i1", "i2"],
    "user_ids": ["u1", "u2"],
    "entity_ids": ["e1", "e2"],
    "exclude": ["i3"],
    "seeds": ["i1", "i2"],
    "items": ["i1"],
    "others": ["i2"],
    "seen": ["i2"],
    # bounds and paging
    "limit": 5,
    "skip": 0,
    "after": "",
    "per_item": 3,
    "per_entity": 3,
    "max_candidates": 10,
    "max_co_users": 5,
    "max_items_per_co_user": 5,
    "max_entities_per_seed": 5,
    "max_items_per_entity": 5,
    "max_raters": 10,
    "max_paths": 5,
    "max_rows": 50,
    "max_interactions": 50,
    "min_entity_items": 0,
    "max_entity_items": 1000,
    # other values
    "q": "1",
    "qs": ["1", "item"],
    "exclude_seen": True,
    "model": "tailgnn",
    "version": "v-test",
    "relation": "synthetic.item.genre",
    "recorded": 1.7e9,
    "props": {"title": "Sample"},
    "title": "Sample",
    "text": "A sample item.",
    "year": 1999,
    "genres": ["Drama"],
    "text_embedding": [0.25, 0.5, 0.75],
    "text_hash": "abc",
    "rows": [],
    "users": [],
    "token": "t-test",
    "payload_hash": "p-test",
    "embedding": None,
}
# Where one name means different things in different files.
OVERRIDES: dict[str, dict[str, object]] = {
    "read_node_texts": {"skip": ["textEmbedding", "embedding"]},  # property names to leave out
}
LABEL_FOR = {"explore_node": "User"}


@pytest.fixture
def loaded(store):
    ingest(
        store,
        generate(
            SyntheticConfig(
                n_users=30, n_items=20, n_interactions=200, n_entities=10, n_triples=40, seed=5
            )
        ),
        progress=False,
    )
    return store


def _identifiers(name: str, store) -> dict[str, str]:
    pattern = store.run(
        "MATCH (h)-[r]->(t) WHERE type(r) <> 'INTERACTED' "
        "RETURN labels(h)[0] AS head, type(r) AS type, labels(t)[0] AS tail LIMIT 1"
    )[0]
    values = {
        "label": LABEL_FOR.get(name, "Item"),
        "rel_type": pattern["type"],
        "type": pattern["type"],
        "head": pattern["head"],
        "head_label": pattern["head"],
        "tail": pattern["tail"],
        "tail_label": pattern["tail"],
    }
    return {key: values[key] for key in cypher.placeholders(name)}


@pytest.mark.parametrize("name", cypher.available())
def test_query_runs_on_embedded_store(name: str, loaded) -> None:
    text = cypher.render(name, loaded.dialect, **_identifiers(name, loaded))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("//"))
    needed = set(re.findall(r"\$([A-Za-z_]\w*)", body))
    missing = needed - SAMPLES.keys()
    assert not missing, f"{name}.cypher uses parameters with no sample value: {sorted(missing)}"
    samples = SAMPLES | OVERRIDES.get(name, {})
    rows = loaded.run(text, {key: samples[key] for key in needed})
    assert isinstance(rows, list)
    assert cypher.header(name), f"{name}.cypher has no // header"


def test_unknown_queries_and_missing_identifiers_are_named(store) -> None:
    from tailgraph.errors import ConfigurationError, UnknownQueryError
    from tailgraph.graph.store import run_query

    with pytest.raises(UnknownQueryError, match="no query named 'no_such_query'"):
        run_query(store, "no_such_query")
    with pytest.raises(UnknownQueryError, match="bad query name"):
        cypher.load("../etc/passwd")
    with pytest.raises(UnknownQueryError, match="needs identifier 'label'"):
        run_query(store, "export_node_ids", {"skip": 0, "limit": 1})
    assert issubclass(UnknownQueryError, ConfigurationError)
