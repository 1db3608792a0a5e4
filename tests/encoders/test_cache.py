"""The embedding cache: round trip, persistence across instances, model-scoped keys."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tailgraph.encoders.cache import EmbeddingCache, text_hash
from tailgraph.errors import ConfigurationError


def test_text_hash_depends_on_model_and_text() -> None:
    base = text_hash("model-a", "Toy Story")
    assert base == text_hash("model-a", "Toy Story")
    assert len(base) == 64
    assert base != text_hash("model-b", "Toy Story")
    assert base != text_hash("model-a", "Toy Story 2")
    # The separator keeps (model, text) pairs apart even when their concatenation matches.
    assert text_hash("ab", "c") != text_hash("a", "bc")


def test_round_trip_and_persistence_across_instances(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cache.sqlite"
    rng = np.random.default_rng(0)
    vectors = {
        text_hash("m", f"text {i}"): rng.normal(size=384).astype(np.float32) for i in range(5)
    }
    with EmbeddingCache(path) as cache:
        cache.put_many(vectors)
        assert len(cache) == 5
    with EmbeddingCache(path) as reopened:
        keys = [*vectors, "not-there"]
        found = reopened.get_many(keys)
        assert set(found) == set(vectors)
        for key, vector in vectors.items():
            assert found[key].dtype == np.float32
            np.testing.assert_array_equal(found[key], vector)
        assert "not-there" not in reopened


def test_put_replaces_and_get_many_handles_many_keys(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        cache.put_many({"k": np.ones(3, dtype=np.float32)})
        cache.put_many({"k": np.full(4, 2.0)})  # float64 in, float32 stored
        np.testing.assert_array_equal(cache.get_many(["k"])["k"], np.full(4, 2.0, np.float32))
        many = {f"key{i}": np.full(2, i, dtype=np.float32) for i in range(2500)}
        cache.put_many(many)
        found = cache.get_many(list(many))
        assert len(found) == 2500
        assert found["key1999"][0] == 1999.0


def test_unusable_path_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigurationError, match="cannot open the embedding cache"):
        EmbeddingCache(blocker / "cache.sqlite")
