"""The ``tailgraph`` command line: one verb per pipeline stage, plus ``demo`` running them all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tailgraph import stages
from tailgraph.errors import TailGraphError
from tailgraph.graph.store import GraphStore, run_query
from tailgraph.settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(
    no_args_is_help=True, help="Start, stop and inspect the embedded FalkorDB or the local Neo4j."
)
data_app = typer.Typer(no_args_is_help=True, help="Obtain datasets.")
cypher_app = typer.Typer(no_args_is_help=True, help="The Cypher library in cypher/.")
app.add_typer(db_app, name="db")
app.add_typer(data_app, name="data")
app.add_typer(cypher_app, name="cypher")


def _fail(error: Exception) -> None:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _store(settings: Settings) -> GraphStore:
    from tailgraph.graph.connect import open_store

    return open_store(settings)


# -- db ------------------------------------------------------------------------------------------
StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store", help="falkordb (embedded) | neo4j (the local Neo4j); default TAILGRAPH_STORE."
    ),
]


def _which_store(store: str | None) -> tuple[Settings, str]:
    settings = get_settings()
    chosen = store or settings.store
    if chosen not in ("falkordb", "neo4j"):
        raise typer.BadParameter(f"--store must be falkordb or neo4j, got {chosen!r}")
    return settings, chosen


@db_app.command("start")
def db_start(store: StoreOption = None) -> None:
    """Start the embedded FalkorDB or the local Neo4j (reuses a running one)."""
    from tailgraph.graph.connect import embedded_server, local_neo4j

    settings, chosen = _which_store(store)
    try:
        if chosen == "neo4j":
            local = local_neo4j(settings).start()
            typer.echo(f"Neo4j {local.version} running (pid {local.pid}) at {local.uri}")
            return
        status = embedded_server(settings).start()
    except TailGraphError as e:
        _fail(e)
    typer.echo(f"FalkorDB running (pid {status.pid}) at {status.socket}")


@db_app.command("stop")
def db_stop(store: StoreOption = None) -> None:
    """Shut the embedded FalkorDB or the local Neo4j down cleanly."""
    from tailgraph.graph.connect import embedded_server, local_neo4j

    settings, chosen = _which_store(store)
    if chosen == "neo4j":
        stopped = local_neo4j(settings).stop()
        typer.echo("Neo4j stopped" if stopped else "Neo4j was not running")
        return
    stopped = embedded_server(settings).stop()
    typer.echo("FalkorDB stopped" if stopped else "FalkorDB was not running")


@db_app.command("status")
def db_status(store: StoreOption = None) -> None:
    """Report whether the embedded FalkorDB or the local Neo4j is running and where."""
    from tailgraph.graph.connect import embedded_server, local_neo4j

    settings, chosen = _which_store(store)
    if chosen == "neo4j":
        local = local_neo4j(settings).status()
        state = f"running (pid {local.pid}) at {local.uri}" if local.running else "stopped"
        typer.echo(f"Neo4j {state}; directory {local.directory}")
        return
    status = embedded_server(settings).status()
    state = f"running (pid {status.pid})" if status.running else "stopped"
    typer.echo(f"FalkorDB {state}; directory {status.directory}; socket {status.socket}")


# -- data ----------------------------------------------------------------------------------------
@data_app.command("fetch")
def data_fetch(
    name: Annotated[str, typer.Argument(help="Dataset name, e.g. ml-100k.")],
    force: Annotated[bool, typer.Option(help="Download again even if cached.")] = False,
) -> None:
    """Download a dataset into the data directory (cached)."""
    from tailgraph.graph.datasets import fetch

    try:
        path = fetch(name, get_settings().datasets_dir, force=force)
    except TailGraphError as e:
        _fail(e)
    typer.echo(f"{name} is in {path}")


# -- ingest --------------------------------------------------------------------------------------
@app.command()
def ingest(
    dataset: Annotated[str | None, typer.Option(help="Named dataset (fetched if needed).")] = None,
    atomic: Annotated[
        Path | None, typer.Option(help="Directory of RecBole atomic files (<dir>/<name>.inter).")
    ] = None,
    synthetic_users: Annotated[
        int | None, typer.Option(help="Generate a synthetic dataset with this many users.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for synthetic data.")] = 0,
    replace: Annotated[bool, typer.Option(help="Clear the graph first.")] = False,
    batch_size: Annotated[int, typer.Option(help="Rows per UNWIND batch.")] = 5000,
) -> None:
    """Load a dataset into the graph store (idempotent MERGE) and print counts."""
    settings = get_settings()
    try:
        data = stages.load_dataset(
            settings, dataset=dataset, atomic=atomic, synthetic_users=synthetic_users, seed=seed
        )
        report = stages.ingest(_store(settings), data, batch_size=batch_size, replace=replace)
    except TailGraphError as e:
        _fail(e)
    for line in report.lines():
        typer.echo(line)


# -- encode --------------------------------------------------------------------------------------
@app.command()
def encode(
    batch_size: Annotated[int | None, typer.Option(help="Texts per model batch.")] = None,
) -> None:
    """Encode node text with BERT and write ``textEmbedding`` back (cached by text hash)."""
    settings = get_settings()
    try:
        report = stages.encode(settings, _store(settings), batch_size=batch_size)
    except TailGraphError as e:
        _fail(e)
    typer.echo(json.dumps(report.summary(), indent=2))


# -- train / evaluate ----------------------------------------------------------------------------
@app.command()
def train(
    model: Annotated[str, typer.Option(help="tailgnn | lightgcn | bpr_mf")] = "tailgnn",
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for split and initialisation.")] = 0,
    protocol: Annotated[str, typer.Option(help="random | temporal | cold")] = "random",
    recommend_k: Annotated[
        int, typer.Option(help="RECOMMENDED relationships written per user (0: none).")
    ] = 20,
) -> None:
    """Export the graph, train a model with BPR, evaluate on test, save artefacts, write back."""
    settings = get_settings()
    try:
        result = stages.train(
            settings,
            _store(settings),
            model=model,
            epochs=epochs,
            seed=seed,
            protocol=protocol,
            recommend_k=recommend_k,
            progress=typer.echo,
        )
    except TailGraphError as e:
        _fail(e)
    typer.echo(f"model {result.version} saved in {result.artefacts_dir}")
    typer.echo(json.dumps(result.metrics, indent=2, default=float))


def _numbers(raw: list[str]) -> list[int]:
    """``--seeds 1 2 3``, ``--seeds 1,2,3`` or repeated ``--seeds``: all become [1, 2, 3]."""
    return [int(part) for item in raw for part in item.replace(",", " ").split()]


@app.command(context_settings={"allow_extra_args": True})
def evaluate(
    ctx: typer.Context,
    models: Annotated[
        str,
        typer.Option(
            help="Comma-separated models (mostpop,itemknn,bpr_mf,lightgcn,"
            "text_only,fusion,tailgnn)."
        ),
    ] = "mostpop,itemknn,bpr_mf,lightgcn,text_only,fusion,tailgnn",
    protocol: Annotated[
        list[str] | None, typer.Option(help="random | temporal | cold (repeatable).")
    ] = None,
    seeds: Annotated[
        list[str] | None, typer.Option(help="Seeds, e.g. --seeds 1 2 3 (mean ± std reported).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Report directory.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Maximum training epochs.")] = None,
    peer_results: Annotated[
        list[Path] | None, typer.Option(help="Peer top-K JSON (bench/peers), repeatable.")
    ] = None,
    export_split: Annotated[
        Path | None, typer.Option(help="Write each split as JSON for the peer runner.")
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option(help="Evaluate a saved snapshot (.npz) instead of the store.")
    ] = None,
) -> None:
    """Run baselines and TailGraph on one split per protocol and seed; write a report."""
    settings = get_settings()
    # Typer takes one value per option: trailing numbers after --seeds arrive as extra args.
    seed_list = _numbers((seeds or []) + [a for a in ctx.args if a.replace(",", "").isdigit()])
    unknown = [a for a in ctx.args if not a.replace(",", "").isdigit()]
    if unknown:
        raise typer.BadParameter(f"unexpected arguments {unknown}")
    out_dir = out or settings.artefacts_dir / "evaluation"
    try:
        source = snapshot if snapshot is not None else _store(settings)
        written = stages.evaluate(
            source,
            models=[m.strip() for m in models.split(",") if m.strip()],
            protocols=protocol or ["random"],
            seeds=seed_list or [1],
            out_dir=out_dir,
            peer_results=peer_results or [],
            export_split=export_split,
            epochs=epochs,
        )
    except TailGraphError as e:
        _fail(e)
    typer.echo(f"report written to {written}/report.md")


# -- serve ---------------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the recommendation API with uvicorn (one worker per process is fastest here)."""
    import os

    import uvicorn

    # BLAS threads fight the request threads for the cores (measured in bench/serve/).
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")

    uvicorn.run("tailgraph.api.app:create_app", factory=True, host=host, port=port, workers=workers)


# -- cypher --------------------------------------------------------------------------------------
@cypher_app.command("list")
def cypher_list() -> None:
    """List the queries in cypher/ with the first line of their header."""
    from tailgraph import cypher

    for name in cypher.available():
        first = (cypher.header(name).splitlines() or [""])[0]
        typer.echo(f"{name:<32} {first}")


def _parse_param(raw: str) -> tuple[str, object]:
    key, sep, value = raw.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"expected key=value, got {raw!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


@cypher_app.command("run")
def cypher_run(
    name: Annotated[str, typer.Argument(help="Query name (see `tailgraph cypher list`).")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="key=value (JSON values allowed).")
    ] = None,
) -> None:
    """Run a library query on the configured store and print the rows as a table."""
    from tailgraph import cypher

    settings = get_settings()
    params = dict(_parse_param(p) for p in (param or []))
    try:
        if cypher.placeholders(name):
            needed = sorted(cypher.placeholders(name))
            raise typer.BadParameter(f"{name} is a template needing identifiers {needed}")
        rows = run_query(_store(settings), name, params, read_only=True)
    except TailGraphError as e:
        _fail(e)
    print_table(rows)


def print_table(rows: list[dict]) -> None:
    """Rows as an aligned text table."""
    if not rows:
        typer.echo("(no rows)")
        return
    columns = list(rows[0])
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    typer.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    typer.echo("  ".join("-" * w for w in widths))
    for row in cells:
        typer.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))
    typer.echo(f"({len(rows)} rows)")


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


# -- demo ----------------------------------------------------------------------------------------
@app.command()
def demo(
    dataset: Annotated[str, typer.Option(help="Dataset to run on.")] = "ml-100k",
    epochs: Annotated[int | None, typer.Option(help="Maximum training epochs.")] = None,
) -> None:
    """Fetch ml-100k, start the store, ingest, encode, train, evaluate, show recommendations."""
    from tailgraph.demo import run_demo

    try:
        run_demo(get_settings(), dataset=dataset, epochs=epochs)
    except TailGraphError as e:
        _fail(e)


if __name__ == "__main__":  # pragma: no cover
    app()
