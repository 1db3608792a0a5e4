"""Every Cypher query TailGraph can send to Neo4j passes Neo4j's own Cypher 5 linter.

The linter is ``tools/cypher-lint`` (Neo4j's ``@neo4j-cypher/language-support``: its parser
and semantic analysis, run offline under Node). The FalkorDB tests prove the portable subset
runs here; this proves the same text is valid Neo4j 5 Cypher. Warnings (for example the
deprecation of ``CALL { WITH x }``, which FalkorDB needs) are allowed and printed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tailgraph import cypher
from tailgraph.graph.dialect import FALKORDB, NEO4J
from tailgraph.graph.records import NODE_LABELS

ROOT = Path(__file__).resolve().parents[1]
LINT_DIR = ROOT / "tools" / "cypher-lint"
PACKAGE = LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support"

Lint = Callable[[list[dict[str, Any]]], dict[str, dict[str, Any]]]

# Queries the linter must judge correctly, so a linter that accepts everything fails the suite.
PROBES = {
    "probe:syntax": "MATCH (n:Item RETURN n",
    "probe:unbound": "MATCH (n:Item) RETURN m.id",
    "probe:plugin": "RETURN apoc.text.join(['a', 'b'], ',') AS s",
    "probe:fine": "MATCH (n:Item {id: $id}) RETURN n.title AS title",
    "probe:falkordb": FALKORDB.vector_query("Item", "textEmbedding", "$k", "$vector")
    + " RETURN node",
}


def sample_identifier(placeholder: str) -> str:
    """A valid identifier of the kind a ``{{placeholder}}`` stands for."""
    name = placeholder.lower()
    if "rel" in name or "type" in name:
        return "DIRECTED_BY"
    if "prop" in name or "field" in name:
        return "textEmbedding"
    return "Item"


def neo4j_text(name: str) -> str:
    """The query as it would be sent to Neo4j, identifier placeholders filled."""
    identifiers = {p: sample_identifier(p) for p in cypher.placeholders(name)}
    return cypher.render(name, NEO4J, **identifiers)


def dialect_queries() -> dict[str, str]:
    """Every statement the Neo4j dialect generates (made complete where it yields a clause)."""
    queries: dict[str, str] = {}
    for label in NODE_LABELS:
        for n, statement in enumerate(NEO4J.unique_id_ddl(label)):
            queries[f"dialect:unique_id_ddl:{label}:{n}"] = statement
        queries[f"dialect:vector_index_ddl:{label}"] = NEO4J.vector_index_ddl(
            label, "textEmbedding", 384
        )
    queries["dialect:vector_index_ddl:Item:embedding"] = NEO4J.vector_index_ddl(
        "Item", "embedding", 64
    )
    queries["dialect:vector_query"] = (
        NEO4J.vector_query("Item", "textEmbedding", "$k", "$vector")
        + " RETURN node.id AS id, similarity ORDER BY similarity DESC"
    )
    queries["dialect:vector_value"] = (
        f"MATCH (n:Item {{id: $id}}) SET n.textEmbedding = {NEO4J.vector_value('$vector')}"
    )
    return queries


def doc_queries() -> dict[str, str]:
    """The ```cypher blocks of docs/browse.md (ready-to-run Browser queries)."""
    text = (ROOT / "docs" / "browse.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```cypher\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    return {f"docs/browse.md:{n}": block for n, block in enumerate(blocks, start=1)}


@pytest.fixture(scope="module")
def lint() -> Lint:
    """Run tools/cypher-lint (installing it with ``npm ci`` on first use)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run Neo4j's Cypher linter (tools/cypher-lint)")
    if not PACKAGE.is_dir():
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=LINT_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert installed.returncode == 0, f"npm ci in {LINT_DIR} failed:\n{installed.stderr}"

    def run(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        done = subprocess.run(
            [node, "lint.mjs"],
            cwd=LINT_DIR,
            input=json.dumps(entries),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode in (0, 1), f"the linter failed: {done.stderr}"
        results = {r["name"]: r for r in json.loads(done.stdout)}
        assert [r["name"] for r in json.loads(done.stdout)] == [e["name"] for e in entries]
        assert (done.returncode == 1) == any(r["errors"] for r in results.values())
        return results

    return run


@pytest.fixture(scope="module")
def shipped(lint: Lint) -> dict[str, dict[str, Any]]:
    """Lint results for every query we ship, plus broken probes, in one (slow) linter run."""
    entries = [{"name": name, "query": neo4j_text(name)} for name in cypher.available()]
    entries += [{"name": name, "query": query} for name, query in PROBES.items()]
    entries += [{"name": name, "query": query} for name, query in dialect_queries().items()]
    entries += [{"name": name, "query": query} for name, query in doc_queries().items()]
    return lint(entries)


def explain(result: dict[str, Any], kind: str) -> str:
    return "\n".join(
        f"  {result['name']}:{d['line']}:{d['column']}: {d['message']} [{d['excerpt']}]"
        for d in result[kind]
    )


@pytest.mark.parametrize("name", cypher.available())
def test_cypher_file_is_valid_neo4j_cypher(shipped: dict[str, dict[str, Any]], name: str) -> None:
    result = shipped[name]
    if result["warnings"]:
        print(f"{name}: {len(result['warnings'])} warning(s)\n{explain(result, 'warnings')}")
    assert not result["errors"], (
        f"Neo4j's linter rejects {name}.cypher:\n{explain(result, 'errors')}"
    )


@pytest.mark.parametrize("name", sorted(dialect_queries()))
def test_neo4j_dialect_output_is_valid(shipped: dict[str, dict[str, Any]], name: str) -> None:
    result = shipped[name]
    assert not result["errors"], f"Neo4j's linter rejects {name}:\n{explain(result, 'errors')}"


@pytest.mark.parametrize("name", sorted(doc_queries()))
def test_documented_browser_queries_are_valid(
    shipped: dict[str, dict[str, Any]], name: str
) -> None:
    result = shipped[name]
    assert not result["errors"], f"Neo4j's linter rejects {name}:\n{explain(result, 'errors')}"


def test_every_cypher_file_was_linted(shipped: dict[str, dict[str, Any]]) -> None:
    assert cypher.available(), "cypher/ holds no queries"
    assert set(cypher.available()) <= set(shipped)


def test_linter_reports_broken_queries(shipped: dict[str, dict[str, Any]]) -> None:
    assert shipped["probe:syntax"]["errors"][0]["message"].startswith("Invalid input 'RETURN'")
    assert "Variable `m` not defined" in shipped["probe:unbound"]["errors"][0]["message"]
    assert "apoc.text.join" in shipped["probe:plugin"]["errors"][0]["message"]
    assert shipped["probe:fine"]["errors"] == []


def test_linter_rejects_the_falkordb_dialect(shipped: dict[str, dict[str, Any]]) -> None:
    """FalkorDB's vector procedure and vecf32 are not Neo4j: the linter must notice."""
    messages = " ".join(e["message"] for e in shipped["probe:falkordb"]["errors"])
    assert "db.idx.vector.queryNodes" in messages
    assert "vecf32" in messages
