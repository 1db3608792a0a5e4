"""The embedded FalkorDB server: lifecycle, reuse and persistence across restarts."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tailgraph.errors import ConfigurationError, StoreUnavailableError
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.ingest import counts, ingest
from tailgraph.graph.records import Dataset, Interaction


@pytest.fixture
def server() -> Iterator[EmbeddedFalkorDB]:
    """A server of its own in a short directory (unix socket paths are length-limited)."""
    directory = Path(tempfile.mkdtemp(prefix="tg"))
    db = EmbeddedFalkorDB(directory, password="lifecycle-test")
    yield db
    db.stop()
    shutil.rmtree(directory, ignore_errors=True)


def _store(server: EmbeddedFalkorDB) -> FalkorDBStore:
    import falkordb

    client = falkordb.FalkorDB(unix_socket_path=str(server.socket_path), password=server.password)
    return FalkorDBStore(client, graph_name="persisted")


def test_start_reuse_status_and_stop(server: EmbeddedFalkorDB) -> None:
    assert server.status().running is False and server.status().pid is None
    started = server.start()
    assert started.running is True and started.pid is not None
    assert started.socket == server.socket_path and server.socket_path.exists()
    # Starting again, or from a second object on the same directory, reuses the live server.
    assert server.start().pid == started.pid
    twin = EmbeddedFalkorDB(server.directory, password=server.password)
    assert twin.start().pid == started.pid
    assert twin.status().running is True

    assert server.stop() is True
    assert server.status().running is False and server.status().pid is None
    assert server.stop() is False


def test_data_survives_a_restart(server: EmbeddedFalkorDB) -> None:
    server.start()
    dataset = Dataset(
        name="restart",
        users=[{"id": "u1", "age": 41}],
        items=[{"id": "i1", "title": "Alien"}],
        interactions=[Interaction("u1", "i1", 5.0, 1.0)],
    )
    store = _store(server)
    ingest(store, dataset, progress=False)
    store.close()
    server.stop()
    assert server.status().running is False

    server.start()
    store = _store(server)
    try:
        assert counts(store) == ({"User": 1, "Item": 1}, {"INTERACTED": 1})
        assert store.run("MATCH (i:Item {id: 'i1'}) RETURN i.title AS t") == [{"t": "Alien"}]
        unique = {c["label"] for c in store.list_constraints() if c.get("type") == "UNIQUE"}
        assert {"User", "Item"} <= unique
    finally:
        store.close()


def test_overlong_directory_is_rejected(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    with pytest.raises(ConfigurationError, match="too long for a unix socket"):
        EmbeddedFalkorDB(deep, password="x").start()


def _servers_on(directory: Path) -> list[int]:
    """PIDs of every redis-server process whose command line names ``directory``."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"redis-server" in cmdline and str(directory).encode() in cmdline:
            pids.append(int(proc.name))
    return pids


def _small_dataset(n: int = 50) -> Dataset:
    return Dataset(
        name="kill",
        users=[{"id": f"u{k}"} for k in range(n)],
        items=[{"id": f"i{k}", "title": f"Item {k}"} for k in range(n)],
        interactions=[Interaction(f"u{k}", f"i{(k * 7) % n}", 4.0, float(k)) for k in range(n)],
    )


def test_kill_9_then_restart_keeps_acknowledged_writes(server: EmbeddedFalkorDB) -> None:
    """appendfsync everysec: writes acknowledged over a second before a SIGKILL survive it,
    and the replay of the log tail needs no query re-run (no 'already exists' errors)."""
    import os
    import signal
    import time

    server.start()
    store = _store(server)
    ingest(store, _small_dataset(), progress=False)
    store.run("UNWIND range(1, 200) AS k CREATE (:User {id: 'late' + toString(k)})")  # log tail
    before = counts(store)
    store.close()
    time.sleep(1.5)  # one fsync period
    os.kill(server.pid(), signal.SIGKILL)
    deadline = time.monotonic() + 5
    while server.pid() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.status().state == "stopped"

    server.start()
    store = _store(server)
    try:
        assert counts(store) == before
    finally:
        store.close()
    assert "already exists" not in server.log_path.read_text()


def test_clean_restart_loads_a_snapshot_not_the_write_log(server: EmbeddedFalkorDB) -> None:
    """Ingest compacts the log; stop rewrites it again, so the next start reads a snapshot."""
    server.start()
    store = _store(server)
    ingest(store, _small_dataset(), progress=False)
    store.run("UNWIND range(1, 100) AS k CREATE (:Entity {id: 'e' + toString(k)})")
    before = counts(store)
    store.close()
    server.stop()
    incr = list((server.directory / "appendonlydir").glob("*.incr.aof"))
    assert incr and all(path.stat().st_size == 0 for path in incr)
    server.start()
    store = _store(server)
    try:
        assert counts(store) == before
    finally:
        store.close()


def test_an_unanswering_server_is_waited_for_never_duplicated(server: EmbeddedFalkorDB) -> None:
    """A server that is alive but does not answer (loading, or here stopped with SIGSTOP) is
    never joined by a second server on the same files: start waits, then fails clearly."""
    import os
    import signal

    first = server.start().pid
    assert first is not None
    os.kill(first, signal.SIGSTOP)
    try:
        assert server.status().state == "starting"
        with pytest.raises(StoreUnavailableError, match="did not answer"):
            server.start(timeout=1.0)
        assert _servers_on(server.directory) == [first]
    finally:
        os.kill(first, signal.SIGCONT)
    assert server.start().pid == first


def test_concurrent_starts_spawn_one_server(server: EmbeddedFalkorDB) -> None:
    """Several processes' worth of simultaneous starts on a fresh directory: one server."""
    from concurrent.futures import ThreadPoolExecutor

    def start_one(_: int) -> int | None:
        return EmbeddedFalkorDB(server.directory, password=server.password).start().pid

    with ThreadPoolExecutor(max_workers=4) as pool:
        pids = set(pool.map(start_one, range(4)))
    assert len(pids) == 1
    assert _servers_on(server.directory) == list(pids)


def test_data_directory_is_private(server: EmbeddedFalkorDB) -> None:
    """The directory is 0700 and every file the server writes is 0600 (no other local user
    can read the data or the log)."""
    server.start()
    store = _store(server)
    ingest(store, _small_dataset(5), progress=False)
    store.close()
    assert server.directory.stat().st_mode & 0o777 == 0o700
    for path in server.directory.rglob("*"):
        if path.is_socket():
            continue
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (path, oct(mode))
