"""Map TailGraph's exception tree onto HTTP errors: JSON ``{"detail": ...}``, never a traceback.

NotFoundError            404
ConflictError            409
DataValidationError      422
StoreUnavailableError    503 + Retry-After
ArtefactError            503 (no model loaded; retry after training)
QueryError, other StoreError, ConfigurationError, TailGraphError   503
any other exception      500 with a generic message (details go to the log only)
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tailgraph.errors import (
    ArtefactError,
    ConflictError,
    DataValidationError,
    NotFoundError,
    StoreUnavailableError,
    TailGraphError,
)

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # what a 503 for an unreachable store tells clients to wait

_STATUS: tuple[tuple[type[TailGraphError], int], ...] = (
    (NotFoundError, 404),
    (ConflictError, 409),
    (DataValidationError, 422),
    (StoreUnavailableError, 503),
    (ArtefactError, 503),
)


def status_for(error: TailGraphError) -> int:
    """HTTP status for a TailGraph error (the first matching class wins; default 503)."""
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 503


async def tailgraph_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Render a TailGraphError as ``{"detail": message}`` with its status."""
    assert isinstance(error, TailGraphError)
    status = status_for(error)
    headers = (
        {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if isinstance(error, StoreUnavailableError)
        else None
    )
    if status >= 500:
        logger.warning("%s %s -> %d: %s", request.method, request.url.path, status, error)
    return JSONResponse({"detail": str(error)}, status_code=status, headers=headers)


async def unexpected_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Log a bug with its traceback; answer a plain 500 that reveals nothing internal."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(TailGraphError, tailgraph_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
