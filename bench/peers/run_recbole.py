"""Train RecBole 1.2.1 peers on an exported split and dump their per-user top-K lists.

Runs inside ``bench/peers/.venv`` (see setup.sh), never in TailGraph's own
environment. Each model is trained on ``<name>.train.inter``, early-stopped on
``<name>.valid.inter`` (NDCG@20) and tested on ``<name>.test.inter``; then, for
every test user, the whole catalogue is ranked with the user's train+valid items
removed and the top K item tokens are written out, so TailGraph's metrics code
scores peers and TailGraph models with one evaluator. RecBole's own test metrics
are kept alongside for cross-checking.

    OMP_NUM_THREADS=1 nice -n 10 bench/peers/.venv/bin/python bench/peers/run_recbole.py \\
        --data-dir bench/peers/work/data --name ml100k-demo --models LightGCN KGAT KGIN \\
        --seed 42 --epochs 5 --topk 100 --out bench/peers/work/results.json
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from recbole_shims import install_shims

HERE = Path(__file__).resolve().parent
CONFIG_DIR = HERE / "configs"
PARTS = ("train", "valid", "test")


class _PlainFormatter(logging.Formatter):
    """Drops the ANSI colour codes RecBole puts inside its log messages."""

    _ansi = re.compile(r"\x1b\[[0-9;]*m")

    def format(self, record: logging.LogRecord) -> str:
        return self._ansi.sub("", super().format(record))


def _jsonable(value: Any) -> Any:
    """RecBole config values made JSON-safe (devices, enums and the like become strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _timed(fn: Callable[..., Any], sink: list[float]) -> Callable[..., Any]:
    """Wrap ``fn`` so each call's wall time is appended to ``sink``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            sink.append(time.perf_counter() - start)

    return wrapper


def _count_rows(path: Path) -> int:
    """Data rows of an atomic file (all lines but the header)."""
    with path.open(encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def full_ranking_topk(
    model: torch.nn.Module, train_ds: Any, valid_ds: Any, test_ds: Any, k: int, batch_cells: int
) -> dict[str, list[str]]:
    """Top-``k`` item tokens per test user over the full catalogue, train+valid items removed.

    Scores come from ``model.full_sort_predict`` (what RecBole's full-ranking
    evaluation uses); internal ids are mapped back with ``dataset.id2token``.
    """
    from recbole.data.interaction import Interaction

    uid_field, iid_field = test_ds.uid_field, test_ds.iid_field
    n_items = test_ds.item_num
    device = next(model.parameters()).device
    seen: dict[int, list[int]] = {}
    for ds in (train_ds, valid_ds):
        users = ds.inter_feat[uid_field].tolist()
        items = ds.inter_feat[iid_field].tolist()
        for u, i in zip(users, items, strict=True):
            seen.setdefault(u, []).append(i)
    test_users = torch.unique(test_ds.inter_feat[uid_field]).tolist()
    k_eff = min(k, n_items - 1)  # id 0 is RecBole's [PAD] item
    per_batch = max(1, batch_cells // n_items)
    out: dict[str, list[str]] = {}
    model.eval()
    with torch.no_grad():
        for start in range(0, len(test_users), per_batch):
            batch = test_users[start : start + per_batch]
            inter = Interaction({uid_field: torch.tensor(batch, dtype=torch.int64)}).to(device)
            scores = model.full_sort_predict(inter).view(len(batch), n_items).clone()
            scores[:, 0] = -math.inf
            rows = [r for r, u in enumerate(batch) for _ in seen.get(u, ())]
            cols = [i for u in batch for i in seen.get(u, ())]
            if rows:
                scores[rows, cols] = -math.inf
            values, index = torch.topk(scores, k_eff, dim=1)
            index, values = index.cpu().numpy(), values.cpu().numpy()
            user_tokens = test_ds.id2token(uid_field, batch)
            for r, user in enumerate(user_tokens):
                keep = index[r][values[r] > -math.inf]
                out[str(user)] = [str(t) for t in test_ds.id2token(iid_field, keep)]
    return out


def topk_check(topk: dict[str, list[str]], test_ds: Any, k: int) -> dict[str, float]:
    """Recall@k and NDCG@k of our top-K lists, defined as RecBole defines them.

    Must agree with RecBole's own test numbers; a gap means the id mapping or the
    train+valid masking differs from RecBole's evaluation.
    """
    uid_field, iid_field = test_ds.uid_field, test_ds.iid_field
    positives: dict[str, set[str]] = {}
    users = test_ds.id2token(uid_field, test_ds.inter_feat[uid_field].numpy())
    items = test_ds.id2token(iid_field, test_ds.inter_feat[iid_field].numpy())
    for u, i in zip(users, items, strict=True):
        positives.setdefault(str(u), set()).add(str(i))
    recall = ndcg = 0.0
    for user, pos in positives.items():
        ranked = topk.get(user, [])[:k]
        hits = [r for r, item in enumerate(ranked) if item in pos]
        recall += len(hits) / len(pos)
        dcg = sum(1.0 / math.log2(r + 2) for r in hits)
        idcg = sum(1.0 / math.log2(r + 2) for r in range(min(len(pos), k)))
        ndcg += dcg / idcg
    n = len(positives)
    return {f"recall@{k}": recall / n, f"ndcg@{k}": ndcg / n}


def run_model(model_name: str, args: argparse.Namespace, gpu_id: str) -> dict[str, Any]:
    """Train, early-stop and test one RecBole model; return its results entry."""
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    started = time.perf_counter()
    overrides = {
        "data_path": str(args.data_dir.resolve()),
        "benchmark_filename": list(PARTS),
        "checkpoint_dir": str((args.work_dir / f"{args.name}-seed{args.seed}").resolve()),
        "seed": args.seed,
        "epochs": args.epochs,
        "gpu_id": gpu_id,
        "worker": 0,
    }
    if args.stopping_step is not None:
        overrides["stopping_step"] = args.stopping_step
    if args.learning_rate is not None:
        overrides["learning_rate"] = args.learning_rate
    config_files = [str(CONFIG_DIR / "base.yaml")]
    model_yaml = CONFIG_DIR / f"{model_name}.yaml"
    if model_yaml.exists():
        config_files.append(str(model_yaml))
    argv, sys.argv = sys.argv, sys.argv[:1]  # RecBole's Config also parses sys.argv
    try:
        config = Config(
            model=model_name,
            dataset=args.name,
            config_file_list=config_files,
            config_dict=overrides,
        )
    finally:
        sys.argv = argv
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train_data, valid_data, test_data = data_preparation(config, dataset)
    train_ds, valid_ds, test_ds = train_data._dataset, valid_data._dataset, test_data._dataset
    data_dir = args.data_dir / args.name
    for part, ds in zip(PARTS, (train_ds, valid_ds, test_ds), strict=True):
        expected = _count_rows(data_dir / f"{args.name}.{part}.inter")
        if len(ds) != expected:
            raise RuntimeError(f"RecBole kept {len(ds)} of {expected} {part} rows; split altered")

    init_seed(config["seed"] + config["local_rank"], config["reproducibility"])
    model = get_model(config["model"])(config, train_ds).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    train_times: list[float] = []
    valid_times: list[float] = []
    trainer._train_epoch = _timed(trainer._train_epoch, train_times)
    trainer._valid_epoch = _timed(trainer._valid_epoch, valid_times)
    setup_seconds = time.perf_counter() - started

    best_valid_score, best_valid_result = trainer.fit(
        train_data, valid_data, saved=True, show_progress=False
    )
    # RecBole's evaluate(load_best_model=True) calls torch.load() without
    # weights_only=False, which torch >= 2.6 refuses for its checkpoint (it holds a
    # pickled Config). The file is the one this process just wrote, so load it here.
    checkpoint = torch.load(
        trainer.saved_model_file, map_location=config["device"], weights_only=False
    )
    model.load_state_dict(checkpoint["state_dict"])
    model.load_other_parameter(checkpoint.get("other_parameter"))
    test_start = time.perf_counter()
    test_result = trainer.evaluate(test_data, load_best_model=False, show_progress=False)
    test_seconds = time.perf_counter() - test_start

    topk_start = time.perf_counter()
    topk = full_ranking_topk(
        model, train_ds, valid_ds, test_ds, args.topk, int(config["eval_batch_size"])
    )
    topk_seconds = time.perf_counter() - topk_start
    check = topk_check(topk, test_ds, 20)
    parts = zip(PARTS, (train_ds, valid_ds, test_ds), strict=True)
    stats = {
        "users": int(dataset.user_num - 1),
        "items": int(dataset.item_num - 1),
        **{f"{p}_interactions": len(ds) for p, ds in parts},
        "test_users": len(topk),
    }
    if hasattr(dataset, "entity_num"):
        stats.update(entities=int(dataset.entity_num - 1), relations=int(dataset.relation_num - 1))
    best_epoch = max(0, len(train_times) - 1 - trainer.cur_step) if train_times else None
    return {
        "topk": topk,
        "recbole_metrics": {k: float(v) for k, v in test_result.items()},
        "recbole_valid_metrics": {k: float(v) for k, v in (best_valid_result or {}).items()},
        "recbole_best_valid_score": float(best_valid_score),
        "topk_check": check,
        "seconds": time.perf_counter() - started,
        "timing": {
            "setup_seconds": setup_seconds,
            "epochs_run": len(train_times),
            "best_epoch": best_epoch,
            "train_seconds_per_epoch": sum(train_times) / max(1, len(train_times)),
            "valid_seconds_per_eval": sum(valid_times) / max(1, len(valid_times)),
            "train_epoch_seconds": train_times,
            "test_seconds": test_seconds,
            "topk_seconds": topk_seconds,
            "device": str(config["device"]),
            "torch_threads": torch.get_num_threads(),
        },
        "dataset": stats,
        "config": _jsonable(dict(config.final_config_dict)),
    }


def _environment(shims: list[str]) -> dict[str, Any]:
    """Versions that decide the peer numbers, stored with every result."""
    from importlib.metadata import version

    packages = ("recbole", "torch", "numpy", "scipy", "pandas", "scikit-learn")
    return {
        "python": sys.version.split()[0],
        **{p: version(p) for p in packages},
        "shims": shims,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line of the runner."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="export_split.py --out-dir")
    parser.add_argument("--name", required=True, help="dataset name (folder under --data-dir)")
    parser.add_argument("--models", nargs="+", default=["LightGCN", "KGAT", "KGIN"])
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--stopping-step", type=int, default=None, help="default: base.yaml")
    parser.add_argument("--learning-rate", type=float, default=None, help="default: base.yaml")
    parser.add_argument("--topk", type=int, default=100)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--work-dir", type=Path, default=HERE / "work" / "runs")
    parser.add_argument("--out", type=Path, required=True, help="results JSON")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every requested model and write the results JSON after each one."""
    args = parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PlainFormatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "auto":
        gpu_id = "0" if torch.cuda.is_available() else ""
    else:
        gpu_id = "0" if args.device == "cuda" else ""
    shims = install_shims()
    logging.info("stand-ins registered for: %s", ", ".join(shims) or "nothing")
    environment = _environment(shims)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for model_name in args.models:
        logging.info("=== %s on %s (seed %d)", model_name, args.name, args.seed)
        results[model_name] = run_model(model_name, args, gpu_id)
        entry = results[model_name]
        entry["environment"] = environment
        logging.info(
            "=== %s done in %.1fs: %d epochs, %.2fs/epoch train; RecBole recall@20=%.4f "
            "ndcg@20=%.4f; top-K check recall@20=%.4f ndcg@20=%.4f",
            model_name,
            entry["seconds"],
            entry["timing"]["epochs_run"],
            entry["timing"]["train_seconds_per_epoch"],
            entry["recbole_metrics"].get("recall@20", float("nan")),
            entry["recbole_metrics"].get("ndcg@20", float("nan")),
            entry["topk_check"]["recall@20"],
            entry["topk_check"]["ndcg@20"],
        )
        args.out.write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
