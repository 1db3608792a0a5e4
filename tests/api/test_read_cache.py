"""Kept store reads: a repeat request reads nothing, and no write through any worker is missed.

"Workers" are separate apps over one store and one data directory, as ``tailgraph serve
--workers N`` runs them; the write counters they share are a real memory-mapped file (and a
real second process in the counters test).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tailgraph.api.app import create_app
from tailgraph.api.read_cache import MAX_ANSWERS_PER_READ, ReadCache, WriteCounters
from tailgraph.gnn import neighbours
from tailgraph.gnn.artefacts import LearnedEmbeddings
from tailgraph.graph.export import export_snapshot
from tailgraph.graph.falkordb_store import FalkorDBStore
from tailgraph.settings import Settings

from .conftest import index_item_vectors

USERS = ("u1", "u2", "u3", "u4", "u5")


def test_counters_are_shared_with_another_process(tmp_path: Path) -> None:
    path = tmp_path / "counters.bin"
    here = WriteCounters(path)
    assert WriteCounters.slot("u1") != WriteCounters.slot("u2")
    before_u1, before_u2 = here.read("u1"), here.read("u2")
    bump = (
        "import sys; from pathlib import Path; from tailgraph.api.read_cache import WriteCounters;"
        "c = WriteCounters(Path(sys.argv[1])); c.bump_users(['u1']); c.bump_users(['u1'])"
    )
    subprocess.run([sys.executable, "-c", bump, str(path)], check=True)
    assert here.read("u1") == (before_u1[0] + 2, before_u1[1])  # seen without reopening
    assert here.read("u2") == before_u2  # another slot: untouched
    here.bump_catalogue()
    assert WriteCounters(path).read("u2") == (before_u2[0], before_u2[1] + 1)


def test_a_kept_read_is_dropped_by_a_write_age_and_size() -> None:
    counters = WriteCounters()
    cache: ReadCache[str] = ReadCache(counters, max_age=60, max_users=2)
    for user in ("a", "b"):
        cache.put(user, "k", f"read of {user}", cache.before_read(user))
    assert cache.get("a", "k") == "read of a"
    assert cache.get("a", "other key") is None
    counters.bump_users(["a"])
    assert cache.get("a", "k") is None  # written since: read again
    assert cache.get("b", "k") == "read of b"
    stale = cache.before_read("c")
    counters.bump_users(["c"])  # a write landing while "c" is being read
    cache.put("c", "k", "read of c", stale)
    assert cache.get("c", "k") is None
    for user in ("d", "e", "f"):
        cache.put(user, "k", user, cache.before_read(user))
    assert len(cache) == 2 and cache.get("d", "k") is None  # least recently used dropped
    counters.bump_catalogue()
    assert cache.get("f", "k") is None  # an item write drops every kept read

    young: ReadCache[str] = ReadCache(counters, max_age=0.05)
    young.put("a", "k", "v", young.before_read("a"))
    time.sleep(0.1)
    assert young.get("a", "k") is None
    off: ReadCache[str] = ReadCache(counters, max_age=0)
    off.put("a", "k", "v", off.before_read("a"))
    assert not off.enabled and off.get("a", "k") is None


def test_a_read_past_half_its_life_is_claimed_once_for_a_refresh(monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache: ReadCache[str] = ReadCache(WriteCounters(), max_age=10)
    for user in ("a", "b"):
        cache.put(user, "k", user, cache.before_read(user))
    assert not cache.claim_refresh("a", "k")  # young: nothing to renew
    now[0] += 5.0  # past half of any life drawn (8-10 s)
    assert cache.claim_refresh("a", "k")
    assert not cache.claim_refresh("a", "k")  # already claimed
    assert not cache.claim_refresh("b", "k")  # one refresh at a time
    assert cache.get("a", "k") == "a"  # still served while it is renewed
    cache.put("a", "k", "a again", cache.before_read("a"))  # the refresh lands
    assert cache.refreshes == 1 and not cache.claim_refresh("a", "k")  # young again
    assert cache.claim_refresh("b", "k")
    cache.release("b", "k")  # a failed refresh frees the claim
    assert cache.claim_refresh("b", "k")
    now[0] += 6.0
    assert cache.get("b", "k") is None  # expired: a refresh never extends a read itself


def test_an_answer_is_kept_with_its_read_and_dropped_with_it() -> None:
    counters = WriteCounters()
    cache: ReadCache[tuple] = ReadCache(counters, max_age=60)
    read = ("history", ["nearest"])  # a fresh object per read, as the store gives
    cache.put("a", "k", read, cache.before_read("a"))
    assert cache.kept_answer("a", "k", read, "k=5") is None  # nothing ranked yet
    cache.keep_answer("a", "k", read, "k=5", b"five", counters.changes())
    assert cache.kept_answer("a", "k", read, "k=5") == b"five"
    assert cache.kept_answer("a", "k", read, "k=9") is None  # another request shape
    assert cache.kept_answer("a", "k", ("history", ["nearest"]), "k=5") is None  # other read
    counters.bump_changes()  # an item written through another worker: rank again
    assert cache.kept_answer("a", "k", read, "k=5") is None
    cache.keep_answer("a", "k", read, "k=5", b"five again", counters.changes())
    assert cache.kept_answer("a", "k", read, "k=5") == b"five again"
    renewed = ("history", ["nearest"])
    cache.put("a", "k", renewed, cache.before_read("a"))  # a renewal starts with no answers
    assert cache.kept_answer("a", "k", renewed, "k=5") is None
    cache.keep_answer("a", "k", read, "k=5", b"from the old read", counters.changes())
    assert cache.kept_answer("a", "k", renewed, "k=5") is None  # not kept on the new read
    for n in range(10):
        cache.keep_answer("a", "k", renewed, n, b"%d" % n, counters.changes())
    kept = [n for n in range(10) if cache.kept_answer("a", "k", renewed, n) is not None]
    assert kept == list(range(MAX_ANSWERS_PER_READ))  # a bounded number of shapes
    counters.bump_users(["a"])  # the user's interactions changed
    assert cache.kept_answer("a", "k", renewed, 0) is None
    assert cache.answer_hits == 2 + MAX_ANSWERS_PER_READ


@pytest.fixture
def workers(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> Iterator[tuple[TestClient, TestClient, TestClient]]:
    """Two workers of one service (shared counters file) and a third that keeps no reads."""
    index_item_vectors(graph, embeddings.user.shape[1])
    uncached = settings.model_copy(update={"read_cache_seconds": 0.0})
    precomputed = neighbours.from_snapshot(export_snapshot(graph), 20)  # as training saves
    with ExitStack() as stack:
        clients = [
            stack.enter_context(TestClient(create_app(s, store=graph, embeddings=embeddings)))
            for s in (settings, settings, uncached)
        ]
        for client in clients:
            client.app.state.service.scorer().neighbours = dict(precomputed)
        yield clients[0], clients[1], clients[2]


def _answers(client: TestClient, user_id: str) -> tuple[int, list]:
    response = client.get(f"/users/{user_id}/recommendations", params={"k": 5})
    if response.status_code != 200:
        return response.status_code, []
    return 200, [(i["item_id"], i["sources"], i["title"]) for i in response.json()["items"]]


def _count_store_calls(graph: FalkorDBStore) -> list[str]:
    calls: list[str] = []
    run = graph.run

    def counted(query, parameters=None, *, read_only=False):
        calls.append(query)
        return run(query, parameters, read_only=read_only)

    graph.run = counted  # type: ignore[method-assign]
    return calls


def test_a_repeat_request_reads_nothing_from_the_store(workers, graph: FalkorDBStore) -> None:
    one, _, _ = workers
    first = _answers(one, "u1")
    assert any("vector" in sources for _, sources, _ in first[1])  # the cached path ran
    calls = _count_store_calls(graph)
    try:
        again = _answers(one, "u1")
    finally:
        del graph.run  # back to the class's method
    assert calls == [] and again == first


@pytest.mark.parametrize(
    "write",
    [
        ("post", "/interactions", {"interactions": [{"user_id": "u1", "item_id": "i7"}]}),
        ("post", "/interactions", {"interactions": [{"user_id": "u2", "item_id": "i5"}]}),
        ("delete", "/users/u1", None),
        ("delete", "/items/i1", None),
        ("delete", "/items/i7", None),
    ],
    ids=["interaction-u1", "interaction-u2", "erase-u1", "delete-seen-item", "delete-top-item"],
)
def test_a_write_through_one_worker_reaches_the_others(workers, write) -> None:
    writer, reader, uncached = workers
    for user_id in USERS:  # the reader keeps every user's read, and the answer ranked from it
        _answers(reader, user_id)
        _answers(reader, user_id)
    assert reader.app.state.service.reads.answer_hits == 0
    method, path, body = write
    response = writer.request(method, path, json=body)
    assert response.status_code in (201, 204), response.text
    for user_id in USERS:
        # what the reader serves is what a worker reading the store every time serves
        assert _answers(reader, user_id) == _answers(uncached, user_id), user_id
        assert _answers(reader, user_id) == _answers(uncached, user_id), user_id  # kept too


def test_a_kept_read_is_ranked_on_the_event_loop_and_a_store_read_in_a_thread(
    workers,
) -> None:
    """A request answerable from memory pays no thread hop; one that reads the store never
    holds the event loop while it waits."""
    one, _, _ = workers
    scorer = one.app.state.service.scorer()
    threads: list[str] = []
    top_items = scorer.top_items

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return top_items(*args, **kwargs)

    scorer.top_items = recorded  # type: ignore[method-assign]
    try:
        first = _answers(one, "u3")  # nothing kept yet: the store is read
        again = _answers(one, "u3")  # kept: answered from memory
        filtered = one.get("/users/u3/recommendations", params={"k": 5, "entity_id": "e_genre"})
    finally:
        del scorer.top_items
    assert first == again and first[0] == 200
    assert filtered.status_code == 200, filtered.text
    on_thread, on_loop, with_filter = threads[0], threads[1], threads[2:]
    assert on_thread.startswith("AnyIO worker thread")
    assert not on_loop.startswith("AnyIO worker thread")
    assert all(name.startswith("AnyIO worker thread") for name in with_filter)  # reads entity


def test_a_repeat_request_of_the_same_shape_is_not_ranked_again(workers) -> None:
    one, _, _ = workers
    scorer = one.app.state.service.scorer()
    reads = one.app.state.service.reads
    ranked: list[int] = []
    top_items = scorer.top_items

    def recorded(*args, **kwargs):
        ranked.append(1)
        return top_items(*args, **kwargs)

    scorer.top_items = recorded  # type: ignore[method-assign]
    try:
        _answers(one, "u2")  # read from the store and kept
        first = one.get("/users/u2/recommendations", params={"k": 5})  # ranked from the read
        before = len(ranked)
        again = one.get("/users/u2/recommendations", params={"k": 5})  # the kept answer
        assert len(ranked) == before and reads.answer_hits == 1
        assert again.content == first.content
        tail = one.get("/users/u2/recommendations", params={"k": 5, "tail_weight": 0.5})
        assert len(ranked) > before  # another shape is ranked
        assert tail.json()["tail_weight"] == 0.5
    finally:
        del scorer.top_items


def test_a_busy_users_read_is_renewed_aside_before_it_expires(
    settings: Settings, graph: FalkorDBStore, embeddings: LearnedEmbeddings
) -> None:
    index_item_vectors(graph, embeddings.user.shape[1])
    # a read lives 3.2-4.0 s and is renewed past half of that (1.6-2.0 s)
    short = settings.model_copy(update={"read_cache_seconds": 4.0})
    with TestClient(create_app(short, store=graph, embeddings=embeddings)) as client:
        client.app.state.service.scorer().neighbours = neighbours.from_snapshot(
            export_snapshot(graph), 20
        )
        reads = client.app.state.service.reads
        first = _answers(client, "u1")
        read_by = time.monotonic()  # the first read was kept before its answer came back
        calls = _count_store_calls(graph)
        try:
            time.sleep(max(0.0, read_by + 2.1 - time.monotonic()))  # past half, not expired
            assert _answers(client, "u1") == first  # served from the kept read ...
            deadline = time.monotonic() + 10
            while reads.refreshes == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert reads.refreshes == 1 and len(calls) == 1  # ... which was read again aside
            time.sleep(max(0.0, read_by + 4.1 - time.monotonic()))  # the first read expired
            misses = reads.misses
            assert _answers(client, "u1") == first
            assert reads.misses == misses  # served from the renewed read, not read again
        finally:
            del graph.run
