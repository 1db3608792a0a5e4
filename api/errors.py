"""Map TailGraph's exception tree onto HTTP errors: JSON ``{"detail": ...}``, never a traceback.

Every error body has one shape, :class:`~tailgraph.api.schemas.ErrorBody`: ``detail`` (a
sentence) and, for request validation, ``errors`` (at most 20 ``{loc, msg, type}``, never the
submitted value). Malformed JSON is 400, an invalid request 422, a body over the limit 413.

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
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

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


MAX_FIELD_ERRORS = 20  # validation errors listed in one response
_MAX_MESSAGE = 200  # characters of one validation message


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """``{loc, msg, type}`` of each error, bounded; the input and context are left out (they
    may be huge, or hold values JSON cannot carry, such as inf)."""
    out = []
    for error in list(errors)[:MAX_FIELD_ERRORS]:
        loc = [part if isinstance(part, int) else str(part)[:100] for part in error.get("loc", ())]
        out.append(
            {
                "loc": loc,
                "msg": str(error.get("msg", "invalid"))[:_MAX_MESSAGE],
                "type": str(error.get("type", "invalid"))[:100],
            }
        )
    return out


def _where(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


async def validation_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Malformed JSON -> 400; any other invalid request -> 422 with its bounded field errors."""
    assert isinstance(error, RequestValidationError)
    errors = list(error.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse({"detail": "The request body is not valid JSON."}, status_code=400)
    fields = _field_errors(errors)
    first = fields[0] if fields else {"loc": [], "msg": "invalid request"}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    detail = f"Invalid request: {_where(first['loc'])}: {first['msg']}{more}."
    return JSONResponse({"detail": detail, "errors": fields}, status_code=422)


async def http_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Starlette's own errors (404 unknown route, 405, 413 ...) in the same body shape."""
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) else "request rejected"
    return JSONResponse(
        {"detail": detail}, status_code=error.status_code, headers=getattr(error, "headers", None)
    )


async def unexpected_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Log a bug with its traceback; answer a plain 500 that reveals nothing internal."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse({"detail": "Internal server error."}, status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers above on ``app``."""
    app.add_exception_handler(TailGraphError, tailgraph_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, unexpected_error_handler)
