"""Runs the project's own Neo4j (``neo4j-launcher/``: Community embedded, Bolt on 127.0.0.1).

Driven like the embedded FalkorDB: one server per directory, which holds the data, the logs,
a generated password (mode 0600), a pid file and the launcher's state file (``pid port
version``, written once Bolt listens). ``start`` reuses a running server; ``stop`` sends SIGTERM,
which the launcher answers with a clean DBMS shutdown.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tailgraph.errors import ConfigurationError, StoreUnavailableError
from tailgraph.graph.local_files import kept_secret, log_tail, write_private

# The launcher built from the repository by `make neo4j-launcher` (mvn package).
DEFAULT_LAUNCHER = Path(__file__).resolve().parents[1] / "neo4j-launcher/target/neo4j-launcher.jar"
# The Graph Data Science jars built by `make neo4j-gds` (neo4j-launcher/gds/pom.xml).
DEFAULT_GDS_LIB = DEFAULT_LAUNCHER.parent / "gds-lib"
MIN_JAVA = 17


@dataclass(frozen=True)
class Neo4jStatus:
    """What ``tailgraph db status --store neo4j`` reports."""

    running: bool
    pid: int | None
    uri: str | None
    version: str | None
    directory: Path
    gds: bool = False  # started with the Graph Data Science library


def java_executable() -> str:
    """``$JAVA_HOME/bin/java`` or ``java`` on PATH, checked to be Java 17 or newer."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin/java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise ConfigurationError(
            f"the local Neo4j needs Java {MIN_JAVA}+: no java on PATH (or set JAVA_HOME)"
        )
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)', out.stderr + out.stdout)
    if not match or int(match.group(1)) < MIN_JAVA:
        raise ConfigurationError(
            f"the local Neo4j needs Java {MIN_JAVA}+; {java} says: "
            f"{(out.stderr or out.stdout).strip().splitlines()[:1]}"
        )
    return java


class LocalNeo4j:
    """Start, stop and inspect one launcher-run Neo4j living in ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        password: str | None = None,
        port: int = 0,
        launcher: Path | None = None,
        heap_mb: int = 1024,
        pagecache_mb: int = 256,
        owner_pid: int | None = None,
        gds: bool = False,
    ) -> None:
        self.directory = Path(directory).expanduser().resolve()
        self.port = port
        self.launcher = Path(launcher) if launcher else DEFAULT_LAUNCHER
        self.heap_mb = heap_mb
        self.pagecache_mb = pagecache_mb
        self._password = password
        self._configured = password is not None
        self.owner_pid = owner_pid  # the server exits once this process is gone (test sessions)
        self.gds = gds  # also serve the Graph Data Science library (make neo4j-gds)

    @property
    def gds_lib(self) -> Path:
        """The GDS jars beside the launcher (``target/gds-lib``)."""
        return self.launcher.parent / "gds-lib"

    # -- paths -------------------------------------------------------------------------------
    @property
    def password_path(self) -> Path:
        return self.directory / "password"

    @property
    def pid_path(self) -> Path:
        return self.directory / "neo4j.pid"

    @property
    def state_path(self) -> Path:
        return self.directory / "launcher.state"

    @property
    def log_path(self) -> Path:
        return self.directory / "launcher.log"

    @property
    def user(self) -> str:
        return "neo4j"

    @property
    def password(self) -> str:
        """The configured password, else one generated on first use and kept (mode 0600)."""
        if self._password:
            return self._password
        if not self.password_path.exists():
            self._make_directory()
        self._password = kept_secret(self.password_path)
        return self._password

    # -- lifecycle ---------------------------------------------------------------------------
    def pid(self) -> int | None:
        """PID of the live launcher for this directory, or None (a reused pid does not count)."""
        found = self._process()
        return found[0] if found else None

    def _process(self) -> tuple[int, list[bytes]] | None:
        """(pid, command line) of the live launcher for this directory."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        if str(self.directory).encode() not in cmdline:
            return None
        return pid, cmdline

    def serves_gds(self) -> bool:
        """Whether the live launcher here was started with the Graph Data Science library."""
        found = self._process()
        return found is not None and b"--gds" in found[1]

    def _state(self) -> tuple[int, int, str] | None:
        """(pid, port, version) from the state file, if it belongs to the live launcher."""
        pid = self.pid()
        if pid is None:
            return None
        try:
            raw_pid, raw_port, version = self.state_path.read_text().split()
        except (FileNotFoundError, ValueError):
            return None
        if int(raw_pid) != pid:
            return None
        return pid, int(raw_port), version

    @property
    def uri(self) -> str | None:
        """``bolt://127.0.0.1:<port>`` of the running server, else None."""
        state = self._state()
        return f"bolt://127.0.0.1:{state[1]}" if state else None

    def is_running(self) -> bool:
        return self._state() is not None and self._ping()

    def status(self) -> Neo4jStatus:
        state = self._state()
        return Neo4jStatus(
            running=state is not None and self._ping(),
            pid=state[0] if state else self.pid(),
            uri=f"bolt://127.0.0.1:{state[1]}" if state else None,
            version=state[2] if state else None,
            directory=self.directory,
            gds=self.serves_gds(),
        )

    def start(self, timeout: float = 180.0) -> Neo4jStatus:
        """Start the launcher unless one already runs here; wait until Bolt accepts the password.

        A running server is reused only if it serves GDS when ``gds`` asks for it
        (ConfigurationError otherwise: stop it first)."""
        if self.pid() is not None and self.gds and not self.serves_gds():
            raise ConfigurationError(
                f"the local Neo4j in {self.directory} runs without the Graph Data Science "
                "library; stop it (`tailgraph db stop --store neo4j`) and start it with --gds"
            )
        if self.is_running():
            return self.status()
        if self.pid() is not None:  # starting up (another caller) or hung: wait for it first
            return self._wait(self.pid(), timeout)  # type: ignore[arg-type]
        if not self.launcher.is_file():
            raise ConfigurationError(
                f"the local Neo4j launcher is not built: {self.launcher} is missing; "
                "run `make neo4j-launcher` (needs Java 17+ and Maven), or set "
                "TAILGRAPH_NEO4J_URI to an existing server"
            )
        if self.gds and not any(self.gds_lib.glob("*.jar")):
            raise ConfigurationError(
                f"the Graph Data Science library is not built: {self.gds_lib} holds no jars; "
                "run `make neo4j-gds` (Maven, resolved from Maven Central at build time)"
            )
        java = java_executable()
        self._make_directory()
        password_file = self._secret() if self._configured else self.password_path
        _ = self.password  # generates the password file on first use
        self.state_path.unlink(missing_ok=True)
        command = [
            java,
            f"-Xms{self.heap_mb}m",
            f"-Xmx{self.heap_mb}m",
            "-XX:+UseG1GC",
            # GDS joins the one application classpath (Launcher.java says why not plugins/)
            *(
                ["-cp", f"{self.launcher}:{self.gds_lib}/*", "org.tailgraph.neo4j.Launcher"]
                if self.gds
                else ["-jar", str(self.launcher)]
            ),
            str(self.directory),
            str(self._bolt_port()),
            str(password_file),
            str(self.pagecache_mb),
            *(["--gds", str(self.gds_lib)] if self.gds else []),
        ]
        # Daemonised through a shell that backgrounds the JVM and exits: the server outlives
        # this process (like FalkorDB's daemonize) and is never left as our unreaped child.
        launch = subprocess.run(
            [
                "/bin/sh",
                "-c",
                '"$@" </dev/null >>"$0" 2>&1 & echo $!',
                str(self.log_path),
                *command,
            ],
            capture_output=True,
            text=True,
            check=False,
            start_new_session=True,
            env={**os.environ, "TAILGRAPH_NEO4J_OWNER_PID": str(self.owner_pid or "")},
        )
        if launch.returncode != 0 or not launch.stdout.strip().isdigit():
            raise StoreUnavailableError(
                f"could not launch the local Neo4j: {launch.stderr.strip()}"
            )
        pid = int(launch.stdout.strip())
        self.pid_path.write_text(f"{pid}\n")
        try:
            return self._wait(pid, timeout)
        finally:
            if self._configured:
                password_file.unlink(missing_ok=True)

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM (a clean DBMS shutdown), SIGKILL after ``timeout``; False if not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
        self.pid_path.unlink(missing_ok=True)
        self.state_path.unlink(missing_ok=True)
        return True

    # -- internals ---------------------------------------------------------------------------
    def _make_directory(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        os.chmod(self.directory, 0o700)

    def _bolt_port(self) -> int:
        """The configured port, else the one this directory used before, else a free one, kept
        in ``<directory>/port`` so a restarted server answers where drivers already point."""
        if self.port:
            return self.port
        remembered = self.directory / "port"
        try:
            return int(remembered.read_text().strip())
        except (FileNotFoundError, ValueError):
            pass
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        remembered.write_text(f"{port}\n")
        return port

    def _secret(self) -> Path:
        """A 0600 file holding a configured password, for the launcher to read."""
        path = self.directory / "password.configured"
        path.unlink(missing_ok=True)
        write_private(path, self.password)
        return path

    def _wait(self, pid: int, timeout: float) -> Neo4jStatus:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                self.pid_path.unlink(missing_ok=True)
                raise StoreUnavailableError(
                    f"the local Neo4j exited while starting; last log lines:\n{self._log_tail()}"
                )
            if self._state() is not None and self._ping():
                return self.status()
            time.sleep(0.2)
        raise StoreUnavailableError(
            f"the local Neo4j did not answer within {timeout:.0f}s; "
            f"last log lines:\n{self._log_tail()}"
        )

    def _ping(self) -> bool:
        state = self._state()
        if state is None:
            return False
        import neo4j

        try:
            with neo4j.GraphDatabase.driver(
                f"bolt://127.0.0.1:{state[1]}",
                auth=(self.user, self.password),
                connection_timeout=2,
                max_transaction_retry_time=0,
            ) as driver:
                driver.verify_connectivity()
        except Exception:  # any failure means "not answering"
            return False
        return True

    def _log_tail(self, lines: int = 15) -> str:
        return log_tail(self.log_path, lines)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (started by this process, not yet reaped) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
