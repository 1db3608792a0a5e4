"""API-key authentication: ``X-API-Key`` must be one of the ``api_keys`` setting (empty: off).

Missing key: 401 with ``WWW-Authenticate: ApiKey``; a key that is not accepted: 403. Keys are
compared in constant time. Health, readiness and metrics are mounted without this dependency,
and so are the /explore page and its static files (they hold no data; its JSON endpoints do
need a key, which the page asks for once and sends).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

API_KEY_HEADER = "X-API-Key"

_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="Required when the service is configured with TAILGRAPH_API_KEYS.",
)


async def require_api_key(
    request: Request, key: Annotated[str | None, Security(_scheme)] = None
) -> None:
    """Pass when authentication is off or ``key`` is accepted; 401 / 403 otherwise (a
    coroutine: no worker-thread hop for a check this cheap)."""
    accepted: list[str] = request.app.state.service.settings.api_keys
    if not accepted:
        return
    if not key:
        raise HTTPException(
            status_code=401,
            detail=f"missing {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    given = key.encode()
    if not any(hmac.compare_digest(given, candidate.encode()) for candidate in accepted):
        raise HTTPException(status_code=403, detail="API key not accepted")


AUTHENTICATED = [Depends(require_api_key)]
"""Router dependencies for every endpoint that needs a key."""
