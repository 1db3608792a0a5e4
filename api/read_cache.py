"""Store reads kept between requests, and the write counters that make them safe to keep.

A default recommendation reads the user's history and the vector index's nearest items to the
user's learned vector (one statement, :meth:`VectorSource.history_and_nearest`). Both change
only when the user's interactions or the catalogue change, so :class:`ReadCache` keeps that
read per (user, model version, k) and a repeat request costs no store round trip; the answer
ranked from it is kept beside it per request shape, so a repeat request costs no ranking.

Correctness rests on :class:`WriteCounters`: every API write bumps the counter of what it
changed (a user's counter for interactions and erasure, the catalogue counter for item
writes), and a kept read is used only while the counters it was read under are unchanged.
The counters live in a small memory-mapped file under the data directory, so the worker
processes of one service (``tailgraph serve --workers N``) see each other's writes at once.
Writes that bypass the API (Cypher run directly, another host's service) are seen once a kept
read is older than ``TAILGRAPH_READ_CACHE_SECONDS``; 0 turns the cache off.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import random
import struct
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

USER_SLOTS = 1 << 16  # users hash onto this many counters; a shared slot only costs a miss
_WORD = struct.Struct("<Q")
_CATALOGUE_SLOT = USER_SLOTS  # bumped by item writes
_CHANGES_SLOT = USER_SLOTS + 1  # bumped after each record appended to the change log

MAX_ANSWERS_PER_READ = 4  # request shapes (k, tail weight, sources) whose answers are kept

Value = TypeVar("Value")


class WriteCounters:
    """Counters of writes, one per user slot, one for the catalogue and one for the change
    log (:mod:`tailgraph.api.catalogue_sync`).

    With ``path`` they are shared through a memory-mapped file by every process that opens the
    same path (bumps take an exclusive ``flock``, reads take no lock: a torn or early read can
    only differ from the value a reader kept, which is a miss, never a stale hit); without it
    they are private to the process.
    """

    def __init__(self, path: Path | None = None) -> None:
        size = (USER_SLOTS + 2) * _WORD.size
        self.path = path
        if path is None:
            self._words: mmap.mmap | bytearray = bytearray(size)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_size < size:
                    os.ftruncate(fd, size)
                self._words = mmap.mmap(fd, size)  # the mapping outlives the descriptor
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)  # mmap holds a duplicate: unlock explicitly
                os.close(fd)
        self._lock = threading.Lock()

    @staticmethod
    def slot(user_id: str) -> int:
        """The counter a user's writes bump (the same in every process)."""
        return zlib.crc32(user_id.encode()) & (USER_SLOTS - 1)

    def read(self, user_id: str) -> tuple[int, int]:
        """(the user's counter, the catalogue counter) as they are now."""
        return _WORD.unpack_from(self._words, self.slot(user_id) * _WORD.size)[0], self.catalogue()

    def catalogue(self) -> int:
        """The catalogue counter as it is now."""
        return _WORD.unpack_from(self._words, _CATALOGUE_SLOT * _WORD.size)[0]

    def changes(self) -> int:
        """The change-log counter as it is now."""
        return _WORD.unpack_from(self._words, _CHANGES_SLOT * _WORD.size)[0]

    def bump_changes(self) -> None:
        """Tell every worker that the change log has a new record."""
        self._bump({_CHANGES_SLOT})

    def bump_users(self, user_ids: Iterable[str]) -> None:
        """Mark these users' reads as stale (after their interactions changed in the store)."""
        self._bump({self.slot(user_id) for user_id in user_ids})

    def bump_catalogue(self) -> None:
        """Mark every kept read as stale (after an item was created, replaced or deleted)."""
        self._bump({_CATALOGUE_SLOT})

    def _bump(self, slots: set[int]) -> None:
        """Add one to each slot; across processes under an exclusive ``flock`` of the file."""
        with self._lock, _file_lock(self.path):
            for slot in slots:
                offset = slot * _WORD.size
                value = _WORD.unpack_from(self._words, offset)[0]
                _WORD.pack_into(self._words, offset, (value + 1) & 0xFFFF_FFFF_FFFF_FFFF)


@contextlib.contextmanager
def _file_lock(path: Path | None) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` for the block (nothing to lock without a file)."""
    if path is None:
        yield
        return
    with open(path, "rb") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True)
class _Kept(Generic[Value]):
    value: Value
    counters: tuple[int, int]
    expires: float  # time.monotonic() after which the read is not served
    refresh_after: float  # time.monotonic() after which a request also reads it again, aside
    # answers ranked from this read, by request shape: (change counter then, response body)
    answers: dict[Hashable, tuple[int, bytes]] = field(default_factory=dict)


class ReadCache(Generic[Value]):
    """At most ``max_users`` kept reads, least recently used dropped first; a read is served
    while the write counters it was read under are unchanged and it is younger than
    ``max_age`` seconds, less up to a fifth at random (0: nothing is kept).

    Past half its life a kept read is still served, and :meth:`claim_refresh` lets one caller
    read it again off the request path, so busy users' reads are renewed before they expire
    instead of all costing a store round trip in the request that finds them expired.

    The answer ranked from a kept read can be kept with it (:meth:`keep_answer`): a repeat
    request of the same shape then costs no ranking either. It is served only while the read
    is, and while the change counter is the one the ranking model had applied, so an item
    written through any worker is ranked in as soon as that worker's model has it.
    """

    def __init__(
        self, counters: WriteCounters, *, max_age: float = 30.0, max_users: int = 20_000
    ) -> None:
        self.counters = counters
        self.max_age = max_age
        self.max_users = max_users
        self._kept: OrderedDict[Hashable, _Kept[Value]] = OrderedDict()
        self._lock = threading.Lock()
        self._random = random.Random()
        self._refreshing: set[tuple[str, Hashable]] = set()
        self.hits = 0
        self.misses = 0
        self.refreshes = 0
        self.answer_hits = 0

    @property
    def enabled(self) -> bool:
        return self.max_age > 0 and self.max_users > 0

    def before_read(self, user_id: str) -> tuple[int, int]:
        """The counters to pass to :meth:`put` with a read made *after* this call, so a write
        landing during the read leaves the kept read already stale."""
        return self.counters.read(user_id)

    def get(self, user_id: str, key: Hashable) -> Value | None:
        """The kept read for (``user_id``, ``key``) if no write touched it since; else None."""
        if not self.enabled:
            return None
        with self._lock:
            kept = self._kept.get((user_id, key))
            if kept is not None:
                if self._servable(user_id, kept):
                    self._kept.move_to_end((user_id, key))
                    self.hits += 1
                    return kept.value
                del self._kept[(user_id, key)]
            self.misses += 1
            return None

    def peek(self, user_id: str, key: Hashable) -> Value | None:
        """What :meth:`get` would return now, without counting a hit or a miss or reordering."""
        if not self.enabled:
            return None
        with self._lock:
            kept = self._kept.get((user_id, key))
            return kept.value if kept is not None and self._servable(user_id, kept) else None

    def _servable(self, user_id: str, kept: _Kept[Value]) -> bool:
        """No write touched the read since it was made, and it is still within its life."""
        return kept.counters == self.counters.read(user_id) and time.monotonic() < kept.expires

    def kept_answer(
        self, user_id: str, key: Hashable, read: Value, shape: Hashable
    ) -> bytes | None:
        """Use ``read`` (the servable kept read for (``user_id``, ``key``), as :meth:`peek`
        gave it; counted as a hit) and return the answer kept for ``shape`` with it, if any
        was and no change was logged since it was ranked."""
        if not self.enabled:
            return None
        with self._lock:
            kept = self._kept.get((user_id, key))
            if kept is None or kept.value is not read:
                return None
            self._kept.move_to_end((user_id, key))
            self.hits += 1
            answer = kept.answers.get(shape)
            if answer is None or answer[0] != self.counters.changes():
                return None
            if not self._servable(user_id, kept):  # a write landed since the peek
                return None
            self.answer_hits += 1
            return answer[1]

    def keep_answer(
        self,
        user_id: str,
        key: Hashable,
        read: Value,
        shape: Hashable,
        answer: bytes,
        changes: int,
    ) -> None:
        """Keep ``answer``, ranked from ``read`` by a model that had applied the change log up
        to ``changes``, unless ``read`` is no longer the kept read (renewed or dropped since)."""
        if not self.enabled:
            return
        with self._lock:
            kept = self._kept.get((user_id, key))
            if kept is None or kept.value is not read:
                return
            if shape in kept.answers or len(kept.answers) < MAX_ANSWERS_PER_READ:
                kept.answers[shape] = (changes, answer)

    def claim_refresh(self, user_id: str, key: Hashable, *, limit: int = 1) -> bool:
        """True (once) when this kept read is past half its life and fewer than ``limit``
        refreshes are under way: the caller then reads it again and calls :meth:`put` (or
        :meth:`release` if the read failed)."""
        if not self.enabled:
            return False
        with self._lock:
            kept = self._kept.get((user_id, key))
            if kept is None or time.monotonic() < kept.refresh_after:
                return False
            if len(self._refreshing) >= limit or (user_id, key) in self._refreshing:
                return False
            self._refreshing.add((user_id, key))
            return True

    def release(self, user_id: str, key: Hashable) -> None:
        """End a refresh claimed with :meth:`claim_refresh` (``put`` ends it too)."""
        with self._lock:
            self._refreshing.discard((user_id, key))

    def put(self, user_id: str, key: Hashable, value: Value, counters: tuple[int, int]) -> None:
        """Keep ``value``, read under ``counters`` (from :meth:`before_read`)."""
        if not self.enabled:
            return
        with self._lock:
            if (user_id, key) in self._refreshing:
                self._refreshing.discard((user_id, key))
                self.refreshes += 1
            # each read expires at a random point of the last fifth of max_age, so reads kept
            # together (a warm-up) are not all read again in the same moment
            now = time.monotonic()
            life = self.max_age * (0.8 + 0.2 * self._random.random())
            kept = _Kept(value, counters, now + life, now + life * 0.5)
            self._kept[(user_id, key)] = kept
            self._kept.move_to_end((user_id, key))
            while len(self._kept) > self.max_users:
                self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)
