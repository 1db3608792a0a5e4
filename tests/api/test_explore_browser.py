"""The /explore page in headless Chromium, served by a real uvicorn process over a real store.

Chromium renders the page, the page's script draws the graph with the vendored cytoscape.js
and then writes the node count into ``#status``; ``--dump-dom`` hands that DOM back.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from tailgraph.api.app import create_app
from tailgraph.api.routes.explore import find_library
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings
from tests.api.test_explore import SAMPLE_GRAPH

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
    None,
)
ENV_SOCKET, ENV_PASSWORD, ENV_GRAPH, ENV_ARTEFACTS = (
    "TAILGRAPH_TEST_EXPLORE_SOCKET",
    "TAILGRAPH_TEST_EXPLORE_PASSWORD",
    "TAILGRAPH_TEST_EXPLORE_GRAPH",
    "TAILGRAPH_TEST_EXPLORE_ARTEFACTS",
)

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="headless Chromium is not installed (apt-get install -y chromium)",
    ),
    pytest.mark.skipif(
        find_library() is None, reason="cytoscape.js is not vendored: run `make assets`"
    ),
]


def app_from_env() -> FastAPI:
    """uvicorn factory for the server subprocess: the service over the store named by the env
    vars above, with no API keys and no trained model (the explorer needs none)."""
    import falkordb

    client = falkordb.FalkorDB(
        unix_socket_path=os.environ[ENV_SOCKET], password=os.environ[ENV_PASSWORD]
    )
    settings = Settings(
        _env_file=None, store="falkordb", api_keys=[], artefacts_dir=Path(os.environ[ENV_ARTEFACTS])
    )
    return create_app(settings, store=FalkorDBStore(client, graph_name=os.environ[ENV_GRAPH]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(
    falkordb_store: FalkorDBStore, falkordb_server: EmbeddedFalkorDB, tmp_path: Path
) -> Iterator[str]:
    """Base URL of a uvicorn process serving the explorer over the sample graph (the page is
    what is tested here, so one store: FalkorDB; the routes run on both in test_explore.py)."""
    store = falkordb_store
    store.run(SAMPLE_GRAPH)
    env = {
        **os.environ,
        ENV_SOCKET: str(falkordb_server.socket_path),
        ENV_PASSWORD: falkordb_server.password,
        ENV_GRAPH: store.graph_name,
        ENV_ARTEFACTS: str(tmp_path / "artefacts"),
    }
    with uvicorn_app(env, "/explore") as url:
        yield url


@contextmanager
def uvicorn_app(env: dict[str, str], ready_path: str) -> Iterator[str]:
    """Base URL of a uvicorn process serving :func:`app_from_env` with ``env``, once
    ``ready_path`` answers 200; the process is stopped on exit."""
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory", f"{__name__}:app_from_env",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a loaded 2-core machine imports torch slowly
        while True:
            if process.poll() is not None:
                pytest.fail(f"uvicorn exited with {process.returncode}: {process.stderr.read()}")
            try:
                if httpx.get(f"{url}{ready_path}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("uvicorn did not answer within 60 s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


def _chromium(url: str, profile: Path, *extra: str) -> str:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--window-size=1200,800",
        *extra,
        url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class _Page(HTMLParser):
    """The attributes of ``#status`` and the texts of ``#node-list`` items."""

    def __init__(self) -> None:
        super().__init__()
        self.status: dict[str, str | None] = {}
        self.nodes: list[str] = []
        self._in_list = self._in_item = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id") == "status":
            self.status = found
        self._in_list = self._in_list or found.get("id") == "node-list"
        self._in_item = self._in_list and tag == "li"

    def handle_endtag(self, tag: str) -> None:
        self._in_list = self._in_list and tag != "ul"
        self._in_item = False

    def handle_data(self, data: str) -> None:
        if self._in_item:
            self.nodes.append(data)


def test_page_draws_the_user_neighbourhood(server: str, tmp_path: Path) -> None:
    api = httpx.get(f"{server}/explore/graph", params={"kind": "user", "id": "u1"}).json()
    page_url = f"{server}/explore?kind=user&id=u1&select=item:i2"

    dom = _chromium(page_url, tmp_path / "profile", "--dump-dom")
    page = _Page()
    page.feed(dom)
    assert page.status.get("data-state") == "ready", page.status
    assert page.status["data-nodes"] == str(len(api["nodes"])) == "8"
    assert page.status["data-edges"] == str(len(api["edges"]))
    assert {"user: user u1", "item: Toy Story (1995)", "entity: Pixar"} <= set(page.nodes)
    assert "Why recommended" in dom  # the selected recommendation is explained
    assert "John Lasseter (directed by), shared with Toy Story (1995)" in dom

    shot = tmp_path / "explore.png"
    _chromium(page_url, tmp_path / "profile", f"--screenshot={shot}")
    import matplotlib.image

    pixels = (matplotlib.image.imread(shot)[:, :, :3] * 255).round().astype(int)
    assert pixels.shape[:2] == (800, 1200)
    graph_area = pixels[100:, :850]  # below the header (legend), left of the side panel
    for colour in ("#2563eb", "#f59e0b", "#dc2626", "#059669"):  # user, item, recommended, KG
        rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        drawn = (np.abs(graph_area - rgb).sum(axis=2) < 12).sum()
        assert drawn > 20, f"no {colour} node drawn in the graph area"
