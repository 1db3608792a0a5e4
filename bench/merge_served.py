"""Put the served columns into the recorded quality report, beside the offline ones.

``served_quality.py`` trains each model exactly as ``quality.py`` does, so its full-ranking
metrics must equal the report's for the same protocol, model and seeds; this script checks
that (to 1e-9, else it refuses) and copies every ``served/...`` summary entry into
``summary[protocol][model]`` of the report, with the served records' commands::

    .venv/bin/python bench/merge_served.py bench/results/served-ml100k-random.json \\
        bench/results/served-ml100k-cold.json
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "bench" / "results" / "quality-ml100k.json"
CHECKED = ("recall@20", "ndcg@20", "tailrecall@20", "itemcoverage@20")


def merge(report: dict, served: dict, source: str) -> list[str]:
    """Copy ``served``'s served columns into ``report``; the (protocol, model) pairs merged."""
    merged = []
    for protocol, models in served["summary"].items():
        for model, entry in models.items():
            offline = report["summary"].get(protocol, {}).get(model)
            if offline is None:
                raise SystemExit(f"{source}: {protocol}/{model} is not in the report")
            for key in CHECKED:
                a, b = offline[key], entry[key]
                if a["n"] != b["n"] or abs(a["mean"] - b["mean"]) > 1e-9:
                    raise SystemExit(
                        f"{source}: {protocol}/{model} {key} full ranking {b} differs from the "
                        f"report's {a}: not the same runs"
                    )
            offline.update({k: v for k, v in entry.items() if k.startswith("served")})
            merged.append(f"{protocol}/{model}")
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("served", nargs="+", type=Path)
    parser.add_argument("--report", type=Path, default=REPORT)
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text())
    sources = []
    for path in args.served:
        served = json.loads(path.read_text())
        merged = merge(report, served, path.name)
        sources.append({"file": path.name, "command": served["command"], "merged": merged})
        print(f"{path.name}: {', '.join(merged)}")
    report["served"] = {
        "merged_by": shlex.join([sys.executable, *sys.argv]),
        "settings": "GET /users/{id}/recommendations defaults through the route's use case "
        "(tailgraph/served.py); served/<metric>/full = served ÷ full ranking per run",
        "sources": sources,
    }
    args.report.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
