"""Reliability of the embedded store and the service: restart times, a store kill under load.

Measured on real processes (a private embedded FalkorDB per case, ml-100k from the dataset
loader and the seeded synthetic generator):

* restart seconds after ingest: a clean ``stop``/``start`` and a ``kill -9``/``start``, with
  node and relationship counts compared before and after;
* a store ``kill -9`` while GET /users/{id}/recommendations runs in a loop (a model of random
  vectors over ml-100k's ids: reliability, not quality): responses by status, and seconds from
  the kill (the store restarted 1 s later) to the first 200 again, without restarting the API::

    .venv/bin/python bench/reliability.py --synthetic-interactions 1000000

writes ``bench/results/reliability.json``. Each of these adds one record to it instead:

* ``--only-items``: ``POST /items`` latency with a hub link, the current code and the
  baseline (per-link KG similarity reads) interleaved on one ml-100k store, and how far apart
  the two versions' vectors are;
* ``--demo-restart DATA_DIR``: ``tailgraph db stop`` then ``db start`` on the store a full
  ``tailgraph demo`` left in DATA_DIR, counts compared;
* ``--fuzz DATA_DIR``: schemathesis against ``tailgraph serve`` on that store and model, API
  keys off, on and sent, on and not sent: requests and 5xx.
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
    from tailgraph.settings import Settings

    directory, server, store = _fresh_server("tgkil")
    ingest(store, dataset, progress=False)
    users = [u["id"] for u in dataset.users]
    embeddings = _random_model(dataset)
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


def _kg_similarities_before(store, item_id, entity_ids, candidates):
    """api/new_items.kg_similarities as it was before the aggregated query: every link of
    every candidate as a row, then the degree of each of their entities (the baseline)."""
    from collections import defaultdict

    from tailgraph.gnn.transfer import entity_weights
    from tailgraph.graph.store import run_query

    similarity = np.zeros(len(candidates), dtype=np.float32)
    if not entity_ids or not candidates:
        return similarity
    links: dict[str, set[str]] = defaultdict(set)
    for row in run_query(store, "item_entity_links", {"item_ids": candidates}, read_only=True):
        links[str(row["item_id"])].add(str(row["entity_id"]))
    entities = sorted(set(entity_ids).union(*links.values()))
    degree = dict.fromkeys(entities, 0)
    for row in run_query(store, "entity_item_degrees", {"entity_ids": entities}, read_only=True):
        degree[str(row["entity_id"])] = int(row["degree"])
    weights = entity_weights(np.array([degree[e] for e in entities]))
    weight = dict(zip(entities, weights.tolist(), strict=True))
    own = set(entity_ids)
    own_norm = float(np.sqrt(sum(weight[e] ** 2 for e in own)))
    for n, candidate in enumerate(candidates):
        theirs = links.get(candidate, set())
        norm = own_norm * float(np.sqrt(sum(weight[e] ** 2 for e in theirs)))
        if norm > 0:
            similarity[n] = sum(weight[e] ** 2 for e in own & theirs) / norm
    return similarity


def post_items_latency(dataset, n: int = 60) -> dict:
    """POST /items on ml-100k with real BERT text vectors and hub-linked KG links: latency of
    the current code and of the baseline (the per-link KG similarity and the all-items scan
    for relation names), interleaved request by request on one store, and the largest
    difference between the two versions' stored vectors."""
    from fastapi.testclient import TestClient

    from tailgraph.api import new_items
    from tailgraph.api.app import create_app
    from tailgraph.encoders.bert import TextEncoder
    from tailgraph.encoders.cache import EmbeddingCache
    from tailgraph.encoders.stage import encode_store
    from tailgraph.settings import Settings

    directory, server, store = _fresh_server("tgitm")
    ingest(store, dataset, progress=False)
    encoder = TextEncoder(device="cpu", max_length=64)
    encode_store(
        store, encoder, EmbeddingCache(directory / "cache"), labels=("Item",), progress=False
    )
    hubs = store.run(
        "MATCH (e:Entity)-[r]-(:Item) WITH e, type(r) AS t, e.itemCount AS n "
        "RETURN DISTINCT e.id AS e, t, n ORDER BY n DESC LIMIT 3"
    )
    specific = store.run(
        "MATCH (e:Entity)-[r]-(:Item) WHERE e.itemCount >= 2 AND e.itemCount <= 5 "
        "RETURN DISTINCT e.id AS e, type(r) AS t LIMIT 50"
    )
    settings = Settings(_env_file=None, data_dir=directory, artefacts_dir=directory / "a")
    model = _random_model(dataset)
    current = (new_items.kg_similarities, new_items.run_query)

    def baseline_run_query(store, name, *args, **kwargs):
        if name == "item_relation_name_at":  # the baseline scanned for every relation name
            return []
        return current[1](store, name, *args, **kwargs)

    seconds: dict[str, list[float]] = {"current": [], "baseline": []}
    statuses: dict[str, Counter[int]] = {"current": Counter(), "baseline": Counter()}
    largest_difference = 0.0
    app = create_app(settings, store=store, embeddings=model, text_encoder=encoder)
    with TestClient(app) as client:
        for k in range(n + 5):
            hub = hubs[k % len(hubs)]
            links = [{"entity_id": hub["e"], "relation": hub["t"]}]
            links += [{"entity_id": r["e"], "relation": r["t"]} for r in specific[k % 40 :][:2]]
            stored = {}
            for variant in ("baseline", "current") if k % 2 else ("current", "baseline"):
                if variant == "baseline":
                    new_items.kg_similarities = _kg_similarities_before
                    new_items.run_query = baseline_run_query
                body = {"item_id": f"new-{k}", "title": f"A new film number {k}", "links": links}
                started = time.perf_counter()
                response = client.post("/items", json=body)
                elapsed = time.perf_counter() - started
                new_items.kg_similarities, new_items.run_query = current
                if k >= 5:  # the first few warm the encoder and the text index
                    seconds[variant].append(elapsed)
                    statuses[variant][response.status_code] += 1
                [row] = store.run(
                    "MATCH (i:Item {id: $id}) RETURN i.embedding AS v", {"id": body["item_id"]}
                )
                stored[variant] = np.asarray(row["v"], dtype=np.float64)
                client.delete(f"/items/{body['item_id']}")  # the same graph for the other one
            difference = np.abs(stored["current"] - stored["baseline"]).max()
            largest_difference = max(largest_difference, float(difference))
    store.close()
    server.stop()
    out: dict = {"requests_per_variant": n}
    for variant, values in seconds.items():
        ms = np.array(values) * 1000
        out[variant] = {
            "by_status": {str(k): v for k, v in sorted(statuses[variant].items())},
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
        }
    out["largest_vector_difference"] = largest_difference
    out["links_per_item"] = "1 hub entity (one of the 3 with most items) + 2 linking 2-5 items"
    out["hubs"] = [{"entity": h["e"], "type": h["t"], "items": h["n"]} for h in hubs]
    out["model"] = "random vectors over ml-100k ids (latency only)"
    return out


def demo_restart(data_dir: Path, artefacts_dir: Path) -> dict:
    """``tailgraph db stop`` then ``tailgraph db start`` (the CLI, as a user runs them) on a
    store a full ``tailgraph demo`` left behind: seconds for each, counts before and after."""
    import subprocess

    from tailgraph.graph.connect import open_store
    from tailgraph.settings import Settings

    env = {
        **os.environ,
        "TAILGRAPH_DATA_DIR": str(data_dir),
        "TAILGRAPH_ARTEFACTS_DIR": str(artefacts_dir),
    }
    settings = Settings(_env_file=None, data_dir=data_dir, artefacts_dir=artefacts_dir)
    store = open_store(settings)
    before = counts(store)
    store.close()
    files = sorted((data_dir / "falkordb").rglob("appendonly*"))
    sizes = {p.name: p.stat().st_size for p in files if p.is_file()}
    cli = [str(ROOT / ".venv/bin/tailgraph"), "db"]
    out: dict = {
        "data_dir": str(data_dir),
        "nodes": before[0],
        "relationships": before[1],
        "files_before_stop_bytes": sizes,
    }
    for step in ("stop", "start"):
        started = time.perf_counter()
        done = subprocess.run([*cli, step], env=env, capture_output=True, text=True, check=True)
        out[f"{step}_seconds"] = round(time.perf_counter() - started, 2)
        out[f"{step}_output"] = done.stdout.strip()
    store = open_store(settings)
    after = counts(store)
    store.close()
    out["counts_equal"] = after == before
    out["stop_then_start_seconds"] = round(out["stop_seconds"] + out["start_seconds"], 2)
    return out


def fuzz_served(data_dir: Path, artefacts_dir: Path, examples: int = 30) -> list[dict]:
    """schemathesis against ``tailgraph serve``'s own /openapi.json over HTTP, on a real store
    and model: every operation, valid and schema-violating requests, with API keys off, on
    with the key sent, and on without it; requests and 5xx counted per mode."""
    import socket
    import subprocess
    import urllib.request

    import schemathesis

    modes = [
        ("keys off", None, None),
        ("keys on, key sent", "fuzz-key", "fuzz-key"),
        ("keys on, no key", "fuzz-key", None),
    ]
    out = []
    for name, configured, sent in modes:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env = {
            **os.environ,
            "TAILGRAPH_DATA_DIR": str(data_dir),
            "TAILGRAPH_ARTEFACTS_DIR": str(artefacts_dir),
            "TAILGRAPH_API_KEYS": json.dumps([configured] if configured else []),
        }
        cmd = [str(ROOT / ".venv/bin/tailgraph"), "serve", "--port", str(port)]
        log = open(Path(tempfile.mkdtemp(prefix="tgfuzz")) / "serve.log", "wb")  # noqa: SIM115
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(1200):
                try:
                    urllib.request.urlopen(base + "/ready", timeout=1)
                    break
                except Exception:
                    time.sleep(0.1)
            schema = schemathesis.openapi.from_url(base + "/openapi.json")
            statuses: Counter[int] = Counter()
            failures: list[str] = []
            headers = {"X-API-Key": sent} if sent else {}
            for result in schema.get_all_operations():
                operation = result.ok()
                if operation.path.startswith("/explore"):  # the page and its static files
                    continue
                for generation in (
                    schemathesis.GenerationMode.POSITIVE,
                    schemathesis.GenerationMode.NEGATIVE,
                ):
                    _fuzz_operation(operation, generation, headers, examples, statuses, failures)
        finally:
            server.terminate()
            server.wait(30)
            log.close()
        out.append(
            {
                "mode": name,
                "requests": sum(statuses.values()),
                "responses_5xx": sum(v for k, v in statuses.items() if k >= 500),
                "by_status": {str(k): v for k, v in sorted(statuses.items())},
                "first_5xx": failures[:5],
            }
        )
    return out


def _fuzz_operation(operation, generation, headers, examples, statuses, failures) -> None:
    """Send ``examples`` derandomized generated requests for one operation, counting statuses."""
    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis.errors import Unsatisfiable

    @hypothesis_settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=generation))
    def send(case: schemathesis.Case) -> None:
        response = case.call(headers=headers, timeout=30)
        statuses[response.status_code] += 1
        if response.status_code >= 500:
            where = f"{case.method} {case.formatted_path} -> {response.status_code}"
            failures.append(f"{where}: {response.text[:200]}")

    try:
        send()
    except Unsatisfiable:  # nothing to violate: an operation without inputs
        pass


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
    parser.add_argument(
        "--demo-restart",
        type=Path,
        metavar="DATA_DIR",
        help="only db stop/start on the store a `tailgraph demo` left in DATA_DIR (artefacts "
        "in DATA_DIR/../art unless TAILGRAPH_ARTEFACTS_DIR), added to --out",
    )
    parser.add_argument(
        "--fuzz",
        type=Path,
        metavar="DATA_DIR",
        help="only schemathesis against `tailgraph serve` on the store and model in DATA_DIR "
        "(artefacts as for --demo-restart), added to --out",
    )
    parser.add_argument("--fuzz-examples", type=int, default=30)
    args = parser.parse_args()
    if args.fuzz:
        artefacts = Path(os.environ.get("TAILGRAPH_ARTEFACTS_DIR", args.fuzz.parent / "art"))
        results = json.loads(args.out.read_text()) if args.out.exists() else {}
        started = time.perf_counter()
        record = {"modes": fuzz_served(args.fuzz.resolve(), artefacts, args.fuzz_examples)}
        record["requests"] = sum(m["requests"] for m in record["modes"])
        record["responses_5xx"] = sum(m["responses_5xx"] for m in record["modes"])
        record["seconds"] = round(time.perf_counter() - started, 1)
        record["examples_per_operation_and_mode"] = args.fuzz_examples
        record["command"] = "python bench/reliability.py " + shlex.join(sys.argv[1:])
        record["load_average"] = list(os.getloadavg())
        results["fuzz_served"] = record
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(record, indent=2))
        return
    if args.demo_restart:
        default = args.demo_restart.parent / "art"
        artefacts = Path(os.environ.get("TAILGRAPH_ARTEFACTS_DIR", default))
        results = json.loads(args.out.read_text()) if args.out.exists() else {}
        record = demo_restart(args.demo_restart.resolve(), artefacts)
        record["command"] = "python bench/reliability.py " + shlex.join(sys.argv[1:])
        record["load_average"] = list(os.getloadavg())
        results["restart_after_demo"] = record
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(record, indent=2))
        return
    datasets_dir = ROOT / "data/datasets"
    ml100k = load("ml-100k", datasets_dir)
    if args.only_items:
        results = json.loads(args.out.read_text()) if args.out.exists() else {}
        previous = results.get("post_items", {})
        results["post_items"] = post_items_latency(ml100k)
        results["post_items"]["command"] = "python bench/reliability.py " + shlex.join(sys.argv[1:])
        results["post_items"]["load_average"] = list(os.getloadavg())
        if "p50_ms" in previous:  # the last record before this change, for the history
            results["post_items"]["previous_record"] = {
                k: previous[k] for k in ("p50_ms", "p99_ms", "command") if k in previous
            }
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
