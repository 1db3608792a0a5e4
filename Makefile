# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create/refresh .venv idempotently: torch==2.13.0 (CPU wheel) first, then the project.
# `make test` also installs the test tools: the Neo4j Cypher linter and the /explore page's
# graph library (npm, into git-ignored node_modules) and headless Chromium (Debian package).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.tailgraph-installed
LINT   := tools/cypher-lint
VIS    := tools/explore-assets

.PHONY: demo test test-all quality assets browser lint contracts clean

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

demo: $(STAMP) assets
	$(BIN)/tailgraph demo

test: lint contracts assets browser $(LINT)/node_modules/.package-lock.json
	$(BIN)/pytest

test-all: $(STAMP) assets browser $(LINT)/node_modules/.package-lock.json
	$(BIN)/pytest -m 'not neo4j and not gpu'

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
	rm -rf $(VENV) build *.egg-info $(LINT)/node_modules $(VIS)/node_modules
