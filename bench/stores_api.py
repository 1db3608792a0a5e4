"""The API's recommendation latency and throughput on FalkorDB and on Neo4j: same model, same
requests, closed loop.

Each store serves a data directory that ``tailgraph demo`` filled (the same dataset and seed on
both); one model directory is served over both. For each store in turn: start its server,
start ``uvicorn --factory tailgraph.api.app:create_app`` (one worker), warm up, then a closed
loop of ``GET /users/{id}/recommendations?k=K`` over the same sampled users at each
concurrency (threads, one ``httpx.Client`` each), then stop both::

    .venv/bin/python bench/stores_api.py --data falkordb=/tmp/i15/data-falkordb \\
        --data neo4j=/tmp/i15/data-neo4j --artefacts /tmp/i15/art-falkordb \\
        --record bench/results/stores-ml100k.json

``--record`` adds an ``api`` entry to an existing record (the store benchmark's file).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

CONCURRENCY = (1, 8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/ready", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{base}/ready not ready after {timeout} s")


def closed_loop(base: str, users: list[str], k: int, concurrency: int, seconds: float) -> dict:
    """``concurrency`` clients, each sending its next request when the last one answered."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(offset: int) -> None:
        position = offset
        with httpx.Client(base_url=base, timeout=30) as http:
            while time.perf_counter() < deadline:
                user = users[position % len(users)]
                position += concurrency
                started = time.perf_counter()
                status = http.get(f"/users/{user}/recommendations", params={"k": k}).status_code
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000.0
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "seconds": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 2),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "statuses": {str(code): count for code, count in sorted(statuses.items())},
    }


def measure(store: str, data_dir: Path, artefacts: Path, users: list[str], args) -> dict:
    env = {
        **os.environ,
        "TAILGRAPH_STORE": store,
        "TAILGRAPH_DATA_DIR": str(data_dir),
        "TAILGRAPH_ARTEFACTS_DIR": str(artefacts),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    tailgraph = [str(Path(sys.executable).with_name("tailgraph"))]
    subprocess.run([*tailgraph, "db", "start", "--store", store], env=env, check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "uvicorn", "--factory", "tailgraph.api.app:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
               "--log-level", "warning", "--no-access-log"]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    try:
        wait_ready(base)
        closed_loop(base, users, args.k, 2, args.warmup)
        levels = []
        for concurrency in CONCURRENCY:
            level = closed_loop(base, users, args.k, concurrency, args.seconds)
            print(store, json.dumps(level), flush=True)
            levels.append(level)
        return {"command": shlex.join(command), "data_dir": str(data_dir), "closed": levels}
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run([*tailgraph, "db", "stop", "--store", store], env=env, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", action="append", required=True, help="store=data_dir")
    parser.add_argument("--artefacts", type=Path, required=True, help="the one model served")
    parser.add_argument("--users", type=int, default=200, help="sampled user ids")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0, help="per concurrency level")
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--record", type=Path, default=None)
    args = parser.parse_args()

    stores = dict(item.split("=", 1) for item in args.data)
    inter = Path(next(iter(stores.values())), "datasets", "ml-100k", "ml-100k.inter")
    seen = sorted({line.split("\t")[0] for line in inter.read_text().splitlines()[1:]})
    users = random.Random(args.seed).sample(seen, args.users)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    record: dict = {
        "command": shlex.join([".venv/bin/python", *sys.argv]),
        "route": f"GET /users/{{id}}/recommendations?k={args.k}",
        "commit": commit,
        "model": json.loads((args.artefacts / "current" / "meta.json").read_text()).get("version"),
        "client": "closed loop, one thread and httpx.Client per concurrent client, same machine",
        "sampled_users": args.users,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "stores": {},
    }
    for store, data_dir in stores.items():
        record["stores"][store] = measure(store, Path(data_dir), args.artefacts, users, args)
    record["load_average_after"] = os.getloadavg()
    print(json.dumps(record, indent=1))
    if args.record:
        existing = json.loads(args.record.read_text()) if args.record.exists() else {}
        existing["api"] = record
        args.record.write_text(json.dumps(existing, indent=2) + "\n")
        print(f"recorded {args.record}")


if __name__ == "__main__":
    main()
