"""What a write changes in one worker's memory reaches the service's other workers, and a
worker started later: the change log, and each loaded model reconciled with the store.

Every worker of ``tailgraph serve --workers N`` holds its own loaded models and text index. A
write route changes them in the worker that served it, then appends one record to the change
log (:class:`ChangeLog`, JSON lines in a file beside the write counters) and bumps the
counters' change counter (:class:`~tailgraph.api.read_cache.WriteCounters`):

- ``item``: an item was created or replaced through the API, with the vector each of the
  writer's loaded models now holds for it, by model version (null: none);
- ``delete``: an item was deleted;
- ``erase``: a user was erased, with the time (their learned vector is dropped).

Before a worker uses a model (:meth:`CatalogueSync.ensure`, called by ``ServiceState.scorer``)
it compares the change counter with the value it last saw, which costs no store round trip;
when the counter moved it reads the log from its last offset and applies the records. An
item's state is read from the store (one query for the batch: an item deleted since is
forgotten), and each loaded model gets the vector the writer's model of its version got; else
the stored ``embedding`` if the item's ``embeddingVersion`` is the model's and the dimension
matches; else one computed here as the writer computes it (neighbour transfer over this
model's vectors, from the stored text vector and KG links). The text index takes the stored
text vector.

A model that is loaded (a worker starting or restarting, an A/B model on first use) is first
reconciled with the store (:meth:`CatalogueSync.reconcile`): items added through the API that
it lacks get the stored ``embedding`` under the same version and dimension check, otherwise a
vector computed now (it borrows from the catalogue as it is then, so it can differ slightly
from the one the writer's model of that version got); an item whose stored vector is of the
model's version replaces the model's row (a PUT after training); items it has that the store
no longer holds are forgotten. Erasures reach a model loaded later through the records beside
each model directory (:mod:`tailgraph.api.model_registry`); a model given to ``create_app``
directly has no directory, so only workers already running learn its erasures.

A write whose worker dies between the store write and the log record reaches the others at
their next restart. The log only grows (a record is about a hundred bytes plus the vectors).
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from tailgraph.api.candidates import ExpansionLimits
from tailgraph.api.errors import RETRY_AFTER_SECONDS
from tailgraph.api.model_registry import ModelRegistry
from tailgraph.api.new_items import inductive_vector
from tailgraph.api.read_cache import WriteCounters
from tailgraph.api.scoring import Scorer
from tailgraph.api.text_index import TextIndex
from tailgraph.errors import TailGraphError
from tailgraph.graph.store import GraphStore, Row, run_query

logger = logging.getLogger(__name__)

PAGE_SIZE = 2000  # items per page of the reconcile read

Record = dict[str, Any]


def change_log_path(counters_path: Path) -> Path:
    """The change log beside a write counters file (one per graph, like the counters)."""
    return counters_path.with_suffix(".changes")


class ChangeLog:
    """Append-only JSON lines shared by the workers of one service (without ``path``: none,
    the worker is alone). Appends take an exclusive ``flock``; a reader takes only complete
    lines, so a record being written is read once it is whole. The first line names the log
    (a random id): a worker whose log was removed and started again reads the new one whole.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._name: str | None = None  # the id of the log this worker last read

    def end(self) -> int:
        """The offset after the last record (0 when there is no log yet)."""
        if self.path is None:
            return 0
        try:
            with open(self.path, "rb") as file:
                self._name = _log_name(file)
                return os.fstat(file.fileno()).st_size
        except FileNotFoundError:
            return 0

    def append(self, record: Record) -> tuple[int, int]:
        """Write one record; its (start, end) offsets."""
        if self.path is None:
            return 0, 0
        line = _line(record)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            start = os.fstat(fd).st_size
            if start == 0:
                line = _line({"op": "log", "id": uuid.uuid4().hex}) + line
            os.write(fd, line)
            return start, start + len(line)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def read(self, offset: int) -> tuple[list[Record], int]:
        """The complete records after ``offset``, and the offset after them."""
        if self.path is None:
            return [], offset
        try:
            with open(self.path, "rb") as file:
                name = _log_name(file)
                if self._name is not None and name != self._name:
                    offset = 0  # the log was removed and a new one started
                self._name = name
                file.seek(offset)
                data = file.read()
        except FileNotFoundError:
            return [], offset
        whole = data[: data.rfind(b"\n") + 1]
        records = []
        for line in whole.splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                logger.warning("change log %s: skipping an unreadable record", self.path)
        return records, offset + len(whole)


def _line(record: Record) -> bytes:
    return (json.dumps(record, separators=(",", ":")) + "\n").encode()


def _log_name(file: BinaryIO) -> str | None:
    """The id in a log's first line (None while it has none)."""
    try:
        return str(json.loads(file.readline(200))["id"])
    except (ValueError, KeyError, TypeError):
        return None


def _encode(vector: np.ndarray | None) -> str | None:
    if vector is None:
        return None
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode()


def _decode(text: str | None) -> np.ndarray | None:
    return None if text is None else np.frombuffer(base64.b64decode(text), dtype="<f4").copy()


def _stored(scorer: Scorer, row: Row) -> np.ndarray | None:
    """The row's stored ``embedding`` if the scorer's model computed it (version and
    dimension), else None."""
    vector = row.get("embedding")
    if row.get("version") != scorer.version or vector is None or len(vector) != scorer.dimension:
        return None
    return np.asarray(vector, dtype=np.float32)


def _same(scorer: Scorer, item_id: str, vector: np.ndarray) -> bool:
    held = scorer.item_vector(item_id)
    return held is not None and np.allclose(held, vector, rtol=0.0, atol=1e-6)


class CatalogueSync:
    """One worker's side of the change log: publishes its writes, applies the others', and
    reconciles each model it loads with the store (see the module docstring)."""

    def __init__(
        self,
        counters: WriteCounters,
        log: ChangeLog,
        *,
        store: Callable[[], GraphStore],
        models: ModelRegistry,
        texts: TextIndex,
        limits: ExpansionLimits,
    ) -> None:
        self.counters = counters
        self.log = log
        self._store = store
        self._models = models
        self._texts = texts
        self._limits = limits
        # a record appended between these two reads is skipped: the reconcile of each model
        # at its first use reads the store, which that write reached first
        self._seen = counters.changes()
        self._offset = log.end()
        self._reconciled: weakref.WeakSet[Scorer] = weakref.WeakSet()
        self._retry_at = 0.0
        self._lock = threading.RLock()

    # -- reading -------------------------------------------------------------------------------

    def up_to_date(self, scorer: Scorer) -> bool:
        """Whether ``scorer`` has every write :meth:`ensure` would apply (no I/O)."""
        return self.applied(scorer) is not None

    def applied(self, scorer: Scorer) -> int | None:
        """The change counter ``scorer`` is up to date with, or None if a change is pending
        (an answer ranked now may be kept under this value, see ``ReadCache.keep_answer``)."""
        seen = self._seen
        return seen if self.counters.changes() == seen and scorer in self._reconciled else None

    def ensure(self, scorer: Scorer) -> None:
        """Bring this worker's models up to date before ``scorer`` serves: nothing to do
        (no store round trip) unless the change counter moved or ``scorer`` is newly loaded.
        If the store cannot be read, the worker serves what it has and tries again after
        ``RETRY_AFTER_SECONDS``."""
        if self.up_to_date(scorer):
            return
        if time.monotonic() < self._retry_at:
            return
        with self._lock:
            try:
                self.catch_up()
                if scorer not in self._reconciled:
                    self.reconcile(scorer)
                    self._reconciled.add(scorer)
            except TailGraphError as e:
                self._retry_at = time.monotonic() + RETRY_AFTER_SECONDS
                logger.warning("cannot bring the loaded models up to date yet: %s", e)

    def catch_up(self) -> None:
        """Apply the change log's records written since this worker last read it."""
        with self._lock:
            seen = self.counters.changes()
            records, offset = self.log.read(self._offset)
            if records:
                self._apply(records)
            self._offset, self._seen = offset, seen

    def _apply(self, records: list[Record]) -> None:
        items: dict[str, Record] = {}  # the last record of each item decides
        models = self._models.all_loaded()
        for record in records:
            if record.get("op") in ("item", "delete"):
                items.pop(str(record["item_id"]), None)
                items[str(record["item_id"])] = record
            elif record.get("op") == "erase":
                for model in models:
                    if float(record["at"]) >= model.trained_at:
                        model.forget_user(str(record["user_id"]))
        if not items:
            return
        store = self._store()
        written = [i for i, r in items.items() if r["op"] == "item"]
        rows = {
            str(row["id"]): row
            for row in (
                run_query(store, "item_sync_rows", {"item_ids": written}, read_only=True)
                if written
                else []
            )
        }
        gone = [i for i in items if i not in rows]  # deleted, or deleted again since
        for model in models:
            vectors: dict[str, np.ndarray] = {}
            forget = list(gone)
            compute: list[str] = []
            for item_id, row in rows.items():
                given = items[item_id].get("vectors") or {}
                if model.version in given:
                    vector = _decode(given[model.version])
                elif (stored := _stored(model, row)) is not None:
                    vector = stored
                elif row["api"]:
                    compute.append(item_id)
                    continue
                else:
                    continue  # a write of it is under way: its own record follows
                if vector is None:
                    forget.append(item_id)
                elif not _same(model, item_id, vector):
                    vectors[item_id] = vector
            computed = self._compute(store, model, {i: rows[i] for i in compute})
            forget += [i for i in compute if i not in computed]
            model.forget_items(forget)
            model.set_items({**vectors, **computed})
        if self._texts.loaded:
            for item_id in gone:
                self._texts.remove(store, item_id)
            for item_id, row in rows.items():
                if row["text_embedding"] is not None:
                    text_vector = np.asarray(row["text_embedding"], dtype=np.float32)
                    self._texts.add(store, item_id, text_vector, row["title"])

    def reconcile(self, scorer: Scorer) -> None:
        """Match a freshly loaded model to the store (see the module docstring)."""
        store = self._store()
        present: set[str] = set()
        stored: dict[str, np.ndarray] = {}
        missing: list[str] = []
        after = ""
        while True:
            page = run_query(
                store, "item_sync_page", {"after": after, "limit": PAGE_SIZE}, read_only=True
            )
            for row in page:
                item_id = str(row["id"])
                present.add(item_id)
                if not row["api"]:
                    continue
                vector = _stored(scorer, row)
                if vector is not None:
                    if not _same(scorer, item_id, vector):
                        stored[item_id] = vector
                elif not scorer.has_item(item_id):
                    missing.append(item_id)
            if len(page) < PAGE_SIZE:
                break
            after = str(page[-1]["id"])
        gone = [i for i in scorer.item_ids if i not in present]
        if gone and len(gone) == scorer.n_items:
            logger.warning(
                "the store holds none of model %s's items: is it the graph the model was "
                "trained on? keeping them",
                scorer.version,
            )
            gone = []
        scorer.forget_items(gone)
        scorer.set_items(stored)
        if missing:
            rows = run_query(store, "item_sync_rows", {"item_ids": missing}, read_only=True)
            scorer.set_items(self._compute(store, scorer, {str(r["id"]): r for r in rows}))

    def _compute(
        self, store: GraphStore, scorer: Scorer, rows: Mapping[str, Row]
    ) -> dict[str, np.ndarray]:
        """Vectors for items no record or stored vector gives ``scorer``: the neighbour
        transfer the write itself runs, from each item's stored text vector and KG links."""
        out: dict[str, np.ndarray] = {}
        for item_id, row in rows.items():
            if row.get("pending") or row.get("text_embedding") is None:
                continue
            vector, _, _ = inductive_vector(
                store,
                scorer,
                self._texts,
                item_id,
                np.asarray(row["text_embedding"], dtype=np.float32),
                [str(e) for e in row["entity_ids"] or []],
                self._limits,
            )
            if vector is not None:
                out[item_id] = vector
        return out

    # -- writing -------------------------------------------------------------------------------

    def item_written(self, item_id: str, vectors: Mapping[str, np.ndarray | None]) -> None:
        """After an item write: the vector each loaded model holds for it, by version."""
        self._publish(
            {
                "op": "item",
                "item_id": item_id,
                "vectors": {version: _encode(v) for version, v in vectors.items()},
            }
        )

    def item_deleted(self, item_id: str) -> None:
        self._publish({"op": "delete", "item_id": item_id})

    def user_erased(self, user_id: str, at: float) -> None:
        self._publish({"op": "erase", "user_id": user_id, "at": at})

    def _publish(self, record: Record) -> None:
        """Append the record and bump the change counter; this worker, which applied the
        change itself, skips its own record when it had read everything before it."""
        try:
            start, end = self.log.append(record)
        except OSError as e:
            logger.warning("cannot append to the change log %s: %s", self.log.path, e)
            return
        with self._lock:
            if self._offset == start:
                self._offset = end
        self.counters.bump_changes()
