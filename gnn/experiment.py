"""Run several models × seeds on one snapshot and one split protocol, scored by one evaluator.

For every seed the snapshot is split with the protocol (the seed drives the split and the
training), then each model is fitted on TRAIN only, early-stopped or tuned on VALID, and its
top-K list for every test user is computed by full-catalogue ranking with the user's train
and valid items removed. Every model — trained (``bpr_mf``, ``lightgcn``, ``tailgnn``), score
function baselines (``mostpop``, ``itemknn``, ``text_only``, ``fusion``) or a peer library's
lists (:mod:`gnn.peers`) — is then scored from those top-K lists by :func:`score_topk`:
accuracy and popularity metrics, the ``cold`` (test pairs whose item was withheld from
training) and ``sparse`` (users with <= 5 training interactions) subsets, recall by
item-popularity decile and per-item exposure. :func:`run_evaluation` writes the report.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from tailgraph.errors import ConfigurationError
from tailgraph.gnn import metrics as M
from tailgraph.gnn.config import TrainConfig
from tailgraph.gnn.data import build_hetero_data
from tailgraph.gnn.evaluate import ScoreFn, rank
from tailgraph.gnn.baselines.fusion import Fusion
from tailgraph.gnn.baselines.itemknn import ItemKNN
from tailgraph.gnn.baselines.mostpop import MostPop
from tailgraph.gnn.models.registry import MODELS as TRAINED
from tailgraph.gnn.registry import build_model
from tailgraph.gnn.baselines.text_only import TextOnly
from tailgraph.gnn.peers import PeerRun, load_peer_results, split_name, topk_from_ids
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.gnn.split import InteractionSplit, sparse_users
from tailgraph.gnn.train import make_score_fn, tail_adjusted, train
from tailgraph.graph.snapshot import GraphSnapshot, Interactions

SCORERS = ("mostpop", "itemknn", "text_only", "fusion")
ALL_MODELS = ("mostpop", "itemknn", "bpr_mf", "lightgcn", "text_only", "fusion", "tailgnn")
KS = (10, 20)
# The inference-time tail_weight knob (gnn.train.tail_adjusted, the service's re-ranker) swept
# on the already-fitted models: how much accuracy each model gives up for tail exposure.
TAIL_WEIGHTS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0)
TAIL_POOL = 500  # candidates re-ranked per user (the service expands a few hundred)
TRADEOFF_MODELS = ("bpr_mf", "lightgcn", "itemknn", "tailgnn")
TRADEOFF_METRICS = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20", "giniindex@20",
                    "averagepopularity@20", "cold/recall@20")
DECILE_K = 20  # cut-off of the popularity-decile recall and of the exposure counts
N_DECILES = 10
LABELS = ("User", "Item", "Entity")


# -- snapshot cache (one .npz, no pickles) ---------------------------------------------------
def save_snapshot(snapshot: GraphSnapshot, path: Path) -> None:
    """Write ``snapshot`` to ``path`` (.npz) atomically: temp file in the same folder, rename."""
    arrays: dict[str, np.ndarray] = {}
    for label in LABELS:
        arrays[f"ids_{label}"] = np.asarray(snapshot.ids(label), dtype=str)
        arrays[f"text_{label}"] = snapshot.text[label]
        arrays[f"has_text_{label}"] = snapshot.has_text[label]
    for name in ("user", "item", "rating", "ts"):
        arrays[f"inter_{name}"] = getattr(snapshot.interactions, name)
    keys = sorted(snapshot.kg_edges)
    arrays["kg_keys"] = np.asarray(["|".join(k) for k in keys], dtype=str)
    for n, key in enumerate(keys):
        arrays[f"kg_src_{n}"], arrays[f"kg_dst_{n}"] = snapshot.kg_edges[key]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", suffix=".npz", dir=path.parent)
    os.close(fd)
    np.savez(tmp, **arrays)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; these are ordinary data files
    os.replace(tmp, path)


def load_snapshot(path: Path) -> GraphSnapshot:
    """Inverse of :func:`save_snapshot`."""
    with np.load(Path(path), allow_pickle=False) as z:
        ids = {label: [str(x) for x in z[f"ids_{label}"]] for label in LABELS}
        kg = {}
        for n, key in enumerate(z["kg_keys"]):
            head, rel, tail = str(key).split("|")
            kg[(head, rel, tail)] = (z[f"kg_src_{n}"], z[f"kg_dst_{n}"])
        return GraphSnapshot(
            user_ids=ids["User"], item_ids=ids["Item"], entity_ids=ids["Entity"],
            text={label: z[f"text_{label}"] for label in LABELS},
            has_text={label: z[f"has_text_{label}"] for label in LABELS},
            interactions=Interactions(
                z["inter_user"], z["inter_item"], z["inter_rating"], z["inter_ts"]
            ),
            kg_edges=kg,
        )


# -- scoring top-K lists -------------------------------------------------------------------------
@dataclass
class Scored:
    """What one model's top-K lists on one split are worth."""

    metrics: dict[str, float]  # "recall@20", ..., "cold/recall@20", "sparse/ndcg@10"
    subset_users: dict[str, int]  # evaluated users per subset ("all", "cold", "sparse")
    decile_recall: list[float | None]  # recall@DECILE_K per popularity decile, least popular 1st
    exposure: np.ndarray  # (n_items,) times each item is in a top-DECILE_K list


def ranking_context(
    users: np.ndarray, topk: np.ndarray, truth: np.ndarray, popularity: np.ndarray
) -> tuple[np.ndarray, M.RankingContext]:
    """Context for the users that have ``truth`` pairs; ``users`` (sorted) index ``topk`` rows."""
    n_items = len(popularity)
    truth_users = np.unique(truth[:, 0])
    rows = np.searchsorted(users, truth_users)
    if len(truth_users) and (
        rows.max() >= len(users) or not np.array_equal(users[rows], truth_users)
    ):
        raise ConfigurationError("some users with truth pairs have no top-K list")
    lists = topk[rows]
    keys = np.unique(truth[:, 0] * n_items + truth[:, 1])
    hits = np.isin(truth_users[:, None] * n_items + lists, keys)
    head = M.head_items(popularity)
    truth_count = np.bincount(truth[:, 0])
    head_count = np.bincount(truth[head[truth[:, 1]], 0], minlength=len(truth_count))
    ctx = M.RankingContext(
        topk=lists, hits=hits, truth_count=truth_count[truth_users],
        popularity=popularity, head_truth_count=head_count[truth_users], head_mask=head,
    )
    return truth_users, ctx


def popularity_deciles(popularity: np.ndarray, n: int = N_DECILES) -> np.ndarray:
    """(n_items,) decile 0..n-1 of each item: equal-size groups by training popularity, ascending
    (ties by item index), so decile 0 holds the least popular items (cold items included)."""
    order = np.argsort(popularity, kind="stable")
    decile = np.zeros(len(popularity), dtype=np.int64)
    for d, part in enumerate(np.array_split(order, n)):
        decile[part] = d
    return decile


def decile_recall(
    users: np.ndarray, topk: np.ndarray, truth: np.ndarray, popularity: np.ndarray,
    k: int = DECILE_K,
) -> list[float | None]:
    """Per decile: test pairs whose item is in the user's top k / test pairs (None: no pairs)."""
    n_items = len(popularity)
    shown = np.unique(users[:, None] * n_items + topk[:, :k])
    hit = np.isin(truth[:, 0] * n_items + truth[:, 1], shown)
    decile = popularity_deciles(popularity)[truth[:, 1]]
    out: list[float | None] = []
    for d in range(N_DECILES):
        in_d = decile == d
        out.append(float(hit[in_d].mean()) if in_d.any() else None)
    return out


def score_topk(
    users: np.ndarray, topk: np.ndarray, split: InteractionSplit, ks: tuple[int, ...] = KS
) -> Scored:
    """Score top-K lists (rows of ``topk`` for sorted ``users``) against ``split.test``."""
    if topk.shape[1] < max(ks):
        raise ConfigurationError(f"top-K lists hold {topk.shape[1]} items, need {max(ks)}")
    popularity = split.item_popularity()
    test = split.test
    _, ctx = ranking_context(users, topk, test, popularity)
    metrics = M.compute_all(ctx, ks)
    counts = {"all": len(ctx.topk)}
    subsets = {
        "cold": test[np.isin(test[:, 1], split.cold_items)],
        "sparse": test[np.isin(test[:, 0], sparse_users(split))],
    }
    for name, pairs in subsets.items():
        counts[name] = len(np.unique(pairs[:, 0]))
        if counts[name]:
            _, sub = ranking_context(users, topk, pairs, popularity)
            values = M.compute_all(sub, ks, M.ACCURACY)
            metrics.update({f"{name}/{key}": value for key, value in values.items()})
    k = min(DECILE_K, topk.shape[1])
    exposure = np.bincount(topk[:, :k].ravel(), minlength=split.n_items)
    return Scored(metrics, counts, decile_recall(users, topk, test, popularity, k), exposure)


def score_function_topk(
    score_fn: ScoreFn, split: InteractionSplit, k: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """(test users, (U, k) top-k) by full-catalogue ranking, train and valid items excluded."""
    exclude = np.concatenate([split.train, split.valid])
    users, ctx = rank(score_fn, split.test, exclude, split.n_users, split.item_popularity(), k=k)
    return users, ctx.topk


# -- fitting -------------------------------------------------------------------------------------
@dataclass
class ModelRun:
    """One model on one seed's split."""

    model: str
    seed: int
    metrics: dict[str, float]
    subset_users: dict[str, int]
    decile_recall: list[float | None]
    exposure: np.ndarray
    seconds: float  # fitting: training with early stopping, or tuning on validation
    best_epoch: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class _SeedModels:
    """Fits models on one seed's split; caches LightGCN and text scores for ``fusion``."""

    def __init__(
        self, snapshot: GraphSnapshot, split: InteractionSplit, config: TrainConfig,
        say: Callable[[str], None],
    ) -> None:
        self.snapshot, self.split, self.config, self.say = snapshot, split, config, say
        self.data = build_hetero_data(snapshot, split)
        self.cache: dict[str, tuple[ScoreFn, float, dict[str, Any]]] = {}

    def fit(self, name: str) -> tuple[ScoreFn, float, dict[str, Any]]:
        """(score function, seconds, extra) — cached, so fusion reuses lightgcn/text_only."""
        if name not in self.cache:
            needs = ("text_only", "lightgcn") if name == "fusion" else ()
            before = sum(self.fit(dependency)[1] for dependency in needs)
            started = time.perf_counter()
            score_fn, extra = self._fit(name)
            self.cache[name] = (score_fn, before + time.perf_counter() - started, extra)
        return self.cache[name]

    def _fit(self, name: str) -> tuple[ScoreFn, dict[str, Any]]:
        split = self.split
        if name == "mostpop":
            return MostPop.fit(split), {}
        if name == "itemknn":
            model, table = ItemKNN.tuned(split)
            return model, {"neighbours": model.neighbours, "valid_ndcg@20": table}
        if name == "text_only":
            return TextOnly.fit(self.snapshot, split), {}
        if name == "fusion":
            text, cf = self.fit("text_only")[0], self.fit("lightgcn")[0]
            model, table = Fusion.tuned(text, cf, split)
            return model, {"alpha": model.alpha, "valid_ndcg@20": table}
        if name in TRAINED:
            config = replace(self.config, model=name, subsets=())
            result = train(build_model(self.data, config), self.data, split, config,
                           progress=self.say)
            score_fn = make_score_fn(
                torch.from_numpy(result.user_embeddings), torch.from_numpy(result.item_embeddings)
            )
            extra = {"best_epoch": result.best_epoch, "epochs_run": len(result.history),
                     "seconds_per_epoch": result.seconds_per_epoch, **result.extra}
            return score_fn, extra
        raise ConfigurationError(f"unknown model {name!r}; choose from {ALL_MODELS}")


@dataclass
class TradeoffPoint:
    """One model's metrics on one seed's split at one ``tail_weight``."""

    model: str
    seed: int
    tail_weight: float
    metrics: dict[str, float]


def tail_tradeoff(
    model: str, seed: int, score_fn: ScoreFn, split: InteractionSplit,
    tail_weights: Sequence[float],
) -> list[TradeoffPoint]:
    """Score ``score_fn`` re-ranked at each tail weight (same lists and exclusions as above)."""
    popularity = torch.as_tensor(split.item_popularity())
    points = []
    for weight in tail_weights:
        adjusted = tail_adjusted(score_fn, popularity, weight, TAIL_POOL)
        users, topk = score_function_topk(adjusted, split)
        metrics = score_topk(users, topk, split).metrics
        kept = {key: metrics[key] for key in TRADEOFF_METRICS if key in metrics}
        points.append(TradeoffPoint(model, seed, float(weight), kept))
    return points


# -- per-run cache -------------------------------------------------------------------------------
def code_fingerprint() -> str:
    """Hash of the ``tailgraph.gnn`` sources that fit and score models (all but the report
    writer): any change there invalidates the cache."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        if path.name != "report.py":
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def snapshot_fingerprint(snapshot: GraphSnapshot) -> str:
    """Hash of a snapshot's ids, interactions, KG edges and text vectors (what models see)."""
    digest = hashlib.sha256()
    for label in LABELS:
        digest.update("\n".join(snapshot.ids(label)).encode())
        digest.update(np.ascontiguousarray(snapshot.text[label]).tobytes())
        digest.update(np.ascontiguousarray(snapshot.has_text[label]).tobytes())
    for name in ("user", "item", "rating", "ts"):
        digest.update(np.ascontiguousarray(getattr(snapshot.interactions, name)).tobytes())
    for key in sorted(snapshot.kg_edges):
        digest.update("|".join(key).encode())
        for part in snapshot.kg_edges[key]:
            digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


class RunCache:
    """One JSON file per (protocol, seed, model) fitted and scored, so an interrupted or
    extended evaluation (more seeds, peers added) refits nothing it has already scored.

    An entry is used only if its key matches: model, protocol, seed, training config,
    :func:`snapshot_fingerprint`, split statistics, tail weights and :func:`code_fingerprint`.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.code = code_fingerprint()

    def key(self, model: str, protocol: str, seed: int, context: dict[str, Any]) -> str:
        document = {"model": model, "protocol": protocol, "seed": seed, "code": self.code,
                    **context}
        return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()
                              ).hexdigest()

    def _path(self, model: str, protocol: str, seed: int) -> Path:
        return self.directory / f"{protocol}-s{seed}-{model}.json"

    def get(self, model: str, protocol: str, seed: int, key: str
            ) -> tuple[ModelRun, list[TradeoffPoint]] | None:
        path = self._path(model, protocol, seed)
        if not path.is_file():
            return None
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("key") != key:
            return None
        run = document["run"]
        run["exposure"] = np.asarray(run["exposure"], dtype=np.int64)
        return ModelRun(**run), [TradeoffPoint(**point) for point in document["tradeoff"]]

    def put(self, key: str, protocol: str, run: ModelRun, points: list[TradeoffPoint]) -> None:
        path = self._path(run.model, protocol, run.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"key": key, "run": vars(run) | {"exposure": run.exposure.tolist()},
                    "tradeoff": [vars(point) for point in points]}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(document, default=json_default), encoding="utf-8")
        os.replace(tmp, path)


def json_default(value: Any) -> Any:
    """``json.dumps`` fallback for numpy scalars and arrays, paths and anything else (str)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


# -- experiment ----------------------------------------------------------------------------------
@dataclass
class ExperimentResult:
    """All runs of one protocol, with what is needed to reproduce and describe them."""

    protocol: str
    seeds: list[int]
    models: list[str]
    runs: list[ModelRun]
    dataset: dict[str, Any]  # snapshot summary
    splits: dict[int, dict[str, Any]]  # seed -> split sizes, cold items, sparse users
    config: dict[str, Any]  # TrainConfig used by trained models (seed and model vary)
    seconds: float = 0.0
    tradeoff: list[TradeoffPoint] = field(default_factory=list)  # the tail_weight sweep

    def summary(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{model: {metric: {"mean", "std", "n"}}}`` over seeds (std: sample, ddof=1)."""
        return summarise(self.runs)


def summarise(runs: Sequence[ModelRun]) -> dict[str, dict[str, dict[str, float]]]:
    """Mean and sample standard deviation (ddof=1; 0 for one seed) of every metric."""
    by_model: dict[str, dict[str, list[float]]] = {}
    for run in runs:
        values = dict(run.metrics) | {"seconds": run.seconds}
        for key, value in values.items():
            by_model.setdefault(run.model, {}).setdefault(key, []).append(float(value))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for model, metrics in by_model.items():
        out[model] = {}
        for key, values in metrics.items():
            arr = np.asarray(values, dtype=np.float64)
            std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
            out[model][key] = {"mean": float(arr.mean()), "std": std, "n": len(arr)}
    return out


def run_experiment(
    snapshot: GraphSnapshot,
    *,
    models: Sequence[str] = ALL_MODELS,
    protocol: str = "random",
    seeds: Sequence[int] = (1,),
    config: TrainConfig | None = None,
    epochs: int | None = None,
    peer_runs: Sequence[PeerRun] = (),
    name: str = "tailgraph",
    on_split: Callable[[int, InteractionSplit], None] | None = None,
    progress: bool = True,
    tail_weights: Sequence[float] = TAIL_WEIGHTS,
    cache: RunCache | None = None,
) -> ExperimentResult:
    """Fit and score every model on every seed's ``protocol`` split of ``snapshot``.

    The models in :data:`TRADEOFF_MODELS` are also scored at every ``tail_weights`` value
    (``ExperimentResult.tradeoff``; an empty sequence skips the sweep). With ``cache``, runs
    already scored with the same settings and code are read back instead of refitted.

    ``peer_runs`` (from :func:`gnn.peers.load_peer_results`) are scored on the split whose
    :func:`gnn.peers.split_name` (``name``, protocol, seed) they were computed on;
    ``on_split`` is called with each split (e.g. to export it).
    """
    unknown = [m for m in models if m not in ALL_MODELS]
    if unknown:
        raise ConfigurationError(f"unknown models {unknown}; choose from {ALL_MODELS}")
    base = config or TrainConfig()
    if epochs is not None:
        base = replace(base, epochs=epochs)
    started = time.perf_counter()
    runs: list[ModelRun] = []
    tradeoff: list[TradeoffPoint] = []
    data_digest = snapshot_fingerprint(snapshot) if cache else ""
    splits: dict[int, dict[str, Any]] = {}
    bar = tqdm(total=len(seeds) * len(models), disable=not progress, unit="model", leave=False)
    for seed in seeds:
        split = split_snapshot(snapshot, protocol, seed)
        if on_split is not None:
            on_split(seed, split)
        splits[seed] = split.summary() | {"sparse_users": len(sparse_users(split))}
        fitter = _SeedModels(snapshot, split, replace(base, seed=seed), bar.set_postfix_str)
        context = {"config": replace(base, seed=seed).to_dict(), "dataset": data_digest,
                   "split": splits[seed], "tail_weights": list(tail_weights)}
        for model in models:
            bar.set_description(f"{protocol} seed {seed} {model}")
            key = cache.key(model, protocol, seed, context) if cache else ""
            cached = cache.get(model, protocol, seed, key) if cache else None
            if cached is None:
                score_fn, seconds, extra = fitter.fit(model)
                users, topk = score_function_topk(score_fn, split, max(KS))
                scored = score_topk(users, topk, split)
                run = ModelRun(
                    model, seed, scored.metrics, scored.subset_users, scored.decile_recall,
                    scored.exposure, seconds, extra.get("best_epoch"), extra,
                )
                points = (tail_tradeoff(model, seed, score_fn, split, tail_weights)
                          if model in TRADEOFF_MODELS else [])
                if cache:
                    cache.put(key, protocol, run, points)
            else:
                run, points = cached
            runs.append(run)
            tradeoff += points
            bar.update()
        for peer in peer_runs:
            if peer.split_name == split_name(name, protocol, seed):
                users, topk = topk_from_ids(peer, snapshot, split, max(KS))
                scored = score_topk(users, topk, split)
                runs.append(ModelRun(
                    peer.model, seed, scored.metrics, scored.subset_users,
                    scored.decile_recall, scored.exposure, peer.seconds, None, peer.extra,
                ))
    bar.close()
    return ExperimentResult(
        protocol=protocol, seeds=list(seeds), models=list(models), runs=runs,
        dataset=snapshot.summary(), splits=splits, config=base.to_dict(),
        seconds=time.perf_counter() - started, tradeoff=tradeoff,
    )


def _snapshot(source: Any) -> GraphSnapshot:
    """A snapshot from a store, a snapshot, or a path to a saved snapshot (.npz)."""
    if isinstance(source, GraphSnapshot):
        return source
    if isinstance(source, (str, Path)):
        return load_snapshot(Path(source))
    from tailgraph.graph.export import export_snapshot

    return export_snapshot(source)


def split_paths(path: Path, protocols: Sequence[str], seeds: Sequence[int]) -> dict:
    """``{(protocol, seed): file}``: ``path`` itself for one split, else ``{protocol}``/``{seed}``
    placeholders filled, else ``<stem>-<protocol>-s<seed><suffix>``."""
    text = str(path)
    pairs = [(p, s) for p in protocols for s in seeds]
    if "{seed}" in text or "{protocol}" in text:
        return {(p, s): Path(text.format(protocol=p, seed=s)) for p, s in pairs}
    if len(pairs) == 1:
        return {pairs[0]: Path(path)}
    return {(p, s): Path(path).with_name(f"{Path(path).stem}-{p}-s{s}{Path(path).suffix}")
            for p, s in pairs}


def run_evaluation(
    store_or_snapshot: Any,
    *,
    models: Sequence[str] = ALL_MODELS,
    protocol: str | Sequence[str] = "random",
    seeds: Sequence[int] = (1,),
    out_dir: Path,
    peer_results: Sequence[Path] | Path | None = None,
    export_split: Path | None = None,
    epochs: int | None = None,
    progress: bool = True,
    config: TrainConfig | None = None,
    name: str = "tailgraph",
) -> Path:
    """Evaluate ``models`` on each protocol × seed and write the report into ``out_dir``.

    ``store_or_snapshot``: a GraphStore, a GraphSnapshot or a saved snapshot (.npz) path.
    ``export_split``: write every split to the peers' JSON handoff format (see
    :func:`split_paths`), named ``<name>-<protocol>-s<seed>``. ``peer_results``: peer top-K
    JSON files computed on such exported splits; each model's lists are scored on the split
    its dataset name says. Returns ``out_dir``.
    """
    from tailgraph.gnn import peers, report

    snapshot = _snapshot(store_or_snapshot)
    protocols = [protocol] if isinstance(protocol, str) else list(protocol)
    files = [peer_results] if isinstance(peer_results, (str, Path)) else list(peer_results or [])
    peer_runs = [run for path in files for run in load_peer_results(Path(path)).values()]
    expected = {split_name(name, p, s) for p in protocols for s in seeds}
    unmatched = sorted({run.split_name for run in peer_runs} - expected)
    if unmatched:
        raise ConfigurationError(
            f"peer results computed on splits {unmatched}, but this evaluation makes "
            f"{sorted(expected)}; export the split with --export-split and rerun the peers"
        )
    targets = split_paths(export_split, protocols, seeds) if export_split else {}
    results = []
    for current in protocols:

        def export(seed: int, split: InteractionSplit, protocol: str = current) -> None:
            if (protocol, seed) in targets:
                peers.export_split(
                    snapshot, split, targets[protocol, seed], split_name(name, protocol, seed)
                )

        results.append(run_experiment(
            snapshot, models=models, protocol=current, seeds=seeds, config=config,
            epochs=epochs, peer_runs=peer_runs, name=name, on_split=export, progress=progress,
        ))
    return report.write_report(results, Path(out_dir))
