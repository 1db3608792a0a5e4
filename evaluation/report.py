"""Write an evaluation report directory from :class:`.results.ExperimentResult` objects.

Contents of ``out_dir``::

    report.md                       one table per protocol (mean ± std over seeds), paired
                                    tests of TailGNN against the best other model, recall by
                                    user activity, notes
    results.json                    every number: per-run metrics, summaries, significance,
                                    recall by popularity decile and by user activity, config,
                                    dataset and split statistics, seeds, library versions
    recall_by_decile-<protocol>.png recall@20 by item-popularity decile, one line per model
    lorenz-<protocol>.png           Lorenz curve of top-20 exposure over the catalogue
    tail_tradeoff-<protocol>.png    the tail_weight sweep: NDCG@20 against tail recall@20,
                                    coverage@20 (and cold-item recall@20), one line per model
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from tailgraph.evaluation.cache import json_default
from tailgraph.evaluation.results import ExperimentResult, TradeoffPoint, summarise
from tailgraph.evaluation.scoring import ACTIVITY_BUCKETS, DECILE_K, N_DECILES, PAIRED
from tailgraph.evaluation.tradeoff import TAIL_POOL
from tailgraph.gnn import metrics as M

# (metric key, column title); best mean per column in bold (Gini: lowest)
COLUMNS = (
    ("recall@20", "Recall@20"),
    ("ndcg@20", "NDCG@20"),
    ("recall@10", "Recall@10"),
    ("ndcg@10", "NDCG@10"),
    ("headrecall@20", "Head recall@20"),
    ("tailrecall@20", "Tail recall@20"),
    ("itemcoverage@20", "Coverage@20"),
    ("giniindex@20", "Gini@20"),
    ("cold/recall@20", "Cold-item recall@20"),
    ("sparse/recall@20", "Sparse-user recall@20"),
    ("seconds", "Fit s"),
)
PROTOCOL_TEXT = {
    "random": "random per-user 80/10/10 split; validation NDCG@20 early stopping / tuning",
    "temporal": "per-user temporal 80/10/10 split (oldest to train, newest to test)",
    "cold": "a seeded 10% of items withheld from training (their interactions split between "
    "valid and test by user halves); they can be ranked only from text and KG",
    "global_temporal": "one global timestamp cut: the oldest 80% of all interactions train, the "
    "next 10% validate, the newest 10% test; only users with a training interaction are "
    "evaluated, items first seen after the cut are cold",
}
TARGET = "tailgnn"  # the model significance tests are about
TEST_NAME = "paired t-test across users (two-sided) of the per-user difference averaged over seeds"
PACKAGES = ("tailgraph", "numpy", "scipy", "torch", "torch_geometric", "transformers", "matplotlib")


def versions() -> dict[str, str]:
    """Python and the versions of the packages the numbers depend on."""
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _smaller_is_better(key: str) -> bool:
    name = key.split("/")[-1].split("@")[0]
    return name == "seconds" or (name in M.REGISTRY and M.get(name).smaller_is_better)


def format_table(result: ExperimentResult) -> str:
    """Markdown table: one row per model, ``mean ± std`` per column, best mean in bold."""
    summary = result.summary()
    models = list(dict.fromkeys(run.model for run in result.runs))
    best: dict[str, float] = {}
    for key, _ in COLUMNS:
        values = [summary[m][key]["mean"] for m in models if key in summary[m]]
        if values and key != "seconds":
            best[key] = min(values) if _smaller_is_better(key) else max(values)
    lines = [
        "| Model | " + " | ".join(title for _, title in COLUMNS) + " |",
        "|---|" + "---:|" * len(COLUMNS),
    ]
    for model in models:
        cells = []
        for key, _ in COLUMNS:
            stat = summary[model].get(key)
            if stat is None:
                cells.append("—")
                continue
            digits = 1 if key == "seconds" else 4
            text = f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"
            cells.append(f"**{text}**" if best.get(key) == stat["mean"] else text)
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


TRADEOFF_COLUMNS = (
    ("recall@20", "Recall@20"),
    ("ndcg@20", "NDCG@20"),
    ("tailrecall@20", "Tail recall@20"),
    ("itemcoverage@20", "Coverage@20"),
    ("giniindex@20", "Gini@20"),
    ("averagepopularity@20", "Avg popularity@20"),
    ("cold/recall@20", "Cold-item recall@20"),
)


def tradeoff_means(points: list[TradeoffPoint]) -> dict[str, dict[float, dict[str, float]]]:
    """``{model: {tail_weight: {metric: mean over seeds}}}`` of the sweep."""
    grouped: dict[str, dict[float, dict[str, list[float]]]] = {}
    for point in points:
        cell = grouped.setdefault(point.model, {}).setdefault(point.tail_weight, {})
        for key, value in point.metrics.items():
            cell.setdefault(key, []).append(value)
    return {
        model: {w: {k: float(np.mean(v)) for k, v in cell.items()} for w, cell in weights.items()}
        for model, weights in grouped.items()
    }


def format_tradeoff(result: ExperimentResult) -> str:
    """Markdown table of the sweep: one row per (model, tail_weight), NDCG change vs weight 0."""
    means = tradeoff_means(result.tradeoff)
    keys = [
        k
        for k, _ in TRADEOFF_COLUMNS
        if any(k in m for weights in means.values() for m in weights.values())
    ]
    titles = dict(TRADEOFF_COLUMNS)
    lines = [
        "| Model | tail_weight | " + " | ".join(titles[k] for k in keys) + " | NDCG@20 vs 0 |",
        "|---|---:|" + "---:|" * (len(keys) + 1),
    ]
    for model, weights in means.items():
        base = weights.get(0.0, {}).get("ndcg@20")
        for weight in sorted(weights):
            row = weights[weight]
            cells = [f"{row[k]:.4f}" if k in row else "—" for k in keys]
            change = (
                f"{100 * (row['ndcg@20'] / base - 1):+.1f}%" if base and "ndcg@20" in row else "—"
            )
            lines.append(f"| {model} | {weight:g} | " + " | ".join(cells) + f" | {change} |")
    return "\n".join(lines)


def plot_tradeoff(result: ExperimentResult, out_dir: Path) -> str | None:
    """NDCG@20 against tail recall@20 and coverage@20 along the sweep; the file name or None."""
    if not result.tradeoff:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = f"tail_tradeoff-{result.protocol}.png"
    means = tradeoff_means(result.tradeoff)
    keys = ["tailrecall@20", "itemcoverage@20"]
    if any("cold/recall@20" in row for weights in means.values() for row in weights.values()):
        keys.append("cold/recall@20")
    fig, axes = plt.subplots(1, len(keys), figsize=(5.5 * len(keys), 4.5), sharey=True)
    for model, weights in means.items():
        order = sorted(weights)
        ndcg = [weights[w].get("ndcg@20", np.nan) for w in order]
        for ax, key in zip(axes, keys, strict=True):
            xs = [weights[w].get(key, np.nan) for w in order]
            ax.plot(xs, ndcg, marker="o", label=model)
            for x, y, w in zip(xs, ndcg, order, strict=True):
                ax.annotate(f"{w:g}", (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
    axes[0].set(xlabel="tail-item recall@20", ylabel="NDCG@20")
    axes[1].set(xlabel="item coverage@20")
    if len(keys) > 2:
        axes[2].set(xlabel="cold-item recall@20 (items without training interactions)")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"tail_weight sweep (points labelled by weight) — {result.protocol}, "
        f"mean over seeds {result.seeds}"
    )
    fig.tight_layout()
    fig.savefig(out_dir / name, dpi=120)
    plt.close(fig)
    return name


def _is_target(model: str) -> bool:
    """TailGNN or one of its ablations (never its own comparison)."""
    return model == TARGET or model.startswith(TARGET + "-")


def paired_test(result: ExperimentResult, metric: str, model: str, against: str) -> dict:
    """Paired t-test across users of ``model`` vs ``against`` on a per-user ``metric``.

    Per seed, users are matched on their index; each user's difference is averaged over the
    seeds where both models have a value (NaN: the metric is undefined for that user, e.g. tail
    recall without tail test items), and the mean difference is tested against 0.
    """
    differences: dict[int, list[float]] = {}
    for seed in result.seeds:
        runs = {
            run.model: run
            for run in result.runs
            if run.seed == seed and run.model in (model, against) and run.per_user
        }
        if len(runs) < 2:
            continue
        a, b = runs[model].per_user, runs[against].per_user
        users_a, users_b = np.asarray(a["users"]), np.asarray(b["users"])
        common, ia, ib = np.intersect1d(users_a, users_b, return_indices=True)
        delta = np.asarray(a[metric], dtype=float)[ia] - np.asarray(b[metric], dtype=float)[ib]
        for user, value in zip(common.tolist(), delta.tolist(), strict=True):
            if not np.isnan(value):
                differences.setdefault(user, []).append(value)
    per_user = np.asarray([np.mean(v) for v in differences.values()], dtype=np.float64)
    out: dict[str, Any] = {"against": against, "test": TEST_NAME, "n_users": len(per_user)}
    out["mean_difference"] = float(per_user.mean()) if len(per_user) else None
    if len(per_user) < 2 or not per_user.std() > 0:
        out["p_value"] = 1.0 if len(per_user) and not per_user.any() else None
        return out
    out["p_value"] = float(stats.ttest_1samp(per_user, 0.0).pvalue)
    return out


def significance(result: ExperimentResult) -> dict[str, dict[str, Any]]:
    """``{metric: {"against", "p_value", "test", ...}}``: TailGNN against the model (not TailGNN
    nor an ablation) with the best mean of each :data:`PAIRED` metric."""
    summary = result.summary()
    if TARGET not in summary:
        return {}
    out = {}
    for metric in PAIRED:
        others = {
            m: stat[metric]["mean"]
            for m, stat in summary.items()
            if not _is_target(m) and metric in stat
        }
        if others:
            best = max(others, key=others.__getitem__)
            out[metric] = paired_test(result, metric, TARGET, best)
    return out


def activity_means(result: ExperimentResult) -> dict[str, dict[str, float | None]]:
    """``{model: {bucket: mean recall@20 over seeds}}`` by user activity (None: no users)."""
    out: dict[str, dict[str, float | None]] = {}
    for model in dict.fromkeys(run.model for run in result.runs):
        runs = [run for run in result.runs if run.model == model and run.activity_recall]
        out[model] = {}
        for label, _ in ACTIVITY_BUCKETS:
            values = [run.activity_recall[label] for run in runs]
            values = [v for v in values if v is not None]
            out[model][label] = float(np.mean(values)) if values else None
    return out


def format_activity(result: ExperimentResult) -> str:
    """Markdown table of recall@20 by user-activity bucket (training interactions)."""
    means = activity_means(result)
    labels = [label for label, _ in ACTIVITY_BUCKETS]
    lines = [
        "| Model | " + " | ".join(f"{label} train" for label in labels) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for model, row in means.items():
        cells = ["—" if row.get(label) is None else f"{row[label]:.4f}" for label in labels]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_significance(result: ExperimentResult) -> str:
    """One line per paired metric: TailGNN's mean difference against the best other model."""
    lines = []
    for metric, test in significance(result).items():
        p = test["p_value"]
        diff = test["mean_difference"]
        lines.append(
            f"- {metric}: against `{test['against']}`, mean per-user difference "
            f"{'—' if diff is None else f'{diff:+.4f}'}, p = "
            f"{'—' if p is None else f'{p:.3g}'} ({test['n_users']} users)"
        )
    return "\n".join(lines)


def mean_deciles(result: ExperimentResult) -> dict[str, list[float | None]]:
    """``{model: [mean recall@20 over seeds per popularity decile]}``, least popular first; a
    decile no test pair fell into on any seed (tiny data) is None, not a mean of nothing."""
    out: dict[str, list[float | None]] = {}
    for model in dict.fromkeys(run.model for run in result.runs):
        runs = [run for run in result.runs if run.model == model]
        out[model] = []
        for decile in range(N_DECILES):
            values = [run.decile_recall[decile] for run in runs]
            values = [v for v in values if v is not None]
            out[model].append(float(np.mean(values)) if values else None)
    return out


def lorenz(exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cumulative share of items, cumulative share of exposure), items sorted by exposure."""
    counts = np.sort(np.asarray(exposure, dtype=np.float64))
    y = np.r_[0.0, np.cumsum(counts) / max(counts.sum(), 1.0)]
    return np.linspace(0.0, 1.0, len(counts) + 1), y


def plot(result: ExperimentResult, out_dir: Path) -> list[str]:
    """Write the decile-recall and Lorenz plots for ``result``; return their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"recall_by_decile-{result.protocol}.png", f"lorenz-{result.protocol}.png"]
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for model, values in mean_deciles(result).items():
        points = [np.nan if v is None else v for v in values]  # a gap where a decile is empty
        ax.plot(range(1, N_DECILES + 1), points, marker="o", label=model)
    ax.set(
        xlabel="item-popularity decile (1 = least popular in training)",
        ylabel=f"recall@{DECILE_K} (test pairs)",
        xticks=range(1, N_DECILES + 1),
        title=f"Recall@{DECILE_K} by popularity decile — {result.protocol} "
        f"(mean over seeds {result.seeds})",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / names[0], dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5.5, 5.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="equal exposure")
    for model in dict.fromkeys(run.model for run in result.runs):
        exposure = sum(run.exposure for run in result.runs if run.model == model)
        ax.plot(*lorenz(exposure), label=model)
    ax.set(
        xlabel="share of items (least exposed first)",
        ylabel=f"share of top-{DECILE_K} exposure",
        title=f"Lorenz curve of exposure — {result.protocol}",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / names[1], dpi=120)
    plt.close(fig)
    tradeoff = plot_tradeoff(result, out_dir)
    return names + ([tradeoff] if tradeoff else [])


def _run_json(run: Any) -> dict[str, Any]:
    return {
        "model": run.model,
        "seed": run.seed,
        "metrics": run.metrics,
        "subset_users": run.subset_users,
        "recall_by_decile": run.decile_recall,
        "seconds": run.seconds,
        "best_epoch": run.best_epoch,
        "extra": run.extra,
        "exposure@20": run.exposure.tolist(),
        "recall_by_activity": run.activity_recall,
    }


def results_document(results: list[ExperimentResult]) -> dict[str, Any]:
    """Everything in ``results.json``."""
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": versions(),
        "dataset": results[0].dataset if results else {},
        "protocols": {
            r.protocol: {
                "description": PROTOCOL_TEXT.get(r.protocol, ""),
                "seeds": r.seeds,
                "models": r.models,
                "config": r.config,
                "splits": r.splits,
                "seconds": r.seconds,
                "summary": summarise(r.runs),
                "significance": significance(r),
                "recall_by_decile": mean_deciles(r),
                "recall_by_activity": activity_means(r),
                "runs": [_run_json(run) for run in r.runs],
                "tail_tradeoff": {
                    "weights_mean": tradeoff_means(r.tradeoff),
                    "points": [vars(point) for point in r.tradeoff],
                },
            }
            for r in results
        },
    }


def _choices(result: ExperimentResult) -> str:
    """One line: what validation chose per seed (neighbours, α, best epoch)."""
    parts = []
    for model in dict.fromkeys(run.model for run in result.runs):
        runs = [run for run in result.runs if run.model == model]
        for key, label in (
            ("neighbours", "neighbours"),
            ("alpha", "α"),
            ("best_epoch", "best epoch"),
        ):
            values = [run.extra[key] for run in runs if key in run.extra]
            if values:
                parts.append(f"{model} {label} {values}")
    return "Chosen on validation, per seed: " + "; ".join(parts) + "." if parts else ""


def markdown(results: list[ExperimentResult], plots: dict[str, list[str]]) -> str:
    """The text of ``report.md``."""
    data = results[0].dataset if results else {}
    out = ["# TailGraph evaluation", ""]
    sizes = {k: v for k, v in data.items() if k not in ("name", "absent", "skipped")}
    named = f"`{data['name']}`: " if data.get("name") else ""
    out.append("Dataset " + named + ", ".join(f"{v} {k}" for k, v in sizes.items()) + ".")
    if data.get("absent"):
        out.append(f"Absent from the data: {', '.join(data['absent'])}.")
    for model, why in data.get("skipped", {}).items():
        out.append(f"Not run: `{model}` ({why}).")
    out.append("")
    for r in results:
        split = next(iter(r.splits.values()), {})
        runs_with_users = [run.subset_users for run in r.runs]
        cold_users = max((u.get("cold", 0) for u in runs_with_users), default=0)
        sparse = max((u.get("sparse", 0) for u in runs_with_users), default=0)
        out += [
            f"## Protocol `{r.protocol}`",
            "",
            f"{PROTOCOL_TEXT.get(r.protocol, '')}. Seeds {r.seeds} (each seeds the split and "
            f"the training); mean ± sample std (ddof=1) over seeds. Split of seed "
            f"{r.seeds[0]}: {split.get('train')} train / {split.get('valid')} valid / "
            f"{split.get('test')} test pairs, {split.get('cold_items')} cold items "
            f"(test users with cold items: {cold_users}), sparse test users (<= 5 train "
            f"interactions): {sparse}. Wall time {r.seconds:.0f} s.",
            "",
            format_table(r),
            "",
            _choices(r),
            "",
            f"TailGNN against the best other model per metric ({TEST_NAME}):",
            "",
            format_significance(r),
            "",
            f"Recall@{DECILE_K} by user activity (training interactions; mean over seeds):",
            "",
            format_activity(r),
            "",
        ]
        out += [f"![{name}]({name})" for name in plots.get(r.protocol, [])] + [""]
        if r.tradeoff:
            out += [
                f"### `tail_weight` trade-off — `{r.protocol}`",
                "",
                "The same fitted models re-ranked at inference by the service's knob: per user, "
                f"the {TAIL_POOL} best-scored items are the candidates (the user's train and "
                "valid items among them are removed afterwards, as everywhere), each scored "
                "score − tail_weight × (max − min candidate score) × log(1+pop)/log(1+max pop); "
                "the other items stay below them. Mean over seeds; last column: NDCG@20 change "
                "against the model's own weight 0.",
                "",
                format_tradeoff(r),
                "",
            ]
    out += [
        "## How to read this",
        "",
        "- Every list is a full-catalogue ranking (never sampled) with the user's train and "
        "valid items removed; peers (`peer:*`) are scored from their own top-K lists with the "
        "same code and the same exclusions.",
        "- *Head* items are the 20% most-trained items, *tail* items the other 80%; head / tail "
        "recall average over users with head / tail test items.",
        "- Coverage: distinct items in all top-20 lists / catalogue. Gini: inequality of "
        "top-20 exposure over all items (0 = equal, 1 = one item gets everything).",
        "- Cold-item recall: test pairs whose item had no training interaction (protocol "
        "`cold` only). Sparse-user recall: users with <= 5 training interactions (— when "
        "there are none, as in ml-100k where every user has >= 20 ratings).",
        "- Recall by decile: items in 10 equal-size groups by training popularity; per group, "
        "test pairs whose item is in the user's top 20 / test pairs (micro-averaged; null in "
        "results.json and a gap in the plot for a decile no test pair fell into).",
        "- Fit s: fitting wall time (training with early stopping, or tuning on validation; "
        "`fusion` includes the LightGCN it reuses).",
        "- Models: `mostpop` (training popularity), `itemknn` (item cosine co-occurrence, "
        "neighbours tuned on validation), `bpr_mf`, `lightgcn`, `text_only` (BERT cosine of "
        "the user's mean training-item text (+ profile text) and item text), `fusion` "
        "(α·z(text) + (1−α)·z(LightGCN), α tuned on validation), `tailgnn` (TailGraph: "
        "LightGCN for items with training interactions, mixed (λ, tuned on validation) with a "
        "BERT text + KG content tower trained against LightGCN's frozen users; items without "
        "interactions borrow the LightGCN vectors of their nearest items in text and KG links, "
        "length restored and scaled by s, tuned with λ).",
        "- Peers: `ease` (closed-form linear autoencoder, λ tuned on validation), `rp3beta` "
        "(popularity-discounted 3-step random walk, α and β tuned), `ials` (implicit ALS, "
        "the `implicit` library, regularisation and confidence tuned), `xsimgcl` (LightGCN "
        "with per-layer uniform noise and cross-layer InfoNCE, the paper's settings). "
        "Ablations: `tailgnn-no-kg`, `tailgnn-shuffled-kg` (each item's KG links given to "
        "another item), `tailgnn-no-text`, `tailgnn-shuffled-text` (text vectors permuted "
        "among nodes of a type).",
    ]
    return "\n".join(out) + "\n"


def write_report(results: list[ExperimentResult], out_dir: Path) -> Path:
    """Write ``report.md``, ``results.json`` and the plots into ``out_dir``; return it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plots = {r.protocol: plot(r, out_dir) for r in results}
    document = results_document(results)
    (out_dir / "results.json").write_text(json.dumps(document, indent=1, default=json_default))
    (out_dir / "report.md").write_text(markdown(results, plots))
    return out_dir
