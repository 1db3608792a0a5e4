"""The app in a real uvicorn process, configured only through TAILGRAPH_* variables."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tailgraph.gnn.artefacts import LearnedEmbeddings, save_embeddings
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server_url(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    graph: FalkorDBStore,
    embeddings: LearnedEmbeddings,
) -> Iterator[str]:
    """Start ``uvicorn --factory tailgraph.api.app:create_app`` on the test graph; stop it after."""
    save_embeddings(tmp_path / "artefacts" / "current", embeddings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAILGRAPH_")}
    env.update(
        TAILGRAPH_ARTEFACTS_DIR=str(tmp_path / "artefacts"),
        TAILGRAPH_DATA_DIR=str(tmp_path / "data"),
    )
    if graph.dialect.name == "neo4j":  # the same graph on the local Neo4j, reached by its URI
        neo4j_server = request.getfixturevalue("neo4j_server")
        env.update(
            TAILGRAPH_STORE="neo4j",
            TAILGRAPH_NEO4J_URI=neo4j_server.uri,
            TAILGRAPH_NEO4J_PASSWORD=neo4j_server.password,
        )
    else:
        falkordb_server: EmbeddedFalkorDB = request.getfixturevalue("falkordb_server")
        env.update(
            TAILGRAPH_STORE="falkordb",
            TAILGRAPH_FALKORDB_DIR=str(falkordb_server.directory),
            TAILGRAPH_FALKORDB_PASSWORD=falkordb_server.password,
            TAILGRAPH_GRAPH_NAME=graph.graph_name,
        )
    port = _free_port()
    log = (tmp_path / "uvicorn.log").open("w")
    command = [sys.executable, "-m", "uvicorn", "--factory", "tailgraph.api.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"uvicorn did not start:\n{(tmp_path / 'uvicorn.log').read_text()}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_real_server_recommends(server_url: str) -> None:
    with httpx.Client(base_url=server_url, timeout=10) as http:
        ready = http.get("/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["model_version"] == "test-1"
        started = time.perf_counter()
        calls = 10
        for _ in range(calls):
            response = http.get(
                "/users/u1/recommendations",
                params={"k": 3, "sources": ["collaborative", "knowledge"]},
            )
        latency_ms = (time.perf_counter() - started) / calls * 1000
        assert response.status_code == 200
        assert [item["item_id"] for item in response.json()["items"]] == ["i3", "i5", "i6"]
        print(f"mean recommendation latency over {calls} calls: {latency_ms:.1f} ms")
        missing = http.get("/users/x}) DETACH DELETE n %2F%2F/recommendations")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "user 'x}) DETACH DELETE n //' not found"}
        assert http.get("/users/u1/recommendations", params={"k": 0}).status_code == 422
