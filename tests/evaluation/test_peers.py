"""Peer handoff: our split exported exactly, peer lists imported, checked and scored by us."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tailgraph.errors import ConfigurationError
from tailgraph.evaluation.peers import export_split, load_peer_results, topk_from_ids
from tailgraph.evaluation.scoring import score_topk
from tailgraph.gnn.pipeline import split_snapshot
from tailgraph.graph.snapshot import GraphSnapshot
from tests.evaluation.helpers import check_hand_metrics, tiny


def _write_peer(path: Path, topk: dict[str, list[str]], dataset: str = "x-cold-s0") -> Path:
    path.write_text(
        json.dumps({"KGAT": {"topk": topk, "seconds": 3.5, "config": {"dataset": dataset}}})
    )
    return path


def test_peer_topk_scored_with_our_metrics(tmp_path: Path) -> None:
    snapshot, split = tiny()
    path = _write_peer(tmp_path / "peer.json", {"u0": ["i2", "i4", "i3"], "u1": ["i0", "i4"]})
    peer = load_peer_results(path)["KGAT"]
    assert (peer.model, peer.split_name, peer.seconds) == ("peer:KGAT", "x-cold-s0", 3.5)
    users, topk = topk_from_ids(peer, snapshot, split, 2)
    assert topk.tolist() == [[2, 4], [0, 4]]
    check_hand_metrics(score_topk(users, topk, split, ks=(1, 2)).metrics)


@pytest.mark.parametrize(
    ("topk", "message"),
    [
        ({"u0": ["i1", "i2"], "u1": ["i0", "i4"]}, "not computed on this split"),  # valid item
        ({"u0": ["i2", "i4"]}, "no top-K list for 1 test users"),
        ({"u0": ["i2", "i4"], "u1": ["i0", "zz"]}, "unknown item id 'zz'"),
        ({"u0": ["i2"], "u1": ["i0", "i4"]}, "has 1 items, need 2"),
    ],
)
def test_peer_lists_from_another_split_are_refused(
    tmp_path: Path, topk: dict, message: str
) -> None:
    snapshot, split = tiny()
    peer = load_peer_results(_write_peer(tmp_path / "p.json", topk))["KGAT"]
    with pytest.raises(ConfigurationError, match=message):
        topk_from_ids(peer, snapshot, split, 2)


def test_bad_peer_file_is_a_validation_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"KGAT": {"topk": ["u0"]}}))
    with pytest.raises(Exception, match="'topk' must map user ids"):
        load_peer_results(tmp_path / "bad.json")


def test_exported_split_is_exactly_our_split(planted: GraphSnapshot, tmp_path: Path) -> None:
    split = split_snapshot(planted, "cold", 3)
    counts = export_split(planted, split, tmp_path / "s.json", "planted-cold-s3")
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["name"] == "planted-cold-s3"
    user = {u: n for n, u in enumerate(planted.user_ids)}
    item = {i: n for n, i in enumerate(planted.item_ids)}
    for part in ("train", "valid", "test"):
        back = np.array([[user[u], item[i]] for u, i in doc[part]]).reshape(-1, 2)
        assert np.array_equal(back, getattr(split, part)), part
    kg = sum(
        len(s) for (h, _, t), (s, _) in planted.kg_edges.items() if {h, t} <= {"Item", "Entity"}
    )
    assert counts["triples"] == kg > 0
    assert all(a == b and a in item for a, b in doc["links"])
    # cold items are absent from the exported training part
    cold_ids = {planted.item_ids[i] for i in split.cold_items}
    assert cold_ids and not cold_ids & {i for _, i in doc["train"]}
    assert cold_ids & {i for _, i in doc["test"]}
