"""Fine-tuning the real all-MiniLM-L6-v2 on small interaction sets (CPU, seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tailgraph.encoders.bert import TextEncoder
from tailgraph.encoders.finetune import (
    METADATA_FILE,
    FinetuneConfig,
    _Embedder,
    co_interaction_pairs,
    finetune_encoder,
    text_recall,
)
from tailgraph.errors import ConfigurationError, DataValidationError
from tailgraph.settings import get_settings

# Made-up words carry no meaning for the frozen model: only the interactions say that the
# first eight items belong together, and the last eight.
TEXTS = [
    "zorblat", "quintaro", "vemmick", "plaxon", "drubble", "ostrane", "kelvash", "yintoro",
    "brimwold", "saxifrel", "tunderic", "glopham", "werrinax", "mordulé", "pitchvane", "hexadory",
]  # fmt: skip


def _group_interactions(rng: np.random.Generator, users: int = 40) -> np.ndarray:
    """Each user likes 5 items of one group (users alternate between the groups)."""
    rows = []
    for user in range(users):
        group = np.arange(8) if user % 2 == 0 else np.arange(8, 16)
        rows += [(user, item) for item in rng.choice(group, size=5, replace=False)]
    return np.asarray(rows, np.int64)


def test_pairs_are_two_items_of_one_user_and_skip_items_without_text() -> None:
    train = np.array([[0, 0], [0, 1], [0, 2], [1, 2], [1, 3], [2, 4], [3, 5], [3, 0]])
    has_text = np.array([True, True, True, True, True, True])
    has_text[1] = False
    pairs = co_interaction_pairs(train, has_text, 2000, np.random.default_rng(0))

    liked = {(int(u), int(i)) for u, i in train}
    for a, b in pairs:
        assert a != b
        assert any((u, a) in liked and (u, b) in liked for u in range(4))
    assert 1 not in pairs  # no text
    assert 4 not in pairs  # its only user liked nothing else
    # Anchors are uniform over the items that can anchor (0, 2, 3, 5), not over interactions.
    counts = np.bincount(pairs[:, 0], minlength=6)[[0, 2, 3, 5]]
    assert counts.min() > 0.8 * 2000 / 4
    assert len(co_interaction_pairs(train[[0, 5]], has_text, 10, np.random.default_rng(0))) == 0


def test_text_recall_of_a_hand_built_case() -> None:
    vectors = np.array([[1.0, 0], [0.9, 0.1], [0, 1.0], [0.1, 0.9]])
    train = np.array([[0, 0], [1, 2]])
    held_out = np.array([[0, 1], [0, 3], [1, 3]])
    # k=1: user 0's best unseen item is 1 (a hit, 1 of min(2, 1)); user 1's is 3 (a hit).
    assert text_recall(vectors, train, held_out, 1) == 1.0
    # Without text, item 1 cannot be ranked: user 0 gets item 3 instead, still a hit at k=1.
    assert text_recall(vectors, train, held_out, 1, np.array([1, 0, 1, 1], bool)) == 1.0
    held_out = np.array([[0, 2]])
    assert text_recall(vectors, train, held_out, 1) == 0.0


def test_cached_frozen_layers_compute_what_the_encoder_computes() -> None:
    from transformers import AutoModel, AutoTokenizer

    path = get_settings().encoder_path
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    texts = [*TEXTS[:4], "Toy Story (1995). Genres: Animation, Children's, Comedy."]
    embed = _Embedder(
        model, tokenizer, texts, np.ones(len(texts), bool), FinetuneConfig(), torch.device("cpu")
    )
    assert embed.states is not None  # the cached path is the one under test
    with torch.no_grad():
        vectors = embed(np.arange(len(texts))).numpy()
    np.testing.assert_allclose(vectors, TextEncoder(path).encode(texts), rtol=0, atol=1e-5)


def test_finetuning_learns_what_the_interactions_group(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    interactions = _group_interactions(rng)
    valid_rows = np.zeros(len(interactions), bool)
    valid_rows[::5] = True  # one of each user's five items is held out
    train, valid = interactions[~valid_rows], interactions[valid_rows]
    config = FinetuneConfig(
        epochs=2, pairs_per_epoch=96, batch_size=8, learning_rate=3e-4, k=2, seed=1
    )
    out = tmp_path / "encoder"

    result = finetune_encoder(get_settings().encoder_path, TEXTS, train, valid, out, config)

    assert result.best_epoch >= 1
    assert result.best_valid_recall > result.frozen_valid_recall + 0.1
    assert [row["epoch"] for row in result.history] == [0, 1, 2]
    tuned = TextEncoder(out)
    assert tuned.model_id != TextEncoder().model_id  # a new id: stored text hashes go stale
    vectors = tuned.encode(TEXTS)
    similarity = vectors @ vectors.T
    within = (similarity[:8, :8].sum() - 8 + similarity[8:, 8:].sum() - 8) / (2 * 56)
    across = similarity[:8, 8:].mean()
    assert within > across
    recall = text_recall(vectors, train, valid, config.k)
    assert recall == pytest.approx(result.best_valid_recall, abs=1e-6)
    metadata = json.loads((out / METADATA_FILE).read_text())
    assert metadata["best_epoch"] == result.best_epoch and metadata["config"]["k"] == 2


def test_bad_input_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    path = get_settings().encoder_path
    out = tmp_path / "encoder"
    train = np.array([[0, 0], [0, 1]])
    with pytest.raises(DataValidationError, match="validation interactions"):
        finetune_encoder(path, ["a", "b"], train, np.zeros((0, 2)), out)
    with pytest.raises(DataValidationError, match="outside the 2 texts"):
        finetune_encoder(path, ["a", "b"], np.array([[0, 5]]), train, out)
    with pytest.raises(ConfigurationError, match="batch_size"):
        finetune_encoder(path, ["a", "b"], train, train, out, FinetuneConfig(batch_size=1))
    assert not out.exists()
