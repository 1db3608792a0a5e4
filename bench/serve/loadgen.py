"""Closed-loop HTTP load: ``concurrency`` async clients GET recommendation URLs, loopback only.

    .venv/bin/python bench/serve/loadgen.py --base http://127.0.0.1:8123 --users users.json \
        --concurrency 32 --requests 2000 --seconds 30

Each client picks the next user id from a seeded random sample and sends
``GET /users/{id}/recommendations?k=20``; prints one JSON object: latency percentiles (ms),
throughput (requests/s), error count and the first few errors.

Closed loop (default): each of ``concurrency`` clients sends its next request as soon as the
last one is answered, so throughput = concurrency / mean latency (Little's law: p99 <= 50 ms
at concurrency 32 would need >= 640 requests/s). ``--rate R`` is open loop instead: requests
start on a fixed schedule of R per second, at most ``concurrency`` in flight (a request that
finds all slots busy waits, and its wait counts in its latency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import numpy as np


async def run(
    base: str,
    users: list[str],
    concurrency: int,
    requests: int,
    seconds: float,
    k: int,
    rate: float | None = None,
) -> dict:
    """Send at most ``requests`` requests or for at most ``seconds``, whichever comes first."""
    latencies: list[float] = []
    errors: list[str] = []
    sent = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30.0) as client:

        async def one(user: str, started: float) -> None:
            try:
                response = await client.get(
                    f"/users/{quote(user, safe='')}/recommendations", params={"k": k}
                )
                ok = response.status_code == 200 and len(response.json()["items"]) == k
                if not ok:
                    errors.append(f"{response.status_code}: {response.text[:200]}")
            except httpx.HTTPError as e:
                errors.append(repr(e))
            latencies.append(time.perf_counter() - started)

        async def worker() -> None:
            nonlocal sent
            while sent < requests and time.perf_counter() < deadline:
                user = users[sent % len(users)]
                sent += 1
                await one(user, time.perf_counter())

        async def scheduled() -> None:  # open loop: start times fixed in advance
            nonlocal sent
            slots = asyncio.Semaphore(concurrency)
            tasks = []

            async def limited(user: str, due: float) -> None:
                async with slots:
                    await one(user, due)

            begin = time.perf_counter()
            while sent < requests:
                due = begin + sent / rate
                if due >= deadline:
                    break
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                tasks.append(asyncio.create_task(limited(users[sent % len(users)], due)))
                sent += 1
            await asyncio.gather(*tasks)

        started = time.perf_counter()
        if rate:
            await scheduled()
        else:
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {
        "mode": f"open loop, {rate}/s offered" if rate else "closed loop",
        "concurrency": concurrency,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
        "errors": len(errors),
        "error_samples": errors[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="http://127.0.0.1:<port> (loopback)")
    parser.add_argument("--users", type=Path, required=True, help="JSON list of user ids")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=None, help="open loop: requests/s")
    args = parser.parse_args()
    if not args.base.startswith(("http://127.0.0.1:", "http://localhost:")):
        parser.error("--base must be a loopback address")
    users = json.loads(args.users.read_text())
    random.Random(args.seed).shuffle(users)
    result = asyncio.run(
        run(args.base, users, args.concurrency, args.requests, args.seconds, args.k, args.rate)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
