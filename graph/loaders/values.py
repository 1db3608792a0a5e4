"""Cell parsing shared by every file loader, so all formats accept and reject the same values."""

from __future__ import annotations

import math
from pathlib import Path

from tailgraph.errors import DataValidationError


def parse_float(text: str, path: Path, line: int, field: str) -> float | None:
    """A finite float, or None for an empty cell."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataValidationError(
            f"expected a finite number, found {text!r}", source=path, line=line, field=field
        )
    return value
