"""TailGraph's exception tree; backend errors are mapped onto it at the boundary.

TailGraphError
├── ConfigurationError        bad or missing settings
│   └── UnknownQueryError     no ``cypher/<name>.cypher`` by that name, or a missing identifier
├── StoreError                anything the graph store reports
│   ├── StoreUnavailableError the store cannot be reached (HTTP 503)
│   └── QueryError            a Cypher query failed inside the store (HTTP 503)
├── DataValidationError       an input file or payload is malformed (file, line, field)
├── NotFoundError             an id that does not exist (HTTP 404)
├── ConflictError             the request contradicts stored state (HTTP 409)
└── ArtefactError             a trained model or artefact is missing or unreadable (HTTP 503)
"""

from __future__ import annotations

from pathlib import Path


class TailGraphError(Exception):
    """Root of every error TailGraph raises on purpose."""


class ConfigurationError(TailGraphError):
    """Settings are missing, contradictory or point at something that does not exist."""


class StoreError(TailGraphError):
    """The graph store reported a failure."""


class StoreUnavailableError(StoreError):
    """The graph store cannot be reached (not started, crashed, network down)."""


class QueryError(StoreError):
    """A Cypher query was rejected or failed inside the store."""


class DataValidationError(TailGraphError):
    """Input data is malformed; names the source, the line (1-based) and the field."""

    def __init__(
        self,
        message: str,
        *,
        source: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = str(source) if source is not None else None
        self.line = line
        self.field = field
        where = []
        if self.source is not None:
            where.append(self.source)
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class NotFoundError(TailGraphError):
    """A user, item or other id that does not exist."""


class UnknownQueryError(ConfigurationError):
    """No query file of that name in ``cypher/``, or a template missing an identifier."""


class ConflictError(TailGraphError):
    """The request contradicts what is already stored."""


class ArtefactError(TailGraphError):
    """A trained model, config or other artefact is missing or unreadable."""
