# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create/refresh .venv idempotently: torch==2.13.0 (CPU wheel) first, then the project.
# `make test` also installs the test tools: the Neo4j Cypher linter and the /explore page's
# graph library (npm, into git-ignored node_modules) and headless Chromium (Debian package),
# and builds the local Neo4j (neo4j-launcher/, Maven) that the store tests run on.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tailgraph-installed
LINT   := tools/cypher-lint
VIS    := tools/explore-assets
NEO4J_LAUNCHER := neo4j-launcher/target/neo4j-launcher.jar
NEO4J_GDS      := neo4j-launcher/target/gds-lib/.built

.PHONY: demo test test-all quality assets browser lint contracts clean neo4j-launcher neo4j-gds jdk

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(LINT)/node_modules/.package-lock.json: $(LINT)/package-lock.json
	cd $(LINT) && npm ci --no-audit --no-fund --loglevel=error

$(VIS)/node_modules/.package-lock.json: $(VIS)/package-lock.json
	cd $(VIS) && npm ci --no-audit --no-fund --loglevel=error

# The /explore page's graph library, vendored from npm at build time (never a CDN at run time).
assets: $(VIS)/node_modules/.package-lock.json

# Headless Chromium for the /explore browser test (Debian's package; needs root or sudo).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Java 17+ and Maven for the local Neo4j (Debian's packages when missing; needs root or sudo).
jdk:
	@{ command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; } || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq openjdk-17-jdk-headless maven >/dev/null; }
	@java -version 2>&1 | awk -F'"' '/version/ { split($$2, v, "."); \
	  if (v[1] + 0 < 17) { print "the local Neo4j needs Java 17+, found " $$2; exit 1 } }'

# The local Neo4j: Neo4j Community embedded with Bolt, its dependencies copied to target/lib at
# build time. Offline (-o) when ~/.m2 already holds them; otherwise resolved from Maven Central.
$(NEO4J_LAUNCHER): neo4j-launcher/pom.xml $(wildcard neo4j-launcher/src/main/java/org/tailgraph/neo4j/*.java)
	rm -rf neo4j-launcher/target/lib
	cd neo4j-launcher && { mvn -q -B -o package 2>/dev/null || mvn -q -B package; }
	touch $@

neo4j-launcher: jdk $(NEO4J_LAUNCHER)

# Optional: the Graph Data Science library (open edition, ~15 MB of jars) for the local Neo4j,
# copied to target/gds-lib at build time; `tailgraph db start --store neo4j --gds` (or
# TAILGRAPH_NEO4J_GDS=1) serves it, and the `gds_fastrp` peer needs it (skipped without).
$(NEO4J_GDS): neo4j-launcher/gds/pom.xml
	rm -rf neo4j-launcher/target/gds-lib
	cd neo4j-launcher/gds && { mvn -q -B -o package 2>/dev/null || mvn -q -B package; }
	touch $@

neo4j-gds: neo4j-launcher $(NEO4J_GDS)

demo: $(STAMP) assets $(if $(filter neo4j,$(TAILGRAPH_STORE)),neo4j-launcher)
	$(BIN)/tailgraph demo

test: lint contracts assets browser neo4j-launcher neo4j-gds $(LINT)/node_modules/.package-lock.json
	$(BIN)/pytest

test-all: $(STAMP) assets browser neo4j-launcher neo4j-gds $(LINT)/node_modules/.package-lock.json
	$(BIN)/pytest -m 'not gpu'

# The recorded ml-100k quality report (bench/README.md): our splits exported, RecBole's
# LightGCN/KGAT/KGIN trained on each (own venv), then every model and peer in one table.
# Resumable: finished peer runs and scored model runs are reused.
quality: $(STAMP)
	$(BIN)/python bench/quality.py --export-splits data/splits --export-only
	bash bench/peers/setup.sh
	$(PYTHON) bench/peers/run_all.py --splits-dir data/splits --record bench/results/peers-ml100k.json
	$(BIN)/python bench/quality.py --peer-results bench/peers/work/peers/*.json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Layer rules (pyproject's [tool.importlinter]) on an installed copy of the package: the code
# folders are mapped into `tailgraph` by package-dir, which import-linter cannot follow.
contracts: $(STAMP)
	rm -rf build/contracts
	$(BIN)/python -m pip install --quiet --no-deps --no-compile --target build/contracts .
	cd build/contracts && ../../$(BIN)/lint-imports ../../pyproject.toml

clean:
	rm -rf $(VENV) build *.egg-info $(LINT)/node_modules $(VIS)/node_modules neo4j-launcher/target
