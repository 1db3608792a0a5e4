"""What several routers share: the id path parameters and the documented error responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from tailgraph.api.schemas import ErrorBody

ID_PATTERN = r"^[^\x00-\x1f\x7f]+$"  # no control characters (the store rejects NUL)
UserId = Annotated[str, Path(min_length=1, max_length=512, pattern=ID_PATTERN)]
ItemId = Annotated[str, Path(min_length=1, max_length=512, pattern=ID_PATTERN)]

AUTH_ERRORS: dict[int | str, dict] = {
    401: {"model": ErrorBody, "description": "X-API-Key missing (authentication is on)"},
    403: {"model": ErrorBody, "description": "X-API-Key not accepted"},
}
BODY_ERRORS: dict[int | str, dict] = {
    **AUTH_ERRORS,
    400: {"model": ErrorBody, "description": "The body is not parseable JSON"},
    413: {"model": ErrorBody, "description": "The body is over the size limit"},
    422: {"model": ErrorBody, "description": "Invalid body (errors lists the fields)"},
}
