"""The local Neo4j (neo4j-launcher) driven like the embedded store: start, reuse, stop, restart.

One server of its own in a temporary directory, started through the settings and the CLI the
way a user would, then stopped and restarted to show the data and the password survive.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tailgraph.cli import app
from tailgraph.errors import ConfigurationError, StoreUnavailableError
from tailgraph.graph.connect import local_neo4j, open_store
from tailgraph.graph.neo4j_local import DEFAULT_LAUNCHER, LocalNeo4j
from tailgraph.settings import Settings

needs_launcher = pytest.mark.skipif(
    not DEFAULT_LAUNCHER.is_file() and not os.environ.get("CI"),
    reason=f"the launcher is not built ({DEFAULT_LAUNCHER}): run `make neo4j-launcher`",
)


def test_missing_launcher_names_the_build_step(tmp_path: Path) -> None:
    server = LocalNeo4j(tmp_path / "db", launcher=tmp_path / "absent.jar")
    with pytest.raises(ConfigurationError, match="make neo4j-launcher"):
        server.start()
    assert not server.status().running


def test_a_stale_pid_file_is_not_a_running_server(tmp_path: Path) -> None:
    server = LocalNeo4j(tmp_path / "db")
    server.directory.mkdir(parents=True)
    server.pid_path.write_text(f"{os.getpid()}\n")  # alive, but not a launcher for this dir
    assert server.pid() is None
    assert server.status().running is False
    assert server.stop() is False


def test_stopped_local_neo4j_is_unavailable_without_start(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, store="neo4j", data_dir=tmp_path)
    with pytest.raises(StoreUnavailableError, match="db start --store neo4j"):
        open_store(settings, start=False)


@needs_launcher
def test_lifecycle_through_settings_and_cli(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TAILGRAPH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TAILGRAPH_STORE", "neo4j")
    monkeypatch.delenv("TAILGRAPH_NEO4J_URI", raising=False)
    monkeypatch.delenv("TAILGRAPH_NEO4J_PASSWORD", raising=False)
    settings = Settings(_env_file=None)
    server = local_neo4j(settings)
    assert server.directory == (tmp_path / "neo4j").resolve()
    runner = CliRunner()
    try:
        # The pipeline's way in: no URI, so the local Neo4j is started on demand.
        store = open_store(settings)
        status = server.status()
        assert status.running and status.version and status.version.startswith("5.26.")
        assert status.uri and status.uri.startswith("bolt://127.0.0.1:")
        assert stat.S_IMODE(server.password_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(server.directory.stat().st_mode) == 0o700
        store.run("CREATE (:Item {id: 'kept'})")

        # Reused, not started twice.
        started = runner.invoke(app, ["db", "start", "--store", "neo4j"])
        assert started.exit_code == 0, started.output
        assert f"pid {status.pid}" in started.output and "5.26." in started.output
        shown = runner.invoke(app, ["db", "status", "--store", "neo4j"])
        assert "running" in shown.output and status.uri in shown.output

        # SIGTERM: a clean shutdown, after which nothing answers.
        stopped = runner.invoke(app, ["db", "stop", "--store", "neo4j"])
        assert stopped.output.strip() == "Neo4j stopped"
        assert not server.status().running
        with pytest.raises(StoreUnavailableError, match="Neo4j is not reachable"):
            store.run("MATCH (n) RETURN count(n) AS n")  # within the driver's retry bound
        assert "stopped" in runner.invoke(app, ["db", "status", "--store", "neo4j"]).output
        assert runner.invoke(app, ["db", "stop", "--store", "neo4j"]).output.strip() == (
            "Neo4j was not running"
        )

        # Restarted: same port, password and data, so the open store recovers by itself.
        open_store(settings).close()  # starts the server again, on the port it had
        assert server.status().uri == status.uri
        assert store.run("MATCH (i:Item) RETURN i.id AS id") == [{"id": "kept"}]
        store.close()
    finally:
        server.stop()


def test_unknown_store_is_a_cli_error() -> None:
    result = CliRunner().invoke(app, ["db", "status", "--store", "mongo"])
    assert result.exit_code == 2
    assert "--store must be falkordb or neo4j" in result.output


@needs_launcher
def test_server_exits_with_its_owner(tmp_path: Path) -> None:
    """A test session's server goes when the session does, even if it was killed."""
    import subprocess
    import time

    owner = subprocess.Popen(["sleep", "600"])
    server = LocalNeo4j(tmp_path / "db", heap_mb=512, pagecache_mb=64, owner_pid=owner.pid)
    try:
        pid = server.start().pid
        assert server.status().running
        owner.kill()
        owner.wait()
        deadline = time.monotonic() + 60
        while server.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.pid() is None, f"the server (pid {pid}) outlived its owner"
        assert "Bolt server has been shut down" in (server.directory / "logs/debug.log").read_text()
    finally:
        owner.kill()
        owner.wait()
        server.stop()
