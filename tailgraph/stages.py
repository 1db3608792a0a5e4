"""The pipeline's stages, each one function: load, ingest, encode, train, evaluate, recommend.

The command line (:mod:`tailgraph.cli`) and the demo (:mod:`tailgraph.demo`) both call these,
so a stage behaves the same whichever way it is started. Each takes the settings and an open
store and returns a report; none prints. Heavy imports (torch, transformers) happen inside the
stage that needs them, so ``tailgraph db status`` stays quick.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tailgraph.graph.store import GraphStore
from tailgraph.settings import Settings

if TYPE_CHECKING:
    from tailgraph.api.schemas import Recommendations
    from tailgraph.encoders.stage import EncodeReport
    from tailgraph.gnn.pipeline import TrainedRun
    from tailgraph.graph.ingest import IngestReport
    from tailgraph.graph.records import Dataset
    from tailgraph.graph.snapshot import GraphSnapshot

CURRENT = "current"  # the artefacts sub-folder training writes and serving loads by default


def model_directory(settings: Settings) -> Path:
    """Where training saves the model the service serves by default."""
    return settings.artefacts_dir / CURRENT


# -- load and ingest -----------------------------------------------------------------------------
FORMATS = ("atomic", "kgat", "movielens", "csv")  # file formats `tailgraph ingest` reads


def load_files(fmt: str, directory: Path, name: str | None = None) -> Dataset:
    """A directory in one of :data:`FORMATS` (docs/data-formats.md), validated by its loader."""
    from tailgraph.errors import ConfigurationError, DataValidationError

    if fmt not in FORMATS:
        raise ConfigurationError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    directory = Path(directory)
    if not directory.is_dir():
        raise DataValidationError("not a directory", source=directory)
    if fmt == "atomic":
        from tailgraph.graph.loaders.recbole import load_atomic

        return load_atomic(directory, name or directory.name)
    if fmt == "kgat":
        from tailgraph.graph.loaders.kgat import load_kgat

        return load_kgat(directory)
    if fmt == "movielens":
        from tailgraph.graph.loaders.movielens import load_movielens

        return load_movielens(directory, name)
    from tailgraph.graph.loaders.csv_files import load_csv

    return load_csv(directory, name)


def detect_format(directory: Path) -> str:
    """Which of :data:`FORMATS` a directory holds, from its file names (docs/data-formats.md):
    ``*.inter`` atomic, ``train.txt`` KGAT, ``u.data``/``ratings.dat``/``ratings.csv``
    MovieLens, ``interactions.csv`` CSV."""
    from tailgraph.errors import DataValidationError

    directory = Path(directory)
    if not directory.is_dir():
        raise DataValidationError("not a directory", source=directory)
    names = {path.name for path in directory.iterdir()}
    if any(name.endswith(".inter") for name in names):
        return "atomic"
    if "train.txt" in names:
        return "kgat"
    if names & {"u.data", "ratings.dat", "ratings.csv"}:
        return "movielens"
    if "interactions.csv" in names:
        return "csv"
    raise DataValidationError(
        "no dataset files found: expected <name>.inter (RecBole atomic), train.txt (KGAT), "
        "u.data / ratings.dat / ratings.csv (MovieLens) or interactions.csv (CSV)",
        source=directory,
    )


def _atomic_name(directory: Path) -> str:
    """The RecBole file stem: the directory's name, else the one ``*.inter`` file's stem."""
    if (directory / f"{directory.name}.inter").is_file():
        return directory.name
    stems = sorted(path.stem for path in directory.glob("*.inter"))
    return stems[0] if len(stems) == 1 else directory.name


def load_source(settings: Settings, source: str | Path) -> Dataset | Path:
    """``source`` of ``tailgraph evaluate --dataset``: a built-in name (fetched if needed), a
    directory in one of :data:`FORMATS` (detected), or a saved snapshot (.npz, returned as
    its path)."""
    from tailgraph.errors import ConfigurationError
    from tailgraph.graph.datasets import DATASETS, load

    text = str(source)
    if text in DATASETS:
        return load(text, settings.datasets_dir)
    path = Path(text).expanduser()
    if path.is_file() and path.suffix == ".npz":
        return path.absolute()
    if path.is_dir():
        fmt = detect_format(path)
        return load_files(fmt, path, name=_atomic_name(path) if fmt == "atomic" else None)
    raise ConfigurationError(
        f"--dataset {text!r} is neither a built-in dataset ({', '.join(sorted(DATASETS))}) "
        "nor an existing directory of dataset files or a saved snapshot (.npz)"
    )


def dataset_snapshot(
    settings: Settings, data: Dataset, *, progress: bool | None = None
) -> GraphSnapshot:
    """The snapshot an ingest and ``tailgraph encode`` of ``data`` would export, without a
    store: node text encoded by the configured BERT (through the encode stage's cache)."""
    import sys

    from tailgraph.encoders.bert import TextEncoder
    from tailgraph.encoders.cache import EmbeddingCache, text_hash
    from tailgraph.encoders.text import node_text
    from tailgraph.graph.export import snapshot_from_dataset

    records = {"Item": data.items, "User": data.users, "Entity": data.entities}
    texts = {
        label: {str(r["id"]): t for r in rows if (t := node_text(label, r))}
        for label, rows in records.items()
    }
    if not any(texts.values()):
        return snapshot_from_dataset(data, {})
    show = sys.stderr.isatty() if progress is None else progress
    encoder = TextEncoder(settings.encoder_path, device=settings.device)
    vectors: dict[str, dict[str, list[float]]] = {}
    with EmbeddingCache(settings.cache_dir / "text-embeddings.sqlite") as cache:
        for label, by_id in texts.items():
            keys = {node: text_hash(encoder.model_id, text) for node, text in by_id.items()}
            found = cache.get_many(keys.values())
            missing = {key: by_id[node] for node, key in keys.items() if key not in found}
            if missing:
                fresh = encoder.encode(
                    list(missing.values()), batch_size=settings.encoder_batch_size, progress=show
                )
                new = dict(zip(missing, fresh, strict=True))
                cache.put_many(new)
                found.update(new)
            vectors[label] = {node: found[key].tolist() for node, key in keys.items()}
    return snapshot_from_dataset(data, vectors)


def load_dataset(
    settings: Settings,
    *,
    dataset: str | None = None,
    atomic: Path | None = None,
    synthetic_users: int | None = None,
    seed: int = 0,
    files: tuple[str, Path] | None = None,
) -> Dataset:
    """A named dataset (fetched if needed), a directory of files (``files``: format, path;
    ``atomic`` is the RecBole-atomic shorthand), or a synthetic long tail."""
    if synthetic_users:
        from tailgraph.graph.loaders.synthetic import SyntheticConfig, generate

        return generate(SyntheticConfig.for_users(synthetic_users, seed=seed))
    if atomic is not None:
        files = ("atomic", atomic)
    if files is not None:
        return load_files(*files)
    from tailgraph.graph.datasets import load

    return load(dataset or "ml-100k", settings.datasets_dir)


def kg_warnings(data: Dataset) -> list[str]:
    """What a user should know about a dataset's KG before trusting it: triples that touch no
    item (an atomic directory without ``.link``, say) cannot help any recommendation."""
    if not data.triples:
        return []
    touching = sum(1 for t in data.triples if "Item" in (t.head_label, t.tail_label))
    if touching == 0:
        return [
            f"none of the {len(data.triples):,} KG triples touches an item: the KG is attached "
            "to nothing (RecBole atomic files need a .link file mapping items to entities)"
        ]
    items = {t.head for t in data.triples if t.head_label == "Item"} | {
        t.tail for t in data.triples if t.tail_label == "Item"
    }
    if data.items and len(items) < 0.5 * len(data.items):
        return [
            f"only {len(items):,} of {len(data.items):,} items appear in a KG triple "
            f"({touching:,} of {len(data.triples):,} triples touch an item)"
        ]
    return []


def ingest(
    store: GraphStore,
    data: Dataset,
    *,
    batch_size: int = 5000,
    replace: bool = False,
    progress: bool | None = None,
    guard: bool = True,
) -> IngestReport:
    """Validate ``data`` and MERGE it into ``store`` (idempotent); a progress bar only when
    stderr is a terminal unless ``progress`` says otherwise. ``guard``: refuse a graph that
    holds another dataset (``replace`` clears it instead) and record ``data``'s name in it."""
    import sys

    from tailgraph.graph.ingest import ingest as run_ingest

    show = sys.stderr.isatty() if progress is None else progress
    return run_ingest(
        store, data, batch_size=batch_size, replace=replace, progress=show, guard=guard
    )


# -- encode --------------------------------------------------------------------------------------
def encode(
    settings: Settings,
    store: GraphStore,
    *,
    batch_size: int | None = None,
    progress: bool | None = None,
) -> EncodeReport:
    """Encode every node's text with the configured BERT and write ``textEmbedding`` back;
    ``progress`` bars default to on when stderr is a terminal (a log gets no redrawn bars)."""
    import sys

    from tailgraph.encoders.bert import TextEncoder
    from tailgraph.encoders.cache import EmbeddingCache
    from tailgraph.encoders.stage import encode_store

    show = sys.stderr.isatty() if progress is None else progress
    if not show:  # transformers' own "Loading weights" bar would land in the log
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    encoder = TextEncoder(settings.encoder_path, device=settings.device)
    cache = EmbeddingCache(settings.cache_dir / "text-embeddings.sqlite")
    return encode_store(
        store,
        encoder,
        cache,
        batch_size=batch_size or settings.encoder_batch_size,
        progress=show,
    )


# -- train ---------------------------------------------------------------------------------------
@dataclass
class TrainOutcome:
    """A trained and saved model, the snapshot it was trained on, and what was written back."""

    artefacts_dir: Path
    snapshot: GraphSnapshot
    run: TrainedRun
    metrics: dict[str, float]  # test metrics (plus subsets) of the trained model
    written: dict[str, int]  # label -> nodes given `embedding`; RECOMMENDED -> edges written

    @property
    def version(self) -> str:
        return self.run.version


def train(
    settings: Settings,
    store: GraphStore,
    *,
    model: str = "tailgnn",
    epochs: int | None = None,
    seed: int = 0,
    protocol: str = "random",
    recommend_k: int = 20,
    directory: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> TrainOutcome:
    """Export the graph once, train ``model`` on a ``protocol`` split, save everything serving
    needs into ``directory`` (default :func:`model_directory`), write vectors and each user's
    top ``recommend_k`` unseen items (0: none) back to the store."""
    from tailgraph.gnn.config import TrainConfig
    from tailgraph.gnn.pipeline import recommendation_lists, save_trained, train_snapshot
    from tailgraph.gnn.registry import TRAINED, check_model
    from tailgraph.gnn.split import check_protocol
    from tailgraph.graph.export import export_snapshot
    from tailgraph.graph.writeback import write_embeddings, write_recommendations

    check_model(model, TRAINED)  # both checked before minutes of export, not after
    check_protocol(protocol)
    config = TrainConfig(model=model, seed=seed)
    if epochs is not None:
        config.epochs = epochs
    if settings.device:
        config.device = settings.device
    snapshot = export_snapshot(store, progress=progress)
    run = train_snapshot(snapshot, config, protocol=protocol, progress=progress)
    target = Path(directory) if directory is not None else model_directory(settings)
    save_trained(target, snapshot, run)
    result = run.result
    written = {
        "User": write_embeddings(
            store, "User", snapshot.user_ids, result.user_embeddings, version=run.version
        ),
        "Item": write_embeddings(
            store, "Item", snapshot.item_ids, result.item_embeddings, version=run.version
        ),
        "RECOMMENDED": 0,
    }
    if recommend_k > 0:
        indices, scores = recommendation_lists(snapshot, result, recommend_k)
        written["RECOMMENDED"] = write_recommendations(
            store,
            snapshot.user_ids,
            snapshot.item_ids,
            indices,
            scores,
            model=config.model,
            version=run.version,
        )
    return TrainOutcome(target, snapshot, run, result.test.flat(), written)


# -- evaluate ------------------------------------------------------------------------------------
def evaluate(
    source: GraphStore | GraphSnapshot | Path,
    *,
    models: Sequence[str],
    protocols: Sequence[str],
    seeds: Sequence[int],
    out_dir: Path,
    peer_results: Sequence[Path] = (),
    export_split: Path | None = None,
    epochs: int | None = None,
    name: str | None = None,
    tail_sweep: bool = True,
    cache_dir: Path | None = None,
    summary: Path | None = None,
    command: str | None = None,
    progress: bool = True,
    strict_models: bool = False,
) -> Path:
    """Every model on every protocol × seed split of the graph (read once), report in
    ``out_dir`` and the compact record in ``summary``; ``source`` is an open store, a snapshot
    or a saved snapshot (.npz). Trained models use the recorded report's schedule
    (:data:`~tailgraph.evaluation.harness.REPORT_CONFIG`); ``name`` names the dataset (default:
    the one recorded in the store, the snapshot file's stem, else ``tailgraph``);
    ``tail_sweep=False`` skips the tail-weight sweep; ``cache_dir`` keeps every scored run so
    a rerun with one more seed fits only that seed (one folder per dataset name under it).
    Models the data cannot feed (text models without item text) are left out and the report
    says so; with ``strict_models`` (models named by the user) that is an error instead."""
    from tailgraph.errors import ConfigurationError
    from tailgraph.evaluation.cache import RunCache
    from tailgraph.evaluation.harness import REPORT_CONFIG, run_evaluation, runnable
    from tailgraph.evaluation.tradeoff import TAIL_WEIGHTS
    from tailgraph.graph.export import export_snapshot
    from tailgraph.graph.snapshot import GraphSnapshot

    if isinstance(source, Path):
        name = name or source.stem
        snapshot: GraphSnapshot | Path = source
    elif isinstance(source, GraphSnapshot):
        snapshot = source
    else:
        from tailgraph.graph.ingest import stored_dataset

        name = name or stored_dataset(source).get("name")
        snapshot = export_snapshot(source)
    if isinstance(snapshot, Path):
        from tailgraph.graph.snapshot import load_snapshot

        snapshot = load_snapshot(snapshot)
    _, skipped = runnable(models, snapshot)
    if skipped and strict_models:
        left = ", ".join(f"{model} ({why})" for model, why in skipped.items())
        raise ConfigurationError(f"cannot evaluate {left}; leave them out of --models")
    name = name or "tailgraph"
    return run_evaluation(
        snapshot,
        models=models,
        protocol=list(protocols),
        seeds=seeds,
        out_dir=out_dir,
        peer_results=list(peer_results),
        export_split=export_split,
        epochs=epochs,
        progress=progress,
        config=REPORT_CONFIG,
        name=name,
        tail_weights=TAIL_WEIGHTS if tail_sweep else (),
        cache=RunCache(Path(cache_dir) / name.replace("/", "_")) if cache_dir else None,
        summary=summary,
        command=command,
    )


# -- recommend -----------------------------------------------------------------------------------
def recommend(settings: Settings, store: GraphStore, user_id: str, k: int) -> Recommendations:
    """What ``GET /users/{user_id}/recommendations?k=`` answers, without an HTTP server."""
    from tailgraph.api.deps import ServiceState
    from tailgraph.api.recommender import recommend as recommend_user

    state = ServiceState(settings, store=store)
    scorer = state.scorer()
    return recommend_user(
        store,
        scorer,
        user_id,
        k,
        limits=state.limits,
        vectors=state.vectors,
        titles=state.titles,
    )
