"""Reliability of the embedded store and the service: restart times, a store kill under load.

Measured on real processes (a private embedded FalkorDB per case, ml-100k from the dataset
loader and the seeded synthetic generator):

* restart seconds after ingest: a clean ``stop``/``start`` and a ``kill -9``/``start``, with
  node and relationship counts compared before and after;
* a store ``kill -9`` while GET /users/{id}/recommendations runs in a loop (a model of random
  vectors over ml-100k's ids: reliability, not quality): responses by status, and seconds from
  the kill (the store restarted 1 s later) to the first 200 again, without restarting the API::

    .venv/bin/python bench/reliability.py --synthetic-interactions 1000000

writes ``bench/results/reliability.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

from tailgraph.graph.datasets import load
from tailgraph.graph.embedded import EmbeddedFalkorDB
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.graph.ingest import counts, ingest
from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate

ROOT = Path(__file__).resolve().parents[1]


def _store(server: EmbeddedFalkorDB) -> FalkorDBStore:
    import falkordb

    client = falkordb.FalkorDB(
        unix_socket_path=str(server.socket_path), password=server.password, socket_timeout=60
    )
    return FalkorDBStore(client, graph_name="tailgraph")


def _wait_gone(server: EmbeddedFalkorDB) -> None:
    while server.pid() is not None:
        time.sleep(0.01)


def _fresh_server(prefix: str) -> tuple[Path, EmbeddedFalkorDB, FalkorDBStore]:
    """A started embedded FalkorDB in a new temporary directory, and a store on it."""
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    server = EmbeddedFalkorDB(directory, password="bench")
    server.start()
    return directory, server, _store(server)


def restart_case(name: str, dataset) -> dict:
    """Ingest into a fresh store, then time a clean restart and a kill -9 restart."""
    _, server, store = _fresh_server("tgrel")
    started = time.perf_counter()
    ingest(store, dataset, progress=False)
    ingest_s = time.perf_counter() - started
    before = counts(store)
    store.close()
    out = {"dataset": name, "summary": dataset.summary(), "ingest_seconds": round(ingest_s, 2)}

    started = time.perf_counter()
    server.stop()
    out["stop_seconds"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    server.start(timeout=600)
    out["start_seconds_after_stop"] = round(time.perf_counter() - started, 3)
    store = _store(server)
    out["counts_equal_after_stop"] = counts(store) == before

    # a log tail, then SIGKILL: the replay of the tail is part of the restart
    store.run("MATCH (u:User) WITH u LIMIT 2000 SET u.touched = 1")
    before = counts(store)
    store.close()
    time.sleep(1.2)
    os.kill(server.pid(), signal.SIGKILL)
    _wait_gone(server)
    started = time.perf_counter()
    server.start(timeout=600)
    out["start_seconds_after_kill_9"] = round(time.perf_counter() - started, 3)
    store = _store(server)
    out["counts_equal_after_kill_9"] = counts(store) == before
    out["replay_errors_in_log"] = server.log_path.read_text().count("already exists")
    store.close()
    server.stop()
    return out


def store_kill_under_load(dataset, requests: int = 1500) -> dict:
    """Requests by status while the store is killed and restarted under the running API."""
    from fastapi.testclient import TestClient

    from tailgraph.api.app import create_app
    from tailgraph.gnn.artefacts import LearnedEmbeddings
    from tailgraph.settings import Settings

    directory, server, store = _fresh_server("tgkil")
    ingest(store, dataset, progress=False)
    rng = np.random.default_rng(0)
    users = [u["id"] for u in dataset.users]
    items = [i["id"] for i in dataset.items]
    embeddings = LearnedEmbeddings(
        model_name="random",
        version="bench-1",
        user_ids=users,
        item_ids=items,
        user=rng.normal(size=(len(users), 16)).astype(np.float32),
        item=rng.normal(size=(len(items), 16)).astype(np.float32),
        item_popularity=np.ones(len(items), dtype=np.int64),
    )
    settings = Settings(_env_file=None, data_dir=directory, artefacts_dir=directory / "a")
    statuses: Counter[int] = Counter()
    timeline: list[tuple[float, int]] = []
    killed_at: list[float] = []
    with TestClient(create_app(settings, store=store, embeddings=embeddings)) as client:

        def killer() -> None:
            time.sleep(2.0)
            killed_at.append(time.monotonic())
            os.kill(server.pid(), signal.SIGKILL)
            _wait_gone(server)
            time.sleep(1.0)
            server.start(timeout=120)

        thread = threading.Thread(target=killer)
        thread.start()
        for n in range(requests):
            response = client.get(f"/users/{users[n % len(users)]}/recommendations")
            statuses[response.status_code] += 1
            timeline.append((time.monotonic(), response.status_code))
            if 500 <= response.status_code and response.status_code != 503:
                print("unexpected", response.status_code, response.text[:200], file=sys.stderr)
        thread.join()
    kill = killed_at[0]
    after = [(t, s) for t, s in timeline if t > kill]
    failing = [t for t, s in after if s != 200]
    recovered = next((t for t, s in after if s == 200 and failing and t > failing[0]), None)
    store.close()
    server.stop()
    return {
        "requests": requests,
        "by_status": {str(k): v for k, v in sorted(statuses.items())},
        "seconds_from_kill_to_first_200": None if recovered is None else round(recovered - kill, 2),
        "store_restarted_after_seconds": 1.0,
        "api_restarted": False,
    }


def post_items_latency(dataset, n: int = 60) -> dict:
    """POST /items on ml-100k with real BERT text vectors and hub-linked KG links: latency."""
    from fastapi.testclient import TestClient

    from tailgraph.api.app import create_app
    from tailgraph.encoders.bert import TextEncoder
    from tailgraph.encoders.cache import EmbeddingCache
    from tailgraph.encoders.stage import encode_store
    from tailgraph.settings import Settings

    directory, server, store = _fresh_server("tgitm")
    ingest(store, dataset, progress=False)
    encoder = TextEncoder(device="cpu", max_length=64)
    encode_store(store, encoder, EmbeddingCache(directory / "cache"), labels=("Item",),
                 progress=False)  # fmt: skip
    hubs = store.run(
        "MATCH (e:Entity)-[r]-(:Item) WITH e, type(r) AS t, e.itemCount AS n "
        "RETURN DISTINCT e.id AS e, t ORDER BY n DESC LIMIT 3"
    )
    specific = store.run(
        "MATCH (e:Entity)-[r]-(:Item) WHERE e.itemCount >= 2 AND e.itemCount <= 5 "
        "RETURN DISTINCT e.id AS e, type(r) AS t LIMIT 50"
    )
    settings = Settings(_env_file=None, data_dir=directory, artefacts_dir=directory / "a")
    model = _random_model(dataset)
    seconds: list[float] = []
    statuses: Counter[int] = Counter()
    app = create_app(settings, store=store, embeddings=model, text_encoder=encoder)
    with TestClient(app) as client:
        for k in range(n + 5):
            hub = hubs[k % len(hubs)]
            links = [{"entity_id": hub["e"], "relation": hub["t"]}]
            links += [{"entity_id": r["e"], "relation": r["t"]} for r in specific[k % 40 :][:2]]
            body = {"item_id": f"new-{k}", "title": f"A new film number {k}", "links": links}
            started = time.perf_counter()
            response = client.post("/items", json=body)
            if k >= 5:  # the first few warm the encoder and the text index
                seconds.append(time.perf_counter() - started)
                statuses[response.status_code] += 1
    store.close()
    server.stop()
    ms = np.array(seconds) * 1000
    return {
        "requests": n,
        "by_status": {str(k): v for k, v in sorted(statuses.items())},
        "links_per_item": "1 hub entity (one of the 3 with most items) + 2 linking 2-5 items",
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "model": "random vectors over ml-100k ids (latency only)",
    }


def _random_model(dataset):
    from tailgraph.gnn.artefacts import LearnedEmbeddings

    rng = np.random.default_rng(0)
    users = [u["id"] for u in dataset.users]
    items = [i["id"] for i in dataset.items]
    return LearnedEmbeddings(
        model_name="random",
        version="bench-1",
        user_ids=users,
        item_ids=items,
        user=rng.normal(size=(len(users), 16)).astype(np.float32),
        item=rng.normal(size=(len(items), 16)).astype(np.float32),
        item_popularity=np.ones(len(items), dtype=np.int64),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic-interactions", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/reliability.json")
    parser.add_argument(
        "--only-items", action="store_true", help="only POST /items latency, added to --out"
    )
    args = parser.parse_args()
    datasets_dir = ROOT / "data/datasets"
    ml100k = load("ml-100k", datasets_dir)
    if args.only_items:
        results = json.loads(args.out.read_text()) if args.out.exists() else {}
        results["post_items"] = post_items_latency(ml100k)
        results["post_items"]["command"] = "python bench/reliability.py " + shlex.join(sys.argv[1:])
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results["post_items"], indent=2))
        return
    n = args.synthetic_interactions
    synthetic = generate(SyntheticConfig.for_users(max(100, n // 20), seed=0))
    results = {
        "command": "python bench/reliability.py " + shlex.join(sys.argv[1:]),
        "machine": f"{os.cpu_count()} CPU cores",
        "restart": [restart_case("ml-100k", ml100k), restart_case(f"synthetic-{n}", synthetic)],
        "store_kill_under_load": store_kill_under_load(ml100k),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
