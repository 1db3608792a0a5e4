"""The production deployment files agree with each other and with the code.

Docker cannot run on these machines, so ``docker-compose.yml``, ``Dockerfile``,
``.dockerignore`` and ``.env.example`` are parsed and cross-checked instead: ports, the Neo4j
healthcheck and the API's wait on it, the non-root user, the torch pin, the volumes, and that
every ``TAILGRAPH_*`` variable is a real field of :class:`tailgraph.settings.Settings` whose
value parses.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tailgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "TAILGRAPH_"
_INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)
_TAILGRAPH_NAME = re.compile(r"\bTAILGRAPH_[A-Z0-9_]+\b")


# -- parsing helpers -------------------------------------------------------------------------
def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    assert not pending, "Dockerfile ends inside a continued line"
    return instructions


def instructions(keyword: str) -> list[str]:
    return [arguments for kw, arguments in dockerfile() if kw == keyword]


def env_example() -> dict[str, str]:
    """Variables set in .env.example (commented-out optional ones included)."""
    values = {}
    for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return values


def active_env_example() -> dict[str, str]:
    """Variables .env.example sets without a leading ``#``."""
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    return {k: v for k, v in env_example().items() if any(ln.startswith(f"{k}=") for ln in lines)}


def interpolate(text: str, variables: dict[str, str]) -> str:
    """docker compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``; ``$$`` is ``$``."""

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = variables.get(name)
        if op in (":-", "-"):
            return value if value else arg
        if op in (":?", "?"):
            if not value:
                raise AssertionError(f"docker compose would stop: {name} unset ({arg})")
            return value
        return value or ""

    return _INTERPOLATION.sub(substitute, text.replace("$$", "\0")).replace("\0", "$")


def settings_env_names() -> set[str]:
    return {PREFIX + name.upper() for name in Settings.model_fields}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def container_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(p).rsplit(":", 1)[-1].split("/")[0]) for p in service.get("ports", [])}


def named_mounts(compose: dict[str, Any], service: str) -> dict[str, str]:
    """Container path -> named volume for a service's ``volume:path`` mounts."""
    mounts = {}
    for entry in compose["services"][service].get("volumes", []):
        source, target = str(entry).split(":")[:2]
        assert source in (compose.get("volumes") or {}), f"{source} is not a named volume"
        mounts[target] = source
    return mounts


# -- docker-compose.yml ----------------------------------------------------------------------
def test_neo4j_service(compose: dict[str, Any]) -> None:
    neo4j = compose["services"]["neo4j"]
    assert neo4j["image"].split(":")[0] == "neo4j"
    assert neo4j["image"].split(":")[1].split(".")[0] == "5", "production runs Neo4j 5"
    assert {7474, 7687} <= container_ports(neo4j), "Browser (7474) and Bolt (7687) published"
    auth = interpolate(neo4j["environment"]["NEO4J_AUTH"], active_env_example())
    user, _, password = auth.partition("/")
    assert user == "neo4j" and len(password) >= 8, "Neo4j 5 needs neo4j/<8+ characters>"
    assert {"/data", "/logs"} <= set(named_mounts(compose, "neo4j"))


def test_compose_runs_the_neo4j_version_the_local_launcher_embeds(compose: dict[str, Any]) -> None:
    """Production (docker compose) and tests/CI (neo4j-launcher) run one Neo4j version."""
    import xml.etree.ElementTree as ET

    pom = ET.parse(ROOT / "neo4j-launcher/pom.xml").getroot()
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    launcher = pom.find("m:properties/m:neo4j.version", namespace)
    assert launcher is not None and re.fullmatch(r"5\.26\.\d+", launcher.text or "")
    tag = compose["services"]["neo4j"]["image"].split(":")[1]
    assert tag == f"{launcher.text}-community", "docker-compose and neo4j-launcher differ"


def test_neo4j_healthcheck_checks_the_database(compose: dict[str, Any]) -> None:
    check = compose["services"]["neo4j"]["healthcheck"]
    test = check["test"]
    assert test[0] in ("CMD", "CMD-SHELL")
    command = " ".join(test[1:])
    assert "cypher-shell" in command or ":7474" in command
    # `$$` keeps the variable for the container's shell instead of compose's interpolation.
    assert "NEO4J_AUTH" not in command or "$${NEO4J_AUTH" in command
    assert int(check["retries"]) >= 3 and check["start_period"]


def test_api_waits_for_a_healthy_neo4j(compose: dict[str, Any]) -> None:
    api = compose["services"]["api"]
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert (ROOT / api["build"]["context"] / api["build"]["dockerfile"]).is_file()
    assert 8000 in container_ports(api)


def test_api_talks_to_the_neo4j_service(compose: dict[str, Any]) -> None:
    env = compose["services"]["api"]["environment"]
    assert env["TAILGRAPH_STORE"] == "neo4j"
    uri = urlsplit(env["TAILGRAPH_NEO4J_URI"])
    assert uri.scheme in ("neo4j", "bolt")
    assert uri.hostname in compose["services"], "the URI must name the compose service"
    assert uri.port == 7687
    # One password, given once in .env, reaches both containers.
    auth = compose["services"]["neo4j"]["environment"]["NEO4J_AUTH"]
    assert env["TAILGRAPH_NEO4J_PASSWORD"] == auth.removeprefix(f"{env['TAILGRAPH_NEO4J_USER']}/")


def test_api_data_and_artefacts_live_on_volumes(compose: dict[str, Any]) -> None:
    env = compose["services"]["api"]["environment"]
    mounts = named_mounts(compose, "api")
    for name in ("TAILGRAPH_DATA_DIR", "TAILGRAPH_ARTEFACTS_DIR"):
        path = PurePosixPath(env[name])
        assert any(path == PurePosixPath(t) or PurePosixPath(t) in path.parents for t in mounts), (
            f"{name}={path} is not on a volume"
        )


def test_every_tailgraph_variable_is_a_setting(compose: dict[str, Any]) -> None:
    from tailgraph.api.routes.explore import ASSETS_ENV

    known = settings_env_names() | {ASSETS_ENV}  # read by the asset routes themselves
    used = set(compose["services"]["api"]["environment"])
    used |= {a.split("=", 1)[0] for a in instructions("ENV") for a in shlex.split(a)}
    used |= set(env_example())
    for doc in ("docs/neo4j.md", "docs/browse.md"):
        used |= set(_TAILGRAPH_NAME.findall((ROOT / doc).read_text(encoding="utf-8")))
    unknown = {name for name in used if name.startswith(PREFIX)} - known
    assert not unknown, f"not fields of tailgraph.settings.Settings: {sorted(unknown)}"


def test_api_environment_parses_into_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith(PREFIX):
            monkeypatch.delenv(name)
    for name, value in compose["services"]["api"]["environment"].items():
        monkeypatch.setenv(name, interpolate(str(value), active_env_example()))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.store == "neo4j"
    assert settings.neo4j_uri == "neo4j://neo4j:7687"
    assert settings.neo4j_password is not None
    assert settings.neo4j_password.get_secret_value() == active_env_example()["NEO4J_PASSWORD"]
    assert settings.api_keys == []
    assert str(settings.artefacts_dir) == "/artefacts"


def test_compose_variables_have_defaults_or_examples(compose: dict[str, Any]) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8").replace("$$", "")
    documented = env_example()
    for match in _INTERPOLATION.finditer(text):
        name, op = match.group("name"), match.group("op")
        assert op in (":-", "-") or name in documented, f"${{{name}}} not in .env.example"
    assert interpolate(text, active_env_example())  # every required variable is set


# -- Dockerfile ------------------------------------------------------------------------------
def stages() -> dict[str, list[tuple[str, str]]]:
    """Each build stage's instructions by its name (``AS name``; the last stage also as
    ``final``)."""
    found: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for keyword, arguments in dockerfile():
        if keyword == "FROM":
            current = []
            words = arguments.split()
            found[words[2] if len(words) > 2 and words[1].upper() == "AS" else words[0]] = current
        current.append((keyword, arguments))
    found["final"] = current
    return found


def test_base_image_is_python_311_slim() -> None:
    assert instructions("FROM")[-1].split()[0] == "python:3.11-slim"


def test_browser_assets_are_copied_where_the_api_serves_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node stage installs tools/explore-assets from its lock file; the final image copies
    every file /docs, /redoc and /explore serve into the folder TAILGRAPH_EXPLORE_ASSETS names,
    at the path the routes look for (checked by materialising the copies and asking them)."""
    from tailgraph.api.routes import docs, explore

    built = stages()
    [node] = [name for name, body in built.items() if body[0][1].startswith("node:")]
    node_copies = [shlex.split(a) for k, a in built[node] if k == "COPY"]
    assert ["tools/explore-assets/package.json", "tools/explore-assets/package-lock.json"] in [
        c[:-1] for c in node_copies
    ]
    assert any(k == "RUN" and "npm ci" in a for k, a in built[node])
    final = built["final"]
    env: dict[str, str] = {}
    copied: list[str] = []
    for keyword, arguments in final:
        if keyword == "ENV":
            for word in shlex.split(arguments):
                name, _, value = word.partition("=")
                env[name] = value
        if keyword == "COPY" and arguments.startswith(f"--from={node} "):
            *sources, destination = shlex.split(arguments)[1:]
            destination = interpolate(destination, env)
            assert destination.endswith("/"), destination
            for source in sources:
                assert source.startswith("/assets/node_modules/"), source
                copied.append(destination + PurePosixPath(source).name)
    root = env.get(explore.ASSETS_ENV)
    assert root, f"the final image sets no {explore.ASSETS_ENV}"
    for path in copied:
        target = tmp_path / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x")
    monkeypatch.setenv(explore.ASSETS_ENV, str(tmp_path / root.lstrip("/")))
    missing = [name for name in docs.ASSETS if docs.find_asset(name) is None]
    assert not missing, f"served by /docs or /redoc but not copied into the image: {missing}"
    assert explore.find_library() is not None, "cytoscape.min.js is not copied into the image"
    package = json.loads((ROOT / "tools/explore-assets/package.json").read_text())
    packages = {PurePosixPath(p).parts[len(PurePosixPath(root).parts) + 1] for p in copied}
    assert packages <= set(package["dependencies"]), packages


def test_torch_is_pinned_to_the_cpu_wheel_index() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [pin] = [d for d in pyproject["project"]["dependencies"] if d.startswith("torch==")]
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in instructions("ARG") if "=" in a}
    runs = [interpolate(r.replace('"', ""), args) for r in instructions("RUN")]
    torch_runs = [i for i, r in enumerate(runs) if "pip install" in r and "torch" in r]
    assert torch_runs, "no RUN installs torch"
    words = shlex.split(runs[torch_runs[0]])
    assert pin in words, f"torch must be installed as {pin} (pyproject.toml)"
    index = words[words.index("--index-url") + 1]
    assert index.rstrip("/").endswith("/whl/cpu"), "the CPU wheel index, or CUDA gets pulled"
    project_runs = [i for i, r in enumerate(runs) if re.search(r"pip install (-e )?\.(\s|$)", r)]
    assert project_runs and torch_runs[0] < project_runs[0], "torch before the project"


def test_every_package_folder_is_copied_and_not_ignored() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    folders = {p.split("/")[0] for p in pyproject["tool"]["setuptools"]["package-dir"].values()}
    needed = folders | {"pyproject.toml", pyproject["project"]["readme"]}
    copied = {
        PurePosixPath(source).parts[0]
        for arguments in instructions("COPY")
        for source in shlex.split(arguments)[:-1]
        if not source.startswith("--")
    }
    assert needed <= copied, f"not copied into the image: {sorted(needed - copied)}"
    ignored = {
        line.strip().strip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert not needed & ignored, f".dockerignore drops {sorted(needed & ignored)}"
    assert {".env", ".venv", ".git", "tools/cypher-lint/node_modules"} <= ignored
    assert "tools/explore-assets/node_modules" in ignored  # the node stage installs its own
    assert not {"tools/explore-assets", "tools"} & ignored


def test_runs_as_a_non_root_user() -> None:
    order = [kw for kw, _ in dockerfile()]
    users = instructions("USER")
    assert users, "no USER: the API would run as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert order.index("CMD") > len(order) - 1 - order[::-1].index("USER")


def test_serves_on_all_interfaces_on_the_published_port(compose: dict[str, Any]) -> None:
    command = json.loads(instructions("CMD")[-1])
    assert command[:2] == ["tailgraph", "serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    port = int(command[command.index("--port") + 1])
    assert str(port) in " ".join(instructions("EXPOSE")).split()
    assert port in container_ports(compose["services"]["api"])
    healthcheck = " ".join(compose["services"]["api"]["healthcheck"]["test"])
    assert f":{port}/health" in healthcheck


# -- docs ------------------------------------------------------------------------------------
def test_docs_give_the_commands_that_run_the_stack() -> None:
    text = (ROOT / "docs" / "neo4j.md").read_text(encoding="utf-8")
    for command in (
        "cp .env.example .env",
        "docker compose up",
        "docker compose exec api tailgraph demo",
        "http://localhost:7474",
    ):
        assert command in text, f"docs/neo4j.md does not show `{command}`"


def test_browser_style_sheet_covers_the_graph_model() -> None:
    text = (ROOT / "docs" / "tailgraph.grass").read_text(encoding="utf-8")
    rules: dict[str, dict[str, str]] = {}
    selector = None
    for line in (raw.strip() for raw in text.splitlines()):
        if line.endswith("{"):
            selector = line[:-1].strip()
            rules[selector] = {}
        elif line == "}":
            selector = None
        elif line:
            assert selector is not None and line.endswith(";"), f"GraSS syntax: {line!r}"
            key, _, value = line[:-1].partition(":")
            rules[selector][key.strip()] = value.strip()
    for label in ("User", "Item", "Entity"):
        rule = rules[f"node.{label}"]
        assert re.fullmatch(r'"\{\w+\}"', rule["caption"]), f"node.{label} caption"
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", rule["color"])
        assert rule["diameter"].endswith("px")
    assert rules["node.Item"]["caption"] == '"{title}"'
    assert rules["relationship.INTERACTED"]["caption"] == '"{rating}"'
    assert rules["relationship.RECOMMENDED"]["caption"] == '"{rank}"'
    assert "tailgraph.grass" in (ROOT / "docs" / "browse.md").read_text(encoding="utf-8")
