"""Fine-tune the BERT sentence encoder on the interactions, so text cosine follows taste.

Two items liked by one user in training form a positive pair; the other items of the batch
are the negatives (symmetric InfoNCE over unit mean-pooled vectors, as the frozen encoder
computes them). Anchors are drawn uniformly over items, not interactions, so tail items
shape the text space as much as popular ones. Each epoch is checked on held-out
interactions with the text-only ranking (a user's mean training-item text vector against
every item text); the best epoch, the frozen model counting as epoch 0, is saved as a
transformers checkpoint that :class:`~tailgraph.encoders.bert.TextEncoder` loads like any
other (the encoder path is a setting).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tailgraph.encoders.bert import default_device, model_identity
from tailgraph.errors import ConfigurationError, DataValidationError

METADATA_FILE = "tailgraph-finetune.json"


@dataclass(frozen=True)
class FinetuneConfig:
    """Training settings; the defaults fit ml-100k on the CPU in minutes."""

    epochs: int = 4
    pairs_per_epoch: int = 2048
    batch_size: int = 64
    learning_rate: float = 2e-5
    warmup_fraction: float = 0.1
    temperature: float = 0.05
    patience: int = 2  # epochs without a better validation recall before stopping
    k: int = 20  # the validation metric is text-only Recall@k
    max_length: int = 128  # tokens per text, as the encode stage truncates
    # Top transformer layers trained (embeddings and lower layers stay frozen, which cuts
    # the backward pass and the optimiser's work); None trains the whole model.
    trainable_layers: int | None = 2
    seed: int = 0

    def check(self) -> FinetuneConfig:
        """Self, or ConfigurationError naming the first setting out of range."""
        positive = ("epochs", "pairs_per_epoch", "batch_size", "k", "max_length")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigurationError(
                    f"finetune {name} must be positive, got {getattr(self, name)}"
                )
        if self.batch_size < 2:
            raise ConfigurationError("finetune batch_size must be at least 2 (in-batch negatives)")
        if not (self.learning_rate > 0 and self.temperature > 0):
            raise ConfigurationError("finetune learning_rate and temperature must be positive")
        if not 0 <= self.warmup_fraction < 1:
            raise ConfigurationError("finetune warmup_fraction must be in [0, 1)")
        if self.trainable_layers is not None and self.trainable_layers < 1:
            raise ConfigurationError("finetune trainable_layers must be positive (or None: all)")
        if self.patience < 0:
            raise ConfigurationError("finetune patience must not be negative")
        return self


@dataclass
class FinetuneResult:
    """Where the checkpoint went and how each epoch did on validation."""

    path: Path
    base_model_id: str
    model_id: str
    best_epoch: int  # 0: no epoch beat the frozen encoder, whose weights were saved
    frozen_valid_recall: float
    best_valid_recall: float
    history: list[dict[str, float | None]] = field(default_factory=list)
    seconds: float = 0.0
    device: str = "cpu"

    def summary(self) -> dict[str, Any]:
        return {**asdict(self), "path": str(self.path)}


def co_interaction_pairs(
    train: np.ndarray, has_text: np.ndarray, n_pairs: int, rng: np.random.Generator
) -> np.ndarray:
    """``(n, 2)`` item pairs that one user liked in ``train`` (``[user, item]`` rows).

    Anchor items are uniform over items with text and a co-rater; the user is uniform among
    the anchor's raters who liked another item with text; the positive is uniform among
    that user's other items. Empty when no user liked two items with text.
    """
    train = np.asarray(train, dtype=np.int64).reshape(-1, 2)
    keep = has_text[train[:, 1]]
    pairs = np.unique(train[keep], axis=0)
    if len(pairs) == 0:
        return np.zeros((0, 2), np.int64)
    users, items = pairs[:, 0], pairs[:, 1]
    per_user = np.bincount(users)
    useful = per_user[users] >= 2
    users, items = users[useful], items[useful]
    if len(users) == 0:
        return np.zeros((0, 2), np.int64)
    by_user = np.argsort(users, kind="stable")  # rows of each user contiguous
    user_start = np.zeros(per_user.shape[0] + 1, np.int64)
    np.add.at(user_start, users + 1, 1)
    user_start = np.cumsum(user_start)
    user_items = items[by_user]
    by_item = np.argsort(items, kind="stable")
    anchors, item_first = np.unique(items[by_item], return_index=True)
    item_count = np.diff(np.r_[item_first, len(by_item)])

    pick = rng.integers(0, len(anchors), n_pairs)
    rater_row = by_item[
        item_first[pick] + (rng.random(n_pairs) * item_count[pick]).astype(np.int64)
    ]
    rater = users[rater_row]
    start, count = user_start[rater], user_start[rater + 1] - user_start[rater]
    # Draw among the user's other items: skip the anchor's own slot by drawing from count-1.
    offset = (rng.random(n_pairs) * (count - 1)).astype(np.int64)
    anchor_slot = _slot_of(user_items, start, count, anchors[pick])
    offset = offset + (offset >= anchor_slot)
    positive = user_items[start + offset]
    return np.stack([anchors[pick], positive], axis=1)


def _slot_of(
    user_items: np.ndarray, start: np.ndarray, count: np.ndarray, item: np.ndarray
) -> np.ndarray:
    """Position of ``item`` within each user's block of ``user_items`` (it is always there)."""
    slots = np.empty(len(item), np.int64)
    for row, (s, c, target) in enumerate(zip(start, count, item, strict=True)):
        slots[row] = int(np.flatnonzero(user_items[s : s + c] == target)[0])
    return slots


def text_recall(
    item_vectors: np.ndarray,
    train: np.ndarray,
    held_out: np.ndarray,
    k: int,
    has_text: np.ndarray | None = None,
) -> float:
    """Mean Recall@k of the text-only ranking on ``held_out`` ``[user, item]`` pairs.

    A user's profile is the mean unit text vector of their training items; training items
    are excluded from the ranking; users without training items with text are skipped.
    """
    vectors = item_vectors / np.maximum(np.linalg.norm(item_vectors, axis=1, keepdims=True), 1e-12)
    n_items = vectors.shape[0]
    text_mask = np.ones(n_items, bool) if has_text is None else np.asarray(has_text, bool)
    train = np.asarray(train, np.int64).reshape(-1, 2)
    held_out = np.asarray(held_out, np.int64).reshape(-1, 2)
    users = np.unique(held_out[:, 0])
    recalls = []
    train_by_user = _group(train)
    held_by_user = _group(held_out)
    for user in users:
        seen = train_by_user.get(int(user), np.zeros(0, np.int64))
        with_text = seen[text_mask[seen]]
        if len(with_text) == 0:
            continue
        scores = vectors @ vectors[with_text].mean(axis=0)
        scores[~text_mask] = -np.inf
        scores[seen] = -np.inf
        top = np.argpartition(-scores, min(k, n_items - 1))[:k]
        relevant = held_by_user[int(user)]
        recalls.append(len(np.intersect1d(top, relevant)) / min(len(relevant), k))
    return float(np.mean(recalls)) if recalls else 0.0


def _group(pairs: np.ndarray) -> dict[int, np.ndarray]:
    """``{user: items}`` from ``[user, item]`` rows."""
    if len(pairs) == 0:
        return {}
    order = np.argsort(pairs[:, 0], kind="stable")
    sorted_pairs = pairs[order]
    cuts = np.flatnonzero(np.diff(sorted_pairs[:, 0])) + 1
    return {int(chunk[0, 0]): chunk[:, 1] for chunk in np.split(sorted_pairs, cuts)}


def finetune_encoder(
    base_path: str | Path,
    item_texts: Sequence[str | None],
    train: np.ndarray,
    valid: np.ndarray,
    out_dir: str | Path,
    config: FinetuneConfig | None = None,
    *,
    device: str | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> FinetuneResult:
    """Fine-tune ``base_path`` on ``train`` ``[user, item]`` pairs; save the best to ``out_dir``.

    ``item_texts[i]`` is item i's text (None: no text). ``valid`` pairs pick the epoch; the
    saved checkpoint (weights, tokenizer, :data:`METADATA_FILE`) replaces ``out_dir`` whole,
    so a failed run never leaves a half-written encoder behind.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    config = (config or FinetuneConfig()).check()
    started = time.perf_counter()
    has_text = np.array([bool(t) for t in item_texts])
    texts = [t or "" for t in item_texts]
    train = np.asarray(train, np.int64).reshape(-1, 2)
    valid = np.asarray(valid, np.int64).reshape(-1, 2)
    for name, pairs in (("train", train), ("valid", valid)):
        if len(pairs) and (pairs[:, 1].min() < 0 or pairs[:, 1].max() >= len(texts)):
            raise DataValidationError(f"{name} pairs name items outside the {len(texts)} texts")
    if len(valid) == 0:
        raise DataValidationError("fine-tuning needs validation interactions to pick an epoch")

    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    base_id = model_identity(base_path, config.max_length)  # checks the folder first
    base_dir = Path(base_path).expanduser()
    target = torch.device(device or default_device())
    tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
    model = AutoModel.from_pretrained(base_dir, local_files_only=True).to(target)
    trainable = _unfreeze_top(model, config.trainable_layers)
    embed = _Embedder(model, tokenizer, texts, has_text, config, target)

    def encode_all() -> np.ndarray:
        model.eval()
        out = np.zeros((len(texts), model.config.hidden_size), np.float32)
        order = [i for i in np.argsort([-len(t) for t in texts]) if has_text[i]]
        with torch.no_grad():
            for start in range(0, len(order), 128):
                index = order[start : start + 128]
                out[index] = embed(np.asarray(index)).cpu().numpy()
        return out

    def validate() -> float:
        return text_recall(encode_all(), train, valid, config.k, has_text)

    frozen_recall = validate()
    say(f"frozen encoder: valid recall@{config.k} {frozen_recall:.4f}")
    history: list[dict[str, float | None]] = [
        {"epoch": 0, "loss": None, "valid_recall": frozen_recall, "seconds": 0.0}
    ]
    best_recall, best_epoch = frozen_recall, 0
    best_state = {key: value.detach().clone() for key, value in model.state_dict().items()}

    steps_per_epoch = max(1, config.pairs_per_epoch // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    optimiser = torch.optim.AdamW(trainable, lr=config.learning_rate)
    warmup = max(1, int(config.warmup_fraction * total_steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, 1 - step / total_steps)
    )
    stale = 0
    for epoch in range(1, config.epochs + 1):
        tick = time.perf_counter()
        pairs = co_interaction_pairs(train, has_text, steps_per_epoch * config.batch_size, rng)
        if len(pairs) == 0:
            raise DataValidationError("no user liked two items with text: nothing to fine-tune on")
        model.train()
        losses = []
        for step in range(steps_per_epoch):
            batch = pairs[step * config.batch_size : (step + 1) * config.batch_size]
            anchors, positives = embed(batch[:, 0]), embed(batch[:, 1])
            loss = _symmetric_info_nce(
                anchors, positives, torch.from_numpy(batch).to(target), config.temperature
            )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimiser.step()
            schedule.step()
            losses.append(float(loss.detach()))
        recall = validate()
        seconds = time.perf_counter() - tick
        history.append(
            {
                "epoch": epoch,
                "loss": float(np.mean(losses)),
                "valid_recall": recall,
                "seconds": seconds,
            }
        )
        say(
            f"epoch {epoch}: loss {np.mean(losses):.4f}, "
            f"valid recall@{config.k} {recall:.4f} ({seconds:.0f} s)"
        )
        if recall > best_recall:
            best_recall, best_epoch, stale = recall, epoch, 0
            best_state = {key: value.detach().clone() for key, value in model.state_dict().items()}
        else:
            stale += 1
            if stale > config.patience:
                break

    model.load_state_dict(best_state)
    path = _save(model, tokenizer, Path(out_dir))
    result = FinetuneResult(
        path=path,
        base_model_id=base_id,
        model_id=model_identity(path, config.max_length),
        best_epoch=best_epoch,
        frozen_valid_recall=frozen_recall,
        best_valid_recall=best_recall,
        history=history,
        seconds=time.perf_counter() - started,
        device=str(target),
    )
    metadata = {**result.summary(), "config": asdict(config)}
    (path / METADATA_FILE).write_text(
        json.dumps(metadata, indent=2, allow_nan=False, default=str) + "\n"
    )
    return result


def _unfreeze_top(model: Any, layers: int | None) -> list[Any]:
    """Freeze all but the top ``layers`` encoder layers (all: None); the trained parameters."""
    blocks = getattr(getattr(model, "encoder", None), "layer", None)
    if layers is not None and blocks is not None and layers < len(blocks):
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        for block in list(blocks)[-layers:]:
            for parameter in block.parameters():
                parameter.requires_grad_(True)
    return [parameter for parameter in model.parameters() if parameter.requires_grad]


# Hidden states cached for the frozen layers only while they fit this budget.
FROZEN_CACHE_BYTES = 1 << 30


class _Embedder:
    """Unit mean-pooled vectors of texts by index, as :class:`TextEncoder` computes them.

    When only the top layers train and the model is BERT-shaped, every text's hidden states
    after the frozen layers are computed once (they never change) and each batch runs the
    trained layers alone; otherwise each batch runs the whole model.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        texts: Sequence[str],
        has_text: np.ndarray,
        config: FinetuneConfig,
        device: Any,
    ) -> None:
        import torch

        self.model, self.tokenizer, self.texts = model, tokenizer, texts
        self.config, self.device = config, device
        self.half = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.states: list[Any] | None = None
        blocks = getattr(getattr(model, "encoder", None), "layer", None)
        layers = config.trainable_layers
        if blocks is None or not hasattr(model, "embeddings") or layers is None:
            return
        self.frozen, self.top = list(blocks)[:-layers], list(blocks)[-layers:]
        if not self.frozen:
            return
        lengths = [len(t) for t in texts]  # characters: a cheap upper bound on tokens
        estimate = sum(lengths) * model.config.hidden_size * 4
        if estimate <= FROZEN_CACHE_BYTES:
            self.states = self._frozen_states(np.flatnonzero(has_text))

    def _frozen_states(self, indices: np.ndarray) -> list[Any]:
        import torch

        states: list[Any] = [None] * len(self.texts)
        with torch.no_grad():
            for start in range(0, len(indices), 128):
                index = indices[start : start + 128]
                batch = self._tokenise([self.texts[i] for i in index])
                hidden = self.model.embeddings(
                    input_ids=batch["input_ids"], token_type_ids=batch.get("token_type_ids")
                )
                mask = batch["attention_mask"]
                hidden = self._run(self.frozen, hidden, mask)
                for row, i in enumerate(index):
                    states[i] = hidden[row, : int(mask[row].sum())].clone()
        return states

    def _tokenise(self, texts: list[str]) -> Any:
        return self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        ).to(self.device)

    def _run(self, layers: list[Any], hidden: Any, mask: Any) -> Any:
        import torch

        additive = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in layers:
            out = layer(hidden, attention_mask=additive)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def __call__(self, indices: np.ndarray) -> Any:
        import contextlib

        import torch

        half = torch.autocast("cuda", dtype=torch.bfloat16) if self.half else None
        with half or contextlib.nullcontext():
            if self.states is None:
                batch = self._tokenise([self.texts[i] for i in indices])
                states = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"]
            else:
                cached = [self.states[i] for i in indices]
                longest = max(len(c) for c in cached)
                hidden = torch.zeros(len(cached), longest, cached[0].shape[1], device=self.device)
                mask = torch.zeros(len(cached), longest, dtype=torch.long, device=self.device)
                for row, c in enumerate(cached):
                    hidden[row, : len(c)] = c
                    mask[row, : len(c)] = 1
                states = self._run(self.top, hidden, mask)
        states = states.to(torch.float32)
        weights = mask.unsqueeze(-1).to(states.dtype)
        mean = (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, p=2.0, dim=1)


def _symmetric_info_nce(anchors: Any, positives: Any, pairs: Any, temperature: float) -> Any:
    """InfoNCE both ways; a batch item equal to the true positive is not a negative."""
    import torch

    logits = anchors @ positives.T / temperature
    same = pairs[:, 1].unsqueeze(0) == pairs[:, 1].unsqueeze(1)
    same_anchor = pairs[:, 0].unsqueeze(0) == pairs[:, 0].unsqueeze(1)
    eye = torch.eye(len(pairs), dtype=torch.bool, device=logits.device)
    forward = logits.masked_fill(same & ~eye, float("-inf"))
    backward = logits.T.masked_fill(same_anchor & ~eye, float("-inf"))
    labels = torch.arange(len(pairs), device=logits.device)
    ce = torch.nn.functional.cross_entropy
    return 0.5 * (ce(forward, labels) + ce(backward, labels))


def _save(model: Any, tokenizer: Any, out_dir: Path) -> Path:
    """Write the checkpoint to a sibling temp folder, then swap it in for ``out_dir``."""
    out_dir = out_dir.expanduser()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        if out_dir.exists():
            retired = out_dir.with_name(f".{out_dir.name}-old-{os.getpid()}")
            os.replace(out_dir, retired)
            os.replace(staging, out_dir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir.resolve()
