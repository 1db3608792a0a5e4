"""The command line through Typer's runner on a real embedded FalkorDB started by the CLI.

Every file format the loaders read is reachable from `tailgraph ingest`; bad input fails
fast with the file, line and field; model names are checked before the graph is exported;
the Cypher library lists and runs the way a data engineer expects.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tailgraph.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A private data directory and store (the database dir is short enough for a socket)."""
    root = tmp_path_factory.mktemp("cli")
    variables = {
        "TAILGRAPH_DATA_DIR": str(root / "data"),
        "TAILGRAPH_FALKORDB_DIR": tempfile.mkdtemp(prefix="tgc"),
        "TAILGRAPH_ARTEFACTS_DIR": str(root / "artefacts"),
        "TAILGRAPH_GRAPH_NAME": "cli",
        "COLUMNS": "200",  # Typer's error panels wrap at the terminal width
    }
    yield variables
    runner.invoke(app, ["db", "stop"], env=variables)


def invoke(env: dict[str, str], *args: str, code: int = 0, graph: str | None = None) -> str:
    variables = {**env, "TAILGRAPH_GRAPH_NAME": graph} if graph else env
    result = runner.invoke(app, list(args), env=variables)
    assert result.exit_code == code, (
        f"tailgraph {' '.join(args)}: {result.exit_code}\n{result.output}"
    )
    return result.output


def counts(output: str) -> dict[str, int]:
    """The (:Label) / [:TYPE] count lines that ingest prints."""
    pattern = r"([(\[]:\w+[)\]])\s+([\d,]+)"
    return {m[0]: int(m[1].replace(",", "")) for m in re.findall(pattern, output)}


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory


CSV_FILES = {
    "interactions.csv": "user_id,item_id,rating\nann,heat,4.5\nann,alien,3\nbob,heat,5\n",
    "items.csv": 'item_id,title,text,genres\nheat,Heat,"A thief, a cop.",Crime|Drama\n'
    "alien,Alien,In space.,Horror\n",
    "triples.csv": "head,relation,tail\nheat,film.film.directed_by,m.mann\n",
}


@pytest.fixture(scope="module")
def films(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The graph name of CSV_FILES ingested afresh (for the tests that read it)."""
    directory = write(tmp_path_factory.mktemp("films"), CSV_FILES)
    invoke(env, "ingest", "--csv", str(directory), "--replace", graph="films")
    return "films"


# -- ingest: every loader --------------------------------------------------------------------------
def test_ingest_csv(env: dict[str, str], tmp_path: Path) -> None:
    directory = write(tmp_path / "films", CSV_FILES)
    found = counts(invoke(env, "ingest", "--csv", str(directory), graph="csv-ingest"))
    assert found == {
        "(:Entity)": 1,
        "(:Item)": 2,
        "(:User)": 2,
        "[:DIRECTED_BY]": 1,
        "[:INTERACTED]": 3,
    }


def test_ingest_kgat(env: dict[str, str], tmp_path: Path) -> None:
    directory = write(
        tmp_path / "kgat",
        {
            "train.txt": "0 0 1\n1 1 2\n",
            "test.txt": "0 2\n",
            "kg_final.txt": "0 0 3\n1 0 3\n2 1 4\n",
        },
    )
    found = counts(invoke(env, "ingest", "--kgat", str(directory), graph="kgat"))
    assert found["(:User)"] == 2 and found["(:Item)"] == 3 and found["(:Entity)"] == 2
    assert found["[:INTERACTED]"] == 5 and found["[:R0]"] + found["[:R1]"] == 3


def test_ingest_movielens(env: dict[str, str], tmp_path: Path) -> None:
    directory = write(
        tmp_path / "ml-latest-small",
        {
            "ratings.csv": "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n"
            "1,2,3.5,964982224\n2,1,5.0,964983815\n",
            "movies.csv": "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n"
            "2,Jumanji (1995),Adventure\n",
        },
    )
    output = invoke(env, "ingest", "--movielens", str(directory), graph="ml")
    assert counts(output) == {"(:Item)": 2, "(:User)": 2, "[:INTERACTED]": 3}
    assert "ml-latest-small: 2 users, 2 items" in output


def test_ingest_bad_csv_names_file_line_and_field(env: dict[str, str], tmp_path: Path) -> None:
    files = {**CSV_FILES, "interactions.csv": "user_id,item_id,rating\nann,heat,4\nann,heat,lots\n"}
    directory = write(tmp_path / "bad", files)
    output = invoke(env, "ingest", "--csv", str(directory), code=1, graph="bad")
    assert "interactions.csv" in output and "line 3" in output and "'rating'" in output


def test_ingest_rejects_missing_directory_and_two_sources(
    env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere"
    assert "does not exist" in invoke(env, "ingest", "--kgat", str(missing), code=2)
    directory = write(tmp_path / "two", CSV_FILES)
    output = invoke(env, "ingest", "--csv", str(directory), "--dataset", "ml-100k", code=2)
    assert "give one data source, not --csv and --dataset" in output


def test_atomic_kg_without_link_warns(env: dict[str, str], tmp_path: Path) -> None:
    directory = write(
        tmp_path / "toy",
        {
            "toy.inter": "user_id:token\titem_id:token\trating:float\nu1\ti1\t4\nu2\ti2\t5\n",
            "toy.kg": "head_id:token\trelation_id:token\ttail_id:token\n"
            "m.1\tfilm.film.genre\tm.9\nm.2\tfilm.film.genre\tm.9\n",
        },
    )
    output = invoke(env, "ingest", "--atomic", str(directory), graph="toy")
    assert "warning: none of the 2 KG triples touches an item" in output
    assert ".link" in output


# -- train: model names before any slow work ---------------------------------------------------
def test_train_rejects_an_unknown_model_before_exporting(env: dict[str, str], films: str) -> None:
    output = invoke(env, "train", "--model", "gcn", code=2, graph=films)
    assert "unknown model 'gcn'; choose from tailgnn, lightgcn, bpr_mf" in output
    assert "export" not in output and "nodes:" not in output  # the export never started
    assert not (Path(env["TAILGRAPH_ARTEFACTS_DIR"]) / "current").exists()


def test_train_accepts_the_bprmf_alias(env: dict[str, str], tmp_path: Path) -> None:
    invoke(env, "ingest", "--synthetic-users", "60", "--seed", "2", graph="train")
    artefacts = tmp_path / "artefacts"
    output = invoke(
        {**env, "TAILGRAPH_ARTEFACTS_DIR": str(artefacts)},
        "train",
        "--model",
        "bprmf",
        "--epochs",
        "2",
        "--recommend-k",
        "0",
        graph="train",
    )
    assert f"artefacts go to {artefacts / 'current'}" in output
    assert re.search(r"bpr_mf\s+0\.\d{4}", output), output  # the metric table's row
    assert (artefacts / "current" / "model.pt").is_file()


def test_train_tailgnn_explains_its_stages_and_what_it_kept(
    env: dict[str, str], tmp_path: Path
) -> None:
    invoke(env, "ingest", "--synthetic-users", "60", "--seed", "2", graph="train")
    variables = {**env, "TAILGRAPH_ARTEFACTS_DIR": str(tmp_path / "artefacts")}
    output = invoke(variables, "train", "--epochs", "2", "--recommend-k", "0", graph="train")
    assert "stage collaborative: LightGCN on the training interactions" in output
    assert "stage content: the text + KG tower" in output
    assert re.search(r"kept: both towers mixed with content weight λ=[\d.]+", output), output
    assert "\x1b[" not in output, "colour codes in non-terminal output"
    assert re.search(r"tailgnn\s+0\.\d{4}\s+0\.\d{4}", output)


# -- cypher ----------------------------------------------------------------------------------------
def test_cypher_list_shows_the_library_one_line_each(env: dict[str, str]) -> None:
    from tailgraph import cypher

    lines = invoke(env, "cypher", "list").splitlines()
    rows, footer = lines[:-1], lines[-1]
    assert [line.split()[0] for line in rows] == cypher.library()
    assert all("Purpose:" not in line and line.endswith((".", ")")) for line in rows)
    starts = {line.index(cypher.summary(line.split()[0])) for line in rows}
    assert len(starts) == 1, "the purpose column is not aligned"
    assert "--internal" in footer
    everything = invoke(env, "cypher", "list", "--internal")
    assert "count_nodes" in everything and "internal" in everything


def test_cypher_run_names_missing_parameters(env: dict[str, str], films: str) -> None:
    output = invoke(env, "cypher", "run", "lib_similar_users", code=2, graph=films)
    assert "needs parameters $limit, $user_id" in output
    output = invoke(env, "cypher", "run", "lib_entity_hubs", "-p", "limit=3", "-p", "x=1", code=2)
    assert "does not use $x" in output


def test_cypher_run_library_query_right_aligns_numbers(env: dict[str, str], films: str) -> None:
    output = invoke(
        env, "cypher", "run", "lib_similar_users", "-p", "user_id=ann", "-p", "limit=5", graph=films
    )
    lines = output.splitlines()
    header = next(line for line in lines if "jaccard" in line)
    bob = next(line for line in lines if line.lstrip().startswith("bob"))
    assert bob.rstrip().endswith("0.5000") and len(bob.rstrip()) == len(header.rstrip())
    assert "(1 row)" in output


def test_cypher_run_ad_hoc_is_read_only_by_default(env: dict[str, str], tmp_path: Path) -> None:
    directory = write(tmp_path / "films", CSV_FILES)
    invoke(env, "ingest", "--csv", str(directory), "--replace", graph="adhoc")
    query = "MATCH (u:User) RETURN count(u) AS users"
    assert re.search(
        r"users\s*\n.*\n\s+2\s*\n", invoke(env, "cypher", "run", "-q", query, graph="adhoc")
    )
    write_query = "CREATE (:User {id: $id})"
    output = invoke(env, "cypher", "run", "-q", write_query, "-p", "id=zed", code=1, graph="adhoc")
    assert "--write" in output
    invoke(env, "cypher", "run", "-q", write_query, "-p", "id=zed", "--write", graph="adhoc")
    after = invoke(env, "cypher", "run", "-q", query, "--json", graph="adhoc")
    assert after.strip() == '{"users": 3}'
    empty = invoke(env, "cypher", "run", "-q", query, code=1, graph="never-ingested")
    assert "graph 'never-ingested' holds no data yet" in empty and "tailgraph ingest" in empty
    missing = invoke(env, "cypher", "run", "-q", "MATCH (u:User {id: $id}) RETURN u.id", code=2)
    assert "needs parameter $id" in missing


# -- help and global options -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "command", [[], ["ingest"], ["train"], ["encode"], ["cypher"], ["cypher", "run"], ["demo"]]
)
def test_help_has_no_raw_markup(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "``" not in result.output and ":class:" not in result.output


def test_global_data_dir(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the option sets TAILGRAPH_DATA_DIR for the process: let monkeypatch restore it
    monkeypatch.setenv("TAILGRAPH_DATA_DIR", env["TAILGRAPH_DATA_DIR"])
    variables = {k: v for k, v in env.items() if k != "TAILGRAPH_DATA_DIR"}
    del variables["TAILGRAPH_FALKORDB_DIR"]  # default: <data dir>/falkordb
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "d"), "db", "status"], env=variables)
    assert result.exit_code == 0, result.output
    assert f"directory {tmp_path / 'd' / 'falkordb'}" in result.output


# -- console output --------------------------------------------------------------------------------
def test_train_progress_on_a_terminal_and_in_a_log() -> None:
    import io

    from rich.console import Console

    from tailgraph.console import TrainProgress

    messages = ["export done", "stage collaborative", "epoch 5 loss 0.5 valid ndcg@20 0.2"]
    messages += ["epoch 10 loss 0.4 valid ndcg@20 0.25", "stage content"]
    messages += ["epoch 5 loss 0.3 valid ndcg@20 0.1"]
    log = io.StringIO()
    with TrainProgress(Console(file=log, soft_wrap=True), 20, label="tailgnn") as progress:
        for message in messages:
            progress(message)
    lines = log.getvalue().splitlines()
    assert lines[0] == "export done"
    assert lines[1].startswith("stage collaborative: LightGCN")
    assert "collaborative epoch  10  loss 0.4000  valid ndcg@20 0.2500 (best 0.2500)" in lines[3]
    assert lines[5].strip().startswith("content epoch   5") and "(best 0.1000)" in lines[5]

    screen = io.StringIO()
    terminal = Console(file=screen, width=160, force_terminal=True)
    with TrainProgress(terminal, 20, label="tailgnn") as progress:
        for message in messages:
            progress(message)
    drawn = screen.getvalue()
    assert "tailgnn collaborative" in drawn and "10/10" in drawn  # stopped early: shown as done
    assert "ETA" in drawn and "s/epoch" in drawn
