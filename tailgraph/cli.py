"""The `tailgraph` command line: one verb per pipeline stage, plus `demo` running them all."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from tailgraph import stages
from tailgraph.console import (
    TrainProgress,
    encode_table,
    ingest_table,
    make_console,
    metric_table,
    table,
)
from tailgraph.errors import TailGraphError
from tailgraph.graph.store import GraphStore, run_query
from tailgraph.settings import Settings, get_settings

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help=__doc__, rich_markup_mode="markdown"
)
db_app = typer.Typer(
    no_args_is_help=True, help="Start, stop and inspect the embedded FalkorDB or the local Neo4j."
)
data_app = typer.Typer(no_args_is_help=True, help="Obtain datasets.")
cypher_app = typer.Typer(
    no_args_is_help=True,
    help="The Cypher library in cypher/ (`lib_*` queries) and ad-hoc read-only queries.",
)
app.add_typer(db_app, name="db")
app.add_typer(data_app, name="data")
app.add_typer(cypher_app, name="cypher")


@app.callback()
def main(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory (datasets, caches, embedded database, artefacts); "
            "the same as TAILGRAPH_DATA_DIR.",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """The `tailgraph` command line: one verb per pipeline stage, plus `demo` running them all."""
    if data_dir is not None:
        # Through the environment, so every command and `serve`'s app factory read the same.
        os.environ["TAILGRAPH_DATA_DIR"] = str(data_dir.expanduser().absolute())


def _fail(error: Exception) -> None:
    typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _warn(message: str) -> None:
    typer.secho(f"warning: {message}", fg=typer.colors.YELLOW, err=True)


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
def db_start(
    store: StoreOption = None,
    gds: Annotated[
        bool,
        typer.Option(
            "--gds",
            help="local Neo4j: also serve the Graph Data Science library (built by "
            "`make neo4j-gds`); default TAILGRAPH_NEO4J_GDS.",
        ),
    ] = False,
) -> None:
    """Start the embedded FalkorDB or the local Neo4j (reuses a running one)."""
    from tailgraph.graph.connect import embedded_server, local_neo4j

    settings, chosen = _which_store(store)
    if gds and chosen != "neo4j":
        raise typer.BadParameter("--gds is for the local Neo4j (--store neo4j)")
    try:
        if chosen == "neo4j":
            server = local_neo4j(settings)
            server.gds = server.gds or gds
            local = server.start()
            with_gds = " with GDS" if local.gds else ""
            typer.echo(f"Neo4j {local.version}{with_gds} running (pid {local.pid}) at {local.uri}")
            return
        status = embedded_server(settings).start(progress=lambda line: typer.echo(line, err=True))
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
        state += " with GDS" if local.running and local.gds else ""
        typer.echo(f"Neo4j {state}; directory {local.directory}")
        return
    status = embedded_server(settings).status()
    typer.echo(
        f"FalkorDB {status.describe()}; directory {status.directory}; socket {status.socket}"
    )


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
GraphOption = Annotated[
    str | None,
    typer.Option(
        "--graph",
        help="FalkorDB graph to use (one dataset per graph); the same as TAILGRAPH_GRAPH_NAME.",
    ),
]


def _use_graph(graph: str | None) -> None:
    if graph is not None:
        if not graph.strip():
            raise typer.BadParameter("--graph needs a non-empty name")
        os.environ["TAILGRAPH_GRAPH_NAME"] = graph


def _directory_option(fmt: str, files: str) -> object:
    return typer.Option(
        f"--{fmt}",
        help=f"Directory of {files} (docs/data-formats.md).",
        exists=True,
        file_okay=False,
        dir_okay=True,
        resolve_path=True,
    )


@app.command()
def ingest(
    dataset: Annotated[str | None, typer.Option(help="Named dataset (fetched if needed).")] = None,
    atomic: Annotated[
        Path | None,
        _directory_option("atomic", "RecBole atomic files: DIR/DIR.inter, .item, .kg, .link"),
    ] = None,
    kgat: Annotated[
        Path | None, _directory_option("kgat", "KGAT / KGIN files: train.txt, kg_final.txt ...")
    ] = None,
    movielens: Annotated[
        Path | None,
        _directory_option("movielens", "a raw MovieLens download: u.data, ratings.dat or .csv"),
    ] = None,
    csv: Annotated[
        Path | None, _directory_option("csv", "CSV files: interactions.csv, items.csv ...")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Dataset name (RecBole: the file stem; default: the directory name)."),
    ] = None,
    synthetic_users: Annotated[
        int | None, typer.Option(help="Generate a synthetic dataset with this many users.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for synthetic data.")] = 0,
    replace: Annotated[
        bool, typer.Option(help="Clear the graph first (needed to load another dataset into it).")
    ] = False,
    batch_size: Annotated[int, typer.Option(help="Rows per UNWIND batch.", min=1)] = 5000,
    graph: GraphOption = None,
) -> None:
    """Load a dataset into the graph store (validated first, then idempotent MERGE); print counts.

    One source: `--dataset NAME`, a directory with `--atomic`, `--kgat`, `--movielens` or
    `--csv`, or `--synthetic-users N`. Without any, ml-100k. A graph holds one dataset: loading
    another into it is refused unless `--replace` (or `--graph NAME` for a graph of its own).
    """
    _use_graph(graph)
    settings = get_settings()
    directories = {"atomic": atomic, "kgat": kgat, "movielens": movielens, "csv": csv}
    given = [f"--{fmt}" for fmt, path in directories.items() if path is not None]
    given += ["--dataset"] if dataset else []
    given += ["--synthetic-users"] if synthetic_users else []
    if len(given) > 1:
        raise typer.BadParameter(f"give one data source, not {' and '.join(given)}")
    files = next(((fmt, p) for fmt, p in directories.items() if p is not None), None)
    try:
        if files is not None:
            data = stages.load_files(*files, name=name)
        else:
            data = stages.load_dataset(
                settings, dataset=dataset, synthetic_users=synthetic_users, seed=seed
            )
        for warning in stages.kg_warnings(data):
            _warn(warning)
        report = stages.ingest(_store(settings), data, batch_size=batch_size, replace=replace)
    except TailGraphError as e:
        _fail(e)
    console = make_console()
    console.print(f"{data.name}: {_counts(data.summary())}")
    console.print(ingest_table(report))


def _counts(summary: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {what}" for what, count in summary.items())


# -- encode --------------------------------------------------------------------------------------
@app.command()
def encode(
    batch_size: Annotated[int | None, typer.Option(help="Texts per model batch.", min=1)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
) -> None:
    """Encode node text with BERT and write `textEmbedding` back (cached by text hash)."""
    settings = get_settings()
    try:
        report = stages.encode(settings, _store(settings), batch_size=batch_size)
    except TailGraphError as e:
        _fail(e)
    if as_json:
        typer.echo(json.dumps(report.summary(), indent=2))
        return
    make_console().print(encode_table(report))


# -- finetune ------------------------------------------------------------------------------------
@app.command()
def finetune(
    epochs: Annotated[int, typer.Option(help="Maximum epochs.", min=1)] = 4,
    pairs: Annotated[
        int,
        typer.Option(help="Item pairs drawn per epoch (whole batches of 64, at least one).", min=2),
    ] = 2048,
    layers: Annotated[
        int, typer.Option(help="Top transformer layers trained (0: the whole model).", min=0)
    ] = 2,
    seed: Annotated[int, typer.Option(help="Seed for the hold-out and the pairs.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Where the checkpoint goes.")] = None,
) -> None:
    """Fine-tune the text encoder so text similarity follows the interactions.

    Items liked by one user are pulled together (in-batch contrastive); the best epoch on a
    held-out tenth of the interactions is saved, the frozen model counting as epoch 0. Use
    it with `TAILGRAPH_ENCODER_PATH=<folder> tailgraph encode`.
    """
    from tailgraph.encoders.finetune import FinetuneConfig
    from tailgraph.finetune import finetune as run_finetune
    from tailgraph.finetune import finetuned_directory

    settings = get_settings()
    console = make_console()
    config = FinetuneConfig(
        epochs=epochs, pairs_per_epoch=pairs, trainable_layers=layers or None, seed=seed
    )
    target = out or finetuned_directory(settings)
    console.print(f"fine-tuning {settings.encoder_path}; the checkpoint goes to {target}")
    try:
        result = run_finetune(
            settings, _store(settings), config=config, directory=target, progress=console.print
        )
    except TailGraphError as e:
        _fail(e)
    if result.best_epoch == 0:
        _warn("no epoch beat the frozen encoder on validation; its weights were saved unchanged")
    console.print(
        f"best epoch {result.best_epoch}: validation recall@{config.k} "
        f"{result.best_valid_recall:.4f} (frozen {result.frozen_valid_recall:.4f}), "
        f"{result.seconds:.0f} s on {result.device}"
    )
    console.print(f"use it: TAILGRAPH_ENCODER_PATH={result.path} tailgraph encode")


# -- train / evaluate ----------------------------------------------------------------------------
_MODEL_ALIASES = {
    "bprmf": "bpr_mf",
    "bpr": "bpr_mf",
    "mf": "bpr_mf",
    "light_gcn": "lightgcn",
    "tail_gnn": "tailgnn",
    "most_pop": "mostpop",
    "popularity": "mostpop",
    "item_knn": "itemknn",
    "textonly": "text_only",
    "text": "text_only",
}


def model_name(name: str, choices: tuple[str, ...]) -> str:
    """The canonical model name for ``name`` (`bprmf`, `BPR-MF` -> `bpr_mf`); a clear error
    listing ``choices`` otherwise. Checked before any export or training starts."""
    key = name.strip().lower().replace("-", "_")
    key = _MODEL_ALIASES.get(key, key)
    if key not in choices:
        raise typer.BadParameter(f"unknown model {name!r}; choose from {', '.join(choices)}")
    return key


@app.command()
def train(
    model: Annotated[str, typer.Option(help="tailgnn | lightgcn | bpr_mf (alias bprmf)")] = (
        "tailgnn"
    ),
    epochs: Annotated[int | None, typer.Option(help="Maximum epochs.", min=1)] = None,
    seed: Annotated[int, typer.Option(help="Seed for split and initialisation.")] = 0,
    protocol: Annotated[str, typer.Option(help="random | temporal | cold")] = "random",
    recommend_k: Annotated[
        int, typer.Option(help="RECOMMENDED relationships written per user (0: none).", min=0)
    ] = 20,
    as_json: Annotated[
        bool, typer.Option("--json", help="End with the test metrics as a JSON object.")
    ] = False,
) -> None:
    """Export the graph, train a model with BPR, evaluate on test, save artefacts, write back."""
    from tailgraph.gnn.config import TrainConfig
    from tailgraph.gnn.registry import TRAINED

    model = model_name(model, TRAINED)
    settings = get_settings()
    console = make_console()
    console.print(f"artefacts go to {stages.model_directory(settings)}")
    try:
        with TrainProgress(console, epochs or TrainConfig().epochs, label=model) as progress:
            result = stages.train(
                settings,
                _store(settings),
                model=model,
                epochs=epochs,
                seed=seed,
                protocol=protocol,
                recommend_k=recommend_k,
                progress=progress,
            )
    except TailGraphError as e:
        _fail(e)
    from tailgraph.demo import METRIC_COLUMNS, kept_model_lines

    for line in kept_model_lines(result):
        console.print(line)
    console.print(
        metric_table({model: result.metrics}, METRIC_COLUMNS, f"test metrics ({protocol} split)")
    )
    written = ", ".join(f"{count:,} {what}" for what, count in result.written.items())
    console.print(f"written back: {written}")
    console.print(f"model {result.version} saved in {result.artefacts_dir}")
    if as_json:
        typer.echo(json.dumps(result.metrics, indent=2, default=float))


def _numbers(raw: list[str]) -> list[int]:
    """`--seeds 1 2 3`, `--seeds 1,2,3` or repeated `--seeds`: all become [1, 2, 3]."""
    return [int(part) for item in raw for part in item.replace(",", " ").split()]


def _command_line(ctx: typer.Context) -> str:
    """The command as given (options away from their defaults), for the recorded JSON."""
    import shlex

    words = ["tailgraph", *ctx.command_path.split()[1:]]
    numbers = [a for a in ctx.args if a.replace(",", "").isdigit()]  # trailing seeds
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if param.name == "seeds" and numbers:
            value = [*(value or []), *numbers]
        if not param.opts or value == param.default or value is None:
            continue
        flag = param.opts[0]
        if isinstance(value, bool):
            words.append(flag if value else param.secondary_opts[0])
        else:
            for one in value if isinstance(value, (list, tuple)) else [value]:
                words += [flag, str(one)]
    return shlex.join(words + [a for a in ctx.args if a not in numbers])


@app.command(context_settings={"allow_extra_args": True})
def evaluate(
    ctx: typer.Context,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="Evaluate this dataset instead of the store's: a built-in name (ml-100k) or a "
            "directory of RecBole atomic, KGAT, MovieLens or CSV files (format detected), or a "
            "saved snapshot (.npz); node text is encoded with the configured BERT (cached)."
        ),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated models; default every registered model but the ablations."
        ),
    ] = None,
    protocol: Annotated[
        list[str] | None, typer.Option(help="random | temporal | cold (repeatable).")
    ] = None,
    seeds: Annotated[
        list[str] | None, typer.Option(help="Seeds, e.g. --seeds 1 2 3 (mean ± std reported).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Report directory.")] = None,
    summary: Annotated[
        Path | None,
        typer.Option(help="Compact JSON record of the summary; default <out>.json."),
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Maximum training epochs.")] = None,
    tail_sweep: Annotated[
        bool, typer.Option(help="Also score the tail_weight re-ranking sweep (slow on big data).")
    ] = True,
    cache: Annotated[
        bool,
        typer.Option(help="Reuse runs scored before with the same data, settings and code."),
    ] = True,
    peer_results: Annotated[
        list[Path] | None, typer.Option(help="Peer top-K JSON (bench/peers), repeatable.")
    ] = None,
    export_split: Annotated[
        Path | None, typer.Option(help="Write each split as JSON for the peer runner.")
    ] = None,
    snapshot: Annotated[
        Path | None, typer.Option(help="Evaluate a saved snapshot (.npz) instead of the store.")
    ] = None,
    graph: GraphOption = None,
) -> None:
    """Run baselines and TailGraph on one split per protocol and seed; write a report.

    The dataset is the configured store's graph unless `--dataset` names another. Trained
    models stop early as in the recorded report (validation NDCG@20 every 2 epochs, patience
    5); scored runs are cached in the data directory, so adding a seed fits only that seed.
    """
    from tailgraph.gnn.registry import DEFAULT_MODELS, MODELS

    _use_graph(graph)
    settings = get_settings()
    # Typer takes one value per option: trailing numbers after --seeds arrive as extra args.
    seed_list = _numbers((seeds or []) + [a for a in ctx.args if a.replace(",", "").isdigit()])
    unknown = [a for a in ctx.args if not a.replace(",", "").isdigit()]
    if unknown:
        raise typer.BadParameter(f"unexpected arguments {unknown}")
    if dataset is not None and snapshot is not None:
        raise typer.BadParameter("give --dataset or --snapshot, not both")
    model_list = (
        [model_name(m, MODELS) for m in models.split(",") if m.strip()]
        if models
        else list(DEFAULT_MODELS)
    )
    out_dir = out or settings.artefacts_dir / "evaluation"
    try:
        name = None
        if dataset is not None:
            loaded = stages.load_source(settings, dataset)
            if isinstance(loaded, Path):
                source = loaded
            else:
                name = loaded.name
                for warning in stages.kg_warnings(loaded):
                    _warn(warning)
                source = stages.dataset_snapshot(settings, loaded)
        else:
            source = snapshot if snapshot is not None else _store(settings)
        written = stages.evaluate(
            source,
            models=model_list,
            protocols=protocol or ["random"],
            seeds=seed_list or [1],
            out_dir=out_dir,
            peer_results=peer_results or [],
            export_split=export_split,
            epochs=epochs,
            name=name,
            tail_sweep=tail_sweep,
            cache_dir=settings.cache_dir / "evaluation" if cache else None,
            summary=summary or out_dir.with_name(out_dir.name + ".json"),
            command=_command_line(ctx),
            strict_models=models is not None,
        )
    except TailGraphError as e:
        _fail(e)
    typer.echo(f"report written to {written}/report.md")


# -- serve ---------------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes behind the one port, each loading the model once (default "
            "1). Items added, replaced or deleted and users erased through the API reach every "
            "worker (a change log beside the write counters) and a restart (reconciled with "
            "the store).",
        ),
    ] = 1,
) -> None:
    """Run the recommendation API with uvicorn (uvloop + httptools; TAILGRAPH_MAX_IN_FLIGHT
    bounds each worker's requests in flight, past it 503 + Retry-After)."""
    import uvicorn

    # BLAS threads fight the request threads for the cores (measured in bench/serve/).
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    settings = get_settings()
    typer.echo(f"data directory {settings.data_dir}")
    typer.echo(f"serving the model in {stages.model_directory(settings)}")
    typer.echo(f"docs at http://{host}:{port}/docs, explorer at http://{host}:{port}/explore")
    uvicorn.run("tailgraph.api.app:create_app", factory=True, host=host, port=port, workers=workers)


# -- cypher --------------------------------------------------------------------------------------
@cypher_app.command("list")
def cypher_list(
    internal: Annotated[
        bool, typer.Option("--internal", help="Also list the queries the code itself runs.")
    ] = False,
) -> None:
    """List the library queries (`lib_*`), one line each: name, parameters, purpose."""
    from tailgraph import cypher

    names = cypher.available() if internal else cypher.library()
    rows = [
        {
            "query": name,
            "kind": "library" if name in cypher.library() else "internal",
            "parameters": " ".join(f"${p}" for p in sorted(cypher.parameters(name))),
            "purpose": cypher.summary(name),
        }
        for name in names
    ]
    width = max(len(row["query"]) for row in rows)
    params = max(len(row["parameters"]) for row in rows)
    for row in rows:
        middle = f"{row['kind']:<8}" if internal else f"{row['parameters']:<{params}}"
        typer.echo(f"{row['query']:<{width}}  {middle}  {row['purpose']}".rstrip())
    if not internal:
        typer.echo(
            f"({len(rows)} library queries; `--internal` also lists the "
            f"{len(cypher.available()) - len(rows)} the code runs itself; "
            "`tailgraph cypher show NAME` prints one)"
        )


@cypher_app.command("show")
def cypher_show(
    name: Annotated[str, typer.Argument(help="Query name (see `tailgraph cypher list`).")],
) -> None:
    """Print a query file: its header (purpose, parameters, returns) and its Cypher."""
    from tailgraph import cypher

    try:
        typer.echo(cypher.load(name).rstrip())
    except TailGraphError as e:
        _fail(e)


def _parse_param(raw: str) -> tuple[str, object]:
    key, sep, value = raw.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"expected key=value, got {raw!r}")
    try:
        return key.lstrip("$"), json.loads(value)
    except json.JSONDecodeError:
        return key.lstrip("$"), value


def _check_parameters(what: str, needed: set[str], params: dict[str, object]) -> None:
    missing = sorted(needed - set(params))
    unused = sorted(set(params) - needed)
    if missing:
        example = " ".join(f"-p {p}=..." for p in missing)
        raise typer.BadParameter(
            f"{what} needs parameter{'s' if len(missing) > 1 else ''} "
            f"{', '.join('$' + p for p in missing)} (give {example}; JSON values, null allowed)"
        )
    if unused:
        raise typer.BadParameter(
            f"{what} does not use {', '.join('$' + p for p in unused)}"
            + (f"; it takes {', '.join('$' + p for p in sorted(needed))}" if needed else "")
        )


@cypher_app.command("run")
def cypher_run(
    name: Annotated[
        str | None, typer.Argument(help="Query name (see `tailgraph cypher list`).")
    ] = None,
    query: Annotated[
        str | None, typer.Option("--query", "-q", help="An ad-hoc Cypher query instead of a name.")
    ] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="key=value (JSON values allowed).")
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="Allow an ad-hoc query to write (default: read-only).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON lines.")] = False,
) -> None:
    """Run a library query, or an ad-hoc one with `-q`, on the configured store; print the rows.

    Queries run read-only; `--write` lets an ad-hoc query change the graph.
    """
    from tailgraph import cypher

    if (name is None) == (query is None):
        raise typer.BadParameter("give a query name or --query/-q 'MATCH ...', not both or neither")
    params = dict(_parse_param(p) for p in (param or []))
    settings = get_settings()
    try:
        if name is not None:
            if write:
                raise typer.BadParameter("--write is for ad-hoc queries; library queries only read")
            if cypher.placeholders(name):
                needed = sorted(cypher.placeholders(name))
                raise typer.BadParameter(
                    f"{name} is an internal template needing identifiers {needed}; "
                    "it is not run from the command line"
                )
            _check_parameters(name, cypher.parameters(name), params)
            rows = run_query(_store(settings), name, params, read_only=True)
        else:
            _check_parameters("the query", cypher.query_parameters(query), params)
            rows = _store(settings).run(query, params, read_only=not write)
    except TailGraphError as e:
        message = str(e)
        if "empty key" in message:  # FalkorDB's read-only query on a graph never written
            message = (
                f"graph {settings.graph_name!r} holds no data yet in {settings.store}: "
                "run `tailgraph ingest` first"
            )
        if query is not None and not write and "read-only" in message.lower():
            message += " (add --write to let an ad-hoc query change the graph)"
        _fail(message)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, default=str, ensure_ascii=False))
        return
    print_table(rows)


def print_table(rows: list[dict]) -> None:
    """Rows as an aligned table (numbers right-aligned), then the row count."""
    if not rows:
        typer.echo("(no rows)")
        return
    console = make_console()
    console.print(table(rows))
    console.print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


# -- demo ----------------------------------------------------------------------------------------
@app.command()
def demo(
    dataset: Annotated[str, typer.Option(help="Dataset to run on.")] = "ml-100k",
    epochs: Annotated[int | None, typer.Option(help="Maximum training epochs.", min=1)] = None,
) -> None:
    """Fetch ml-100k, start the store, ingest, encode, train, evaluate, show recommendations."""
    from tailgraph.demo import run_demo

    try:
        run_demo(get_settings(), dataset=dataset, epochs=epochs)
    except TailGraphError as e:
        _fail(e)


if __name__ == "__main__":  # pragma: no cover
    app()
