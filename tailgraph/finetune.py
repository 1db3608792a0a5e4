"""The ``finetune`` stage: fine-tune the text encoder on the stored interactions.

Reads every item's text and the interactions from the store, holds out a tenth of each
user's interactions to pick the epoch, fine-tunes (:mod:`tailgraph.encoders.finetune`) and
saves the checkpoint under the artefacts directory. Using it is one setting
(``TAILGRAPH_ENCODER_PATH``) and a re-run of ``tailgraph encode``, which re-encodes every
node because the model id, part of each text hash, changed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tailgraph.encoders.finetune import FinetuneConfig, FinetuneResult, finetune_encoder
from tailgraph.errors import DataValidationError
from tailgraph.graph.store import GraphStore
from tailgraph.settings import Settings

FINETUNED_DIR = "encoder-finetuned"
VALID_FRACTION = 0.1


def finetuned_directory(settings: Settings) -> Path:
    """Where ``tailgraph finetune`` saves the encoder by default."""
    return settings.artefacts_dir / FINETUNED_DIR


def finetune(
    settings: Settings,
    store: GraphStore,
    *,
    config: FinetuneConfig | None = None,
    directory: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> FinetuneResult:
    """Fine-tune ``settings.encoder_path`` on the store's interactions; save to ``directory``."""
    from tailgraph.encoders.stage import read_texts
    from tailgraph.gnn.split import split_interactions
    from tailgraph.graph.export import export_snapshot

    config = (config or FinetuneConfig()).check()
    snapshot = export_snapshot(store, progress=progress)
    if len(snapshot.interactions) == 0:
        raise DataValidationError("the graph has no interactions to fine-tune on; run ingest")
    texts = read_texts(store, "Item")
    if not texts:
        raise DataValidationError("no item has text to fine-tune on", field="title")
    inter = snapshot.interactions
    split = split_interactions(
        inter.user,
        inter.item,
        len(snapshot.user_ids),
        len(snapshot.item_ids),
        protocol="random",
        seed=config.seed,
        ratios=(1 - VALID_FRACTION, VALID_FRACTION, 0.0),
    )
    return finetune_encoder(
        settings.encoder_path,
        [texts.get(item) for item in snapshot.item_ids],
        split.train,
        split.valid,
        directory or finetuned_directory(settings),
        config,
        device=settings.device,
        say=progress or (lambda _: None),
    )
