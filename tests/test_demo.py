"""``tailgraph demo`` on the real ml-100k (downloads the recbole wheel from PyPI: slow)."""

from __future__ import annotations

import tempfile

import pytest

from tailgraph.demo import run_demo
from tailgraph.settings import Settings


@pytest.mark.slow
def test_demo_on_ml100k(tmp_path) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        falkordb_dir=tempfile.mkdtemp(prefix="tgd"),
        artefacts_dir=tmp_path / "artefacts",
    )
    import io

    from rich.console import Console

    from tailgraph.graph.connect import embedded_server

    log = io.StringIO()
    try:
        record = run_demo(settings, epochs=5, console=Console(file=log, soft_wrap=True))
    finally:
        embedded_server(settings).stop()
    assert record["ingest"]["nodes"] == {"User": 943, "Item": 1682, "Entity": 33030}
    assert record["ingest"]["relationships"]["INTERACTED"] == 100_000
    assert record["encode"]["labels"]["Item"]["written"] == 1682
    assert record["train"]["embeddings_written"]["RECOMMENDED"] > 0
    # Every model beats popularity on its own split, even after 5 epochs.
    assert record["test_metrics"]["recall@20"] > record["baselines"]["mostpop"]["recall@20"]
    assert (settings.artefacts_dir / "demo-ml-100k.json").is_file()
    output = log.getvalue()
    assert "\x1b[" not in output and "\r" not in output, "a log gets no colours or redrawn bars"
    summary = output[output.index("\nsummary\n") :]
    assert all(f"{stage} " in summary for stage in ("fetch", "train", "baselines", "total"))
    stages = ["fetch", "store", "ingest", "encode", "train", "baselines", "recommend"]
    assert list(record["stage_seconds"]) == stages
    assert sum(record["stage_seconds"].values()) <= record["total_seconds"]
