"""The whole pipeline through the CLI on a small synthetic dataset, against real components.

Real embedded FalkorDB (started by the CLI itself), the real all-MiniLM-L6-v2 model, real PyG
training, and the real FastAPI app; nothing is mocked.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tailgraph.api.app import create_app
from tailgraph.cli import app
from tailgraph.gnn.models.tailgnn import TRANSFER_SCALES
from tailgraph.settings import Settings

runner = CliRunner()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Settings for a private store; the database dir is short enough for a unix socket."""
    root = tmp_path_factory.mktemp("pipeline")
    variables = {
        "TAILGRAPH_DATA_DIR": str(root / "data"),
        "TAILGRAPH_FALKORDB_DIR": tempfile.mkdtemp(prefix="tgp"),
        "TAILGRAPH_ARTEFACTS_DIR": str(root / "artefacts"),
        "TAILGRAPH_GRAPH_NAME": "pipeline",
    }
    yield variables
    runner.invoke(app, ["db", "stop"], env=variables)


def invoke(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, f"tailgraph {' '.join(args)} failed:\n{result.output}"
    return result.output


def json_block(output: str) -> dict:
    """The multi-line JSON object a command prints after its progress output."""
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{\n", output):
        try:
            value, _ = decoder.raw_decode(output, match.start())
        except json.JSONDecodeError:
            continue
        return value
    raise AssertionError(f"no JSON object in output:\n{output}")


def counts(output: str) -> dict[str, int]:
    """The (:Label) / [:TYPE] count lines that ingest prints."""
    pattern = r"([(\[]:\w+[)\]])\s+([\d,]+)"
    return {m[0]: int(m[1].replace(",", "")) for m in re.findall(pattern, output)}


def test_pipeline_end_to_end(env: dict[str, str]) -> None:
    assert "FalkorDB running" in invoke(env, "db", "start")
    assert "running" in invoke(env, "db", "status")

    first = counts(invoke(env, "ingest", "--synthetic-users", "150", "--seed", "3"))
    assert first["(:User)"] == 150 and first["(:Item)"] == 75
    assert first["[:INTERACTED]"] > 1500
    assert sum(v for k, v in first.items() if k.startswith("[:") and k != "[:INTERACTED]") > 0
    again = counts(invoke(env, "ingest", "--synthetic-users", "150", "--seed", "3"))
    assert again == first, "re-ingesting the same data must leave identical counts"

    encoded = json_block(invoke(env, "encode", "--json"))
    assert encoded["labels"]["Item"]["written"] == 75
    assert json_block(invoke(env, "encode", "--json"))["texts_encoded"] == 0, (
        "unchanged text re-encoded"
    )

    trained = invoke(env, "train", "--epochs", "25", "--seed", "1", "--recommend-k", "5", "--json")
    metrics = json_block(trained)
    artefacts = Path(env["TAILGRAPH_ARTEFACTS_DIR"]) / "current"
    assert (artefacts / "neighbours.npz").is_file(), "serving neighbours were not precomputed"
    history = json.loads((artefacts / "metrics.json").read_text())["history"]
    assert history[-1]["loss"] < history[0]["loss"], "training did not lower the loss"
    extra = json.loads((artefacts / "meta.json").read_text())["extra"]
    assert extra["transfer_scale"] in (*TRANSFER_SCALES, 1.0), "TailGNN's s not handed to serving"
    # Random full-catalogue ranking finds about 20/75 of a user's test items in the top 20.
    assert metrics["recall@20"] > 1.5 * 20 / 75

    settings = Settings(**{k.removeprefix("TAILGRAPH_").lower(): v for k, v in env.items()})
    with TestClient(create_app(settings)) as client:
        user = "u1"  # the synthetic generator names users u0, u1, ...
        response = client.get(f"/users/{user}/recommendations", params={"k": 7})
        assert response.status_code == 200, response.text
        body = response.json()
        items = body["items"]
        assert len(items) == 7 and len({i["item_id"] for i in items}) == 7
        assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
        assert body["model"] == "tailgnn" and body["version"].startswith("tailgnn-")
        seen = client.get("/explore/graph", params={"kind": "user", "id": user, "limit": 200})
        seen_items = {n["key"] for n in seen.json()["nodes"] if n["role"] == "interacted"}
        assert seen_items
        assert not seen_items & {i["item_id"] for i in items}, "recommended an already seen item"
        assert client.get("/users/nobody-xyz/recommendations").status_code == 404
        assert client.get(f"/users/{user}/recommendations", params={"k": 0}).status_code == 422

    report_dir = Path(env["TAILGRAPH_ARTEFACTS_DIR"]) / "evaluation"
    evaluated = invoke(
        env,
        "evaluate",
        "--models",
        "mostpop,lightgcn",
        "--protocol",
        "cold",
        "--seeds",
        "1",
        "2",
        "--epochs",
        "3",
        "--out",
        str(report_dir),
    )
    assert "report.md" in evaluated
    results = json.loads((report_dir / "results.json").read_text())
    assert "lightgcn" in json.dumps(results) and "cold" in (report_dir / "report.md").read_text()
    assert list((report_dir).glob("*.png")), "no plots written"

    listed = invoke(env, "cypher", "list")
    assert "lib_entity_hubs" in listed
    table = invoke(env, "cypher", "run", "lib_entity_hubs", "-p", "limit=3")
    assert "(3 rows)" in table

    assert "stopped" in invoke(env, "db", "stop")
    assert "stopped" in invoke(env, "db", "status")
    invoke(env, "db", "start")
    after_restart = counts(invoke(env, "ingest", "--synthetic-users", "150", "--seed", "3"))
    assert after_restart.pop("[:RECOMMENDED]") == 150 * 5, "not 5 RECOMMENDED edges per user"
    assert after_restart == first, "data did not survive a stop/start"
