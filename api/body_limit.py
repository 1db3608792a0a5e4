"""Request body size limit: a pure ASGI middleware answering 413 before anything is parsed.

A ``Content-Length`` over the limit is refused at once; a body sent without one (chunked) is
read here up to the limit and refused as soon as it passes it, so no handler ever sees more
than ``max_bytes`` of a body.
"""

from __future__ import annotations

import json
from typing import Any


def _too_large_body(max_bytes: int) -> bytes:
    return json.dumps(
        {"detail": f"The request body is larger than the limit of {max_bytes:,} bytes."}
    ).encode()


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_bytes`` with 413 ``{"detail": ...}``."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = None
        if length is not None and length > self.max_bytes:
            await self._refuse(send)
            return
        if length is not None or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        # No Content-Length (chunked): read the body here, at most max_bytes of it, and replay.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any) -> None:
        body = _too_large_body(self.max_bytes)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
