"""Service concerns: API keys, Prometheus metrics, A/B models, and a store outage."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.gnn.artefacts import LearnedEmbeddings, save_embeddings
from tailgraph.graph.connect import open_store
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings

from .conftest import GRAPH, make_embeddings


def test_api_keys(settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings) -> None:
    keyed = settings.model_copy(update={"api_keys": ["s3cret", "other"]})
    with TestClient(create_app(keyed, store=graph, embeddings=embeddings)) as client:
        missing = client.get("/users/u1/recommendations")
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"] == "ApiKey"
        wrong = client.get("/users/u1/recommendations", headers={"X-API-Key": "guess"})
        assert wrong.status_code == 403
        for key in ("s3cret", "other"):
            ok = client.get("/users/u1/recommendations", headers={"X-API-Key": key})
            assert ok.status_code == 200
        assert client.delete("/users/u1").status_code == 401
        assert client.post("/interactions", json={}).status_code == 401
        for path in ("/health", "/ready", "/metrics", "/explore", "/explore/static/explore.js"):
            assert client.get(path).status_code == 200, path
        assert client.get("/explore/graph", params={"kind": "user", "id": "u1"}).status_code == 401
        keyed_graph = client.get(
            "/explore/graph", params={"kind": "user", "id": "u1"}, headers={"X-API-Key": "s3cret"}
        )
        assert keyed_graph.status_code == 200
        schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
        assert schemes["APIKeyHeader"] == {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": schemes["APIKeyHeader"]["description"],
        }


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    for user in ("u1", "u3", "nobody"):
        client.get(f"/users/{user}/recommendations")
    text = client.get("/metrics")
    assert text.headers["content-type"].startswith("text/plain; version=0.0.4")
    body = text.text
    route = 'route="/users/{user_id}/recommendations"'
    assert f'tailgraph_http_requests_total{{method="GET",{route},status="200"}} 2' in body
    assert f'tailgraph_http_requests_total{{method="GET",{route},status="404"}} 1' in body
    assert f'tailgraph_http_request_duration_seconds_count{{method="GET",{route}}} 3' in body
    assert (
        f'tailgraph_http_request_duration_seconds_bucket{{le="+Inf",method="GET",{route}}}'
        not in body
    )  # le comes last in the label set
    assert (
        f'tailgraph_http_request_duration_seconds_bucket{{method="GET",{route},le="+Inf"}} 3'
        in body
    )
    assert 'tailgraph_candidates_count{source="collaborative"} 2' in body
    assert 'tailgraph_candidates_count{source="tail"} 2' in body
    assert "# TYPE tailgraph_candidates histogram" in body
    assert "u1" not in body  # ids never become label values


def test_two_models_chosen_per_request(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> None:
    flipped = make_embeddings()
    flipped.model_name, flipped.version = "flipped", "test-2"
    flipped.user = -flipped.user
    save_embeddings(settings.artefacts_dir / "a", embeddings)
    save_embeddings(settings.artefacts_dir / "b", flipped)
    ab = settings.model_copy(
        update={
            "models": f"a={settings.artefacts_dir / 'a'}, b={settings.artefacts_dir / 'b'}",
            "default_model": "a",
        }
    )
    with TestClient(create_app(ab, store=graph)) as client:
        plain = client.get("/users/u1/recommendations", params={"k": 2})
        by_query = client.get("/users/u1/recommendations", params={"k": 2, "model": "b"})
        by_header = client.get(
            "/users/u1/recommendations", params={"k": 2}, headers={"X-Model": "b"}
        )
        assert plain.json()["version"] == plain.headers["X-Model-Version"] == "test-1"
        assert by_query.json()["version"] == by_query.headers["X-Model-Version"] == "test-2"
        assert by_header.json()["model"] == "flipped"
        first = [i["item_id"] for i in plain.json()["items"]]
        assert first != [i["item_id"] for i in by_query.json()["items"]]
        unknown = client.get("/users/u1/recommendations", params={"model": "c"})
        assert unknown.status_code == 404
        assert unknown.json()["detail"] == "no model named 'c'; available: a, b"
        models = client.get("/models").json()["models"]
        assert [(m["name"], m["default"], m["version"]) for m in models] == [
            ("a", True, "test-1"),
            ("b", False, "test-2"),
        ]
        assert client.get("/health").headers["X-Model-Version"] == "test-1"


@pytest.fixture
def own_server() -> Iterator[EmbeddedFalkorDB]:
    """A FalkorDB server of this test's own (it gets stopped and started mid-test)."""
    directory = Path(tempfile.mkdtemp(prefix="tg"))
    server = EmbeddedFalkorDB(directory, password="outage-test")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def test_store_outage_is_503_with_retry_after_and_recovers(
    own_server: EmbeddedFalkorDB, tmp_path: Path
) -> None:
    settings = Settings(
        _env_file=None,
        store="falkordb",
        falkordb_dir=own_server.directory,
        falkordb_password="outage-test",
        graph_name="outage",
        artefacts_dir=tmp_path / "artefacts",
        data_dir=tmp_path,
    )
    seed = open_store(settings, start=False)
    seed.run(GRAPH)
    seed.close()
    with TestClient(create_app(settings, embeddings=make_embeddings())) as client:
        assert client.get("/users/u1/recommendations").status_code == 200
        own_server.stop()
        down = client.get("/users/u1/recommendations")
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "5"
        assert "not reachable" in down.json()["detail"]
        assert client.get("/ready").status_code == 503
        assert client.get("/health").status_code == 200
        own_server.start()
        up = client.get("/users/u1/recommendations")
        assert up.status_code == 200, up.text
        assert up.json()["items"]
        assert client.get("/ready").status_code == 200
        assert np.isfinite(up.json()["items"][0]["score"])
