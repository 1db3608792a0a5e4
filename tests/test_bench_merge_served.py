"""bench/merge_served.py copies served columns only from runs that match the report's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "merge_served", Path(__file__).resolve().parents[1] / "bench" / "merge_served.py"
)
merge_served = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(merge_served)  # type: ignore[union-attr]


def _entry(value: float) -> dict:
    return {"mean": value, "std": 0.0, "n": 3}


def _metrics(value: float) -> dict:
    return {key: _entry(value) for key in merge_served.CHECKED}


def test_served_columns_join_the_matching_runs() -> None:
    report = {"summary": {"random": {"tailgnn": _metrics(0.3)}}}
    served = {"summary": {"random": {"tailgnn": _metrics(0.3) | {"served/ndcg@20": _entry(0.29)}}}}
    assert merge_served.merge(report, served, "s.json") == ["random/tailgnn"]
    assert report["summary"]["random"]["tailgnn"]["served/ndcg@20"] == _entry(0.29)


def test_runs_that_differ_from_the_report_are_refused() -> None:
    report = {"summary": {"random": {"tailgnn": _metrics(0.3)}}}
    served = {"summary": {"random": {"tailgnn": _metrics(0.31) | {"served/ndcg@20": _entry(0.3)}}}}
    with pytest.raises(SystemExit, match="not the same runs"):
        merge_served.merge(report, served, "s.json")
    assert "served/ndcg@20" not in report["summary"]["random"]["tailgnn"]
    with pytest.raises(SystemExit, match="not in the report"):
        merge_served.merge(report, {"summary": {"cold": {"tailgnn": _metrics(0.3)}}}, "s.json")
