"""/docs (Swagger UI) and /redoc (ReDoc) render offline in headless Chromium.

Chromium runs with every host name but 127.0.0.1 unresolvable, so a page that still loads
anything from a CDN (scripts, styles, fonts, the validator badge) renders blank and fails here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.api.routes.docs import ASSETS, find_asset
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings
from tests.api import test_explore_browser as explore
from tests.api.test_explore_browser import CHROMIUM, _chromium

needs_assets = pytest.mark.skipif(
    any(find_asset(name) is None for name in ASSETS),
    reason="Swagger UI / ReDoc are not vendored: run `make assets`",
)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install -y chromium)"
)
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
PATH = "/users/{user_id}/recommendations"


@pytest.fixture
def store(falkordb_server: EmbeddedFalkorDB) -> Iterator[FalkorDBStore]:
    """An empty FalkorDB graph of its own (the documentation pages read no data)."""
    import falkordb

    client = falkordb.FalkorDB(
        unix_socket_path=str(falkordb_server.socket_path), password=falkordb_server.password
    )
    graph = FalkorDBStore(client, graph_name=f"test-{uuid.uuid4().hex[:12]}")
    yield graph
    graph.clear()
    graph.close()


@pytest.fixture
def server(
    store: FalkorDBStore, falkordb_server: EmbeddedFalkorDB, tmp_path: Path
) -> Iterator[str]:
    """Base URL of a real uvicorn process serving the app (the explorer test's factory)."""
    env = {
        **os.environ,
        explore.ENV_SOCKET: str(falkordb_server.socket_path),
        explore.ENV_PASSWORD: falkordb_server.password,
        explore.ENV_GRAPH: store.graph_name,
        explore.ENV_ARTEFACTS: str(tmp_path / "artefacts"),
    }
    with explore.uvicorn_app(env, "/health") as url:
        yield url


@needs_chromium
@needs_assets
def test_swagger_ui_renders_offline(server: str, tmp_path: Path) -> None:
    dom = _chromium(f"{server}/docs", tmp_path / "profile", OFFLINE, "--dump-dom")
    assert 'class="swagger-ui' in dom, dom[-2000:]
    assert "opblock-summary-path" in dom and f'data-path="{PATH}"' in dom
    assert "TailGraph" in dom


@needs_chromium
@needs_assets
def test_redoc_renders_offline(server: str, tmp_path: Path) -> None:
    dom = _chromium(f"{server}/redoc", tmp_path / "profile", OFFLINE, "--dump-dom")
    assert "redoc-wrap" in dom, dom[-2000:]
    assert PATH in dom and "Knowledge-aware recommendations" in dom


@needs_assets
def test_pages_reference_local_files_only(store: FalkorDBStore, tmp_path: Path) -> None:
    settings = Settings(_env_file=None, api_keys=[], artefacts_dir=tmp_path)
    with TestClient(create_app(settings, store=store)) as client:
        for page in ("/docs", "/redoc"):
            text = client.get(page).text
            assert "https://" not in text and "http://" not in text, page
        for name, (_, _, media_type) in ASSETS.items():
            response = client.get(f"/docs/static/{name}")
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(media_type)
        assert client.get("/docs/static/package.json").status_code == 404


def test_missing_assets_say_how_to_install_them(
    store: FalkorDBStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TAILGRAPH_EXPLORE_ASSETS", str(tmp_path / "empty"))
    settings = Settings(_env_file=None, api_keys=[], artefacts_dir=tmp_path)
    with TestClient(create_app(settings, store=store)) as client:
        for page in ("/docs", "/redoc"):
            response = client.get(page)
            assert response.status_code == 503
            assert "make assets" in response.text and "/openapi.json" in response.text
        assert client.get("/docs/static/swagger-ui.css").status_code == 404
