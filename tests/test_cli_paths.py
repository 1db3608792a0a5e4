"""Where things go: the artefacts directory defaults under the data directory and is absolute,
so `tailgraph serve` started anywhere finds what `tailgraph train` wrote, and a missing model's
503 names the directory it looked in."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings


def test_artefacts_default_under_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAILGRAPH_ARTEFACTS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings(_env_file=None, data_dir=Path("data"))
    assert settings.data_dir == tmp_path / "data"
    assert settings.artefacts_dir == tmp_path / "data" / "artefacts"
    monkeypatch.chdir("/")  # later working directories do not move them
    assert settings.artefacts_dir == tmp_path / "data" / "artefacts"
    explicit = Settings(_env_file=None, data_dir=tmp_path, artefacts_dir="~/models")
    assert explicit.artefacts_dir == Path.home() / "models"


def test_missing_model_503_names_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: FalkorDBStore
) -> None:
    monkeypatch.delenv("TAILGRAPH_ARTEFACTS_DIR", raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", api_keys=[])
    store.run("CREATE (:User {id: 'u1'})-[:INTERACTED]->(:Item {id: 'i1'})")
    monkeypatch.chdir("/")
    with TestClient(create_app(settings, store=store)) as client:
        response = client.get("/users/u1/recommendations")
    assert response.status_code == 503
    assert str(tmp_path / "data" / "artefacts" / "current") in response.json()["detail"]
