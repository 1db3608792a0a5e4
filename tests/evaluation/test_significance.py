"""Per-user scores, recall by user activity, and the paired test of TailGNN against the best
other model per metric."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tailgraph.evaluation.report import activity_means, paired_test, significance
from tailgraph.evaluation.results import ExperimentResult, ModelRun
from tailgraph.evaluation.scoring import PAIRED, activity_recall, score_topk
from tests.evaluation.helpers import tiny


def test_per_user_values_average_to_the_reported_metrics() -> None:
    _, split = tiny()
    topk = np.tile(np.array([[2, 4, 0, 1, 3]]), (2, 4))  # 20 columns, items repeat
    scored = score_topk(np.array([0, 1]), topk, split, ks=(10, 20))
    assert scored.per_user["users"].tolist() == [0, 1]
    for key in ("ndcg@20", "recall@20"):
        assert np.mean(scored.per_user[key]) == pytest.approx(scored.metrics[key])
    tail = scored.per_user["tailrecall@20"]
    assert np.nanmean(tail) == pytest.approx(scored.metrics["tailrecall@20"])
    # both users have 1 training interaction: all in the sparse bucket, none elsewhere
    assert scored.activity_recall["<=5"] == pytest.approx(scored.metrics["recall@20"])
    assert scored.activity_recall[">100"] is None


def test_activity_buckets_by_training_interactions() -> None:
    recall = np.array([1.0, 0.0, 0.5, 0.25, 0.75])
    degree = np.array([5, 6, 20, 21, 101])
    buckets = activity_recall(recall, degree)
    assert buckets == {"<=5": 1.0, "6-20": 0.25, "21-50": 0.25, "51-100": None, ">100": 0.75}


def _run(model: str, seed: int, users: list[int], values: dict[str, list[float]]) -> ModelRun:
    metrics = {key: float(np.nanmean(v)) for key, v in values.items()}
    per_user = {"users": np.array(users), **{k: np.array(v) for k, v in values.items()}}
    return ModelRun(model, seed, metrics, {}, [], np.zeros(3, np.int64), 0.0, per_user=per_user)


def _result(runs: list[ModelRun]) -> ExperimentResult:
    return ExperimentResult("random", [1, 2], [], runs, {}, {}, {})


def test_paired_test_averages_each_users_difference_over_seeds() -> None:
    rng = np.random.default_rng(0)
    a1, a2, b1, b2 = (rng.random(30) for _ in range(4))
    values = lambda x: {key: x.tolist() for key in PAIRED}  # noqa: E731
    runs = [
        _run("tailgnn", 1, list(range(30)), values(a1)),
        _run("ease", 1, list(range(30)), values(b1)),
        _run("tailgnn", 2, list(range(30)), values(a2)),
        _run("ease", 2, list(range(30)), values(b2)),
    ]
    test = paired_test(_result(runs), "ndcg@20", "tailgnn", "ease")
    expected = stats.ttest_rel((a1 + a2) / 2, (b1 + b2) / 2).pvalue
    assert test["p_value"] == pytest.approx(expected)
    assert test["n_users"] == 30 and test["against"] == "ease"
    assert test["mean_difference"] == pytest.approx(np.mean((a1 + a2 - b1 - b2) / 2))


def test_undefined_users_are_left_out_and_a_clear_lead_is_significant() -> None:
    base = np.linspace(0.1, 0.5, 40)
    better = base + 0.1 + 0.01 * np.sin(np.arange(40))
    tail = base.copy()
    tail[:10] = np.nan  # users without tail test items
    runs = [
        _run(
            "tailgnn",
            1,
            list(range(40)),
            {"ndcg@20": better.tolist(), "tailrecall@20": tail.tolist()},
        ),  # noqa: E501
        _run(
            "ials", 1, list(range(40)), {"ndcg@20": base.tolist(), "tailrecall@20": tail.tolist()}
        ),  # noqa: E501
    ]
    result = ExperimentResult("random", [1], [], runs, {}, {}, {})
    assert paired_test(result, "ndcg@20", "tailgnn", "ials")["p_value"] < 1e-6
    same = paired_test(result, "tailrecall@20", "tailgnn", "ials")
    assert same["n_users"] == 30 and same["p_value"] == 1.0 and same["mean_difference"] == 0.0


def test_significance_picks_the_best_model_that_is_not_tailgnn_nor_an_ablation() -> None:
    users = list(range(5))
    runs = [
        _run("tailgnn", 1, users, {"ndcg@20": [0.5, 0.4, 0.3, 0.6, 0.5]}),
        _run("tailgnn-no-kg", 1, users, {"ndcg@20": [0.9] * 5}),
        _run("ease", 1, users, {"ndcg@20": [0.6, 0.5, 0.3, 0.6, 0.7]}),
        _run("mostpop", 1, users, {"ndcg@20": [0.1] * 5}),
    ]
    result = ExperimentResult("random", [1], [], runs, {}, {}, {})
    tests = significance(result)
    assert list(tests) == ["ndcg@20"] and tests["ndcg@20"]["against"] == "ease"
    assert 0 < tests["ndcg@20"]["p_value"] < 1
    assert "test" in tests["ndcg@20"]


def test_activity_means_skip_empty_buckets() -> None:
    run = _run("ease", 1, [0], {"recall@20": [1.0]})
    run.activity_recall = {"<=5": 0.5, "6-20": None, "21-50": None, "51-100": None, ">100": None}
    other = _run("ease", 2, [0], {"recall@20": [1.0]})
    other.activity_recall = {"<=5": 0.3, "6-20": 0.2, "21-50": None, "51-100": None, ">100": None}
    means = activity_means(ExperimentResult("random", [1, 2], [], [run, other], {}, {}, {}))
    assert means["ease"]["<=5"] == pytest.approx(0.4) and means["ease"]["6-20"] == 0.2
    assert means["ease"][">100"] is None
