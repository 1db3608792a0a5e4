"""Files the project's local servers (embedded FalkorDB, local Neo4j) keep in their directory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only (0600) holding ``text``; it must not exist."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def kept_secret(path: Path) -> str:
    """The secret stored at ``path``, generated (and kept, 0600) on first use."""
    if not path.exists():
        write_private(path, secrets.token_urlsafe(24))
    return path.read_text().strip()


def log_tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a server log, for error messages."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"
