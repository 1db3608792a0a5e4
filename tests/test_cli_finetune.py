"""`tailgraph finetune` through Typer's runner on the real embedded store and real BERT."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tailgraph.encoders.bert import TextEncoder
from tailgraph.encoders.finetune import METADATA_FILE
from tests.test_cli import env, invoke  # noqa: F401  (env is a fixture)


def test_finetune_saves_an_encoder_that_encode_then_uses(
    env: dict[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    invoke(env, "ingest", "--synthetic-users", "60", "--seed", "2", graph="finetune")
    out = tmp_path / "encoder"
    output = invoke(
        env, "finetune", "--epochs", "1", "--pairs", "32", "--out", str(out), graph="finetune"
    )
    assert f"the checkpoint goes to {out}" in output
    assert re.search(r"best epoch [01]: validation recall@20 0\.\d{4} \(frozen 0\.\d{4}\)", output)
    assert f"TAILGRAPH_ENCODER_PATH={out.resolve()} tailgraph encode" in output
    metadata = json.loads((out / METADATA_FILE).read_text())
    assert [row["epoch"] for row in metadata["history"]] == [0, 1]
    TextEncoder(out)  # loads like any checkpoint

    # The stored vectors came from the frozen model: with the fine-tuned path every item's
    # text hash is stale, so encode writes every item again.
    invoke(env, "encode", graph="finetune")
    report = json.loads(
        invoke({**env, "TAILGRAPH_ENCODER_PATH": str(out)}, "encode", "--json", graph="finetune")
    )
    items = report["labels"]["Item"]
    assert items["unchanged"] == 0 and items["written"] == items["seen"] > 0


def test_finetune_on_an_empty_graph_names_the_problem(env: dict[str, str]) -> None:  # noqa: F811
    output = invoke(env, "finetune", "--epochs", "1", code=1, graph="finetune-empty")
    assert "no interactions to fine-tune on" in output
