"""Bounded in-flight requests per worker: 503 + Retry-After past the bound, probes exempt."""

from __future__ import annotations

import asyncio

import httpx

from tailgraph.api.app import create_app
from tailgraph.api.in_flight import InFlightLimitMiddleware
from tailgraph.settings import Settings


def _blocking_app(release: asyncio.Event, entered: asyncio.Event):
    async def app(scope, receive, send):
        if scope["path"] == "/slow":
            entered.set()
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_requests_past_the_bound_get_503_with_retry_after_until_one_finishes() -> None:
    async def scenario() -> None:
        release, entered = asyncio.Event(), asyncio.Event()
        limited = InFlightLimitMiddleware(_blocking_app(release, entered), max_in_flight=1)
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            first = asyncio.create_task(client.get("/slow"))
            await entered.wait()  # one request in flight: the bound is reached
            refused = await client.get("/users/u1/recommendations")
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "1"
            assert "limit of 1 requests in flight" in refused.json()["detail"]
            assert (await client.get("/ready")).status_code == 200  # probes are never refused
            release.set()
            assert (await first).status_code == 200
            assert (await client.get("/fast")).status_code == 200  # room again
            assert limited.in_flight == 0 and limited.refused == 1

    asyncio.run(scenario())


def test_zero_means_unbounded_and_the_app_takes_the_setting(tmp_path) -> None:
    settings = Settings(_env_file=None, artefacts_dir=tmp_path, data_dir=tmp_path)
    assert settings.max_in_flight == 64  # the documented default
    bounded = create_app(settings.model_copy(update={"max_in_flight": 3}))
    [limit] = [m for m in bounded.user_middleware if m.cls is InFlightLimitMiddleware]
    assert limit.kwargs == {"max_in_flight": 3}

    async def scenario() -> None:
        release, entered = asyncio.Event(), asyncio.Event()
        unbounded = InFlightLimitMiddleware(_blocking_app(release, entered), max_in_flight=0)
        transport = httpx.ASGITransport(app=unbounded)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            slow = [asyncio.create_task(client.get("/slow")) for _ in range(5)]
            await entered.wait()
            assert (await client.get("/fast")).status_code == 200
            release.set()
            assert [r.status_code for r in await asyncio.gather(*slow)] == [200] * 5

    asyncio.run(scenario())
