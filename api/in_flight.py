"""Bounded in-flight requests per worker process: past the bound, 503 + Retry-After at once.

A pure ASGI middleware. A worker that already holds ``max_in_flight`` requests answers the next
one with 503 ``{"detail": ...}`` and ``Retry-After`` instead of queueing it behind the others,
so overload shows as fast refusals a client or balancer can retry elsewhere, not as latency
growing without bound. Probes (/health, /ready, /metrics) are never refused or counted.
"""

from __future__ import annotations

import json
from typing import Any

RETRY_AFTER_SECONDS = 1
EXEMPT = frozenset({"/health", "/ready", "/metrics"})


class InFlightLimitMiddleware:
    """Refuse HTTP requests beyond ``max_in_flight`` being served by this process (0: no bound)."""

    def __init__(self, app: Any, max_in_flight: int) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.in_flight = 0  # one event loop per process: no lock needed
        self.refused = 0
        self._body = json.dumps(
            {
                "detail": f"The service is at its limit of {max_in_flight} requests in flight "
                f"per worker; retry after {RETRY_AFTER_SECONDS} s."
            }
        ).encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.max_in_flight <= 0 or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            self.refused += 1
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(self._body)).encode()),
                        (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": self._body})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
