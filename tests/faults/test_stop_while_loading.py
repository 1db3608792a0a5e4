"""``db stop`` while the embedded FalkorDB is still loading a large snapshot: it stops at once
and cleanly (no SIGKILL needed), and the data is intact on the next start."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

from tailgraph.errors import StoreUnavailableError
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore

NODES = 2_000_000  # a snapshot that takes a second or more to load


def _store(server: EmbeddedFalkorDB) -> FalkorDBStore:
    import falkordb

    client = falkordb.FalkorDB(
        unix_socket_path=str(server.socket_path), password=server.password, socket_timeout=60
    )
    return FalkorDBStore(client, graph_name="tailgraph")


def test_stop_during_loading_is_quick_clean_and_keeps_the_data() -> None:
    directory = Path(tempfile.mkdtemp(prefix="tgl"))
    server = EmbeddedFalkorDB(directory, password="faults")
    try:
        server.start()
        store = _store(server)
        for start in range(0, NODES, 500_000):
            store.run(
                "UNWIND range($a, $b) AS x CREATE (:N {v: x, s: 'padding to make it load slower'})",
                {"a": start, "b": start + 499_999},
            )
        store.close()
        assert server.stop()  # rewrites the log into one snapshot

        errors: list[Exception] = []

        def start() -> None:
            try:
                server.start(timeout=60)
            except StoreUnavailableError as e:  # stopped under it: expected
                errors.append(e)

        starter = threading.Thread(target=start)
        starter.start()
        deadline = time.monotonic() + 30
        status = server.status()
        while status.state != "loading" and time.monotonic() < deadline:
            time.sleep(0.01)
            status = server.status()
        assert status.state == "loading", status
        assert "loading" in status.describe()
        pid = server.pid()
        assert pid is not None

        started = time.monotonic()
        assert server.stop()
        stop_seconds = time.monotonic() - started
        starter.join(timeout=60)
        assert server.pid() is None
        assert stop_seconds < 5, stop_seconds  # not the SIGKILL path after the full timeout
        log = server.log_path.read_text(errors="replace")
        # Redis words it "Received SIGTERM" or "Received shutdown signal during loading".
        marker = "SIGTERM" if "SIGTERM" in log else "shutdown signal"
        assert marker in log and "ready to exit" in log.split(marker)[-1], log[-2000:]
        assert errors and "exited while starting" in str(errors[0])

        server.start(timeout=60)  # the snapshot was not damaged by the interrupted load
        store = _store(server)
        assert store.run("MATCH (n:N) RETURN count(n) AS n") == [{"n": NODES}]
        store.close()
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)
