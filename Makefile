# The two commands: `make dev` runs the local stack, `make test` runs the suite.
# Both create .venv and install what they need on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
# SAM CLI pins its own dependencies, so it gets a virtualenv of its own.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
# Where `make dev` serves: `make dev PORT=8002` (or HOST=0.0.0.0 to serve the network).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: dev test check bench build sam clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(SAM): infra/requirements-sam.txt
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -r infra/requirements-sam.txt
	touch $(SAM)

sam: $(SAM)

dev: $(STAMP)
	$(VENV)/bin/lambdagraph dev --host $(HOST) --port $(PORT)

# Lint, types (the package, the client, each function on its own: they are all app.py)
# and the layering contracts of DESIGN.md §9b (import-linter, [tool.importlinter]).
check: $(STAMP)
	$(VENV)/bin/ruff check layers client functions tests
	$(VENV)/bin/mypy layers/lambdagraph/lambdagraph client/lambdagraph_client
	for app in functions/*/app.py; do $(VENV)/bin/mypy $$app || exit 1; done
	$(VENV)/bin/lint-imports

# The packaging tests run `sam build`, so the suite needs SAM CLI too.
test: $(STAMP) $(SAM) check
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m tests.bench

# The Lambda artifacts: needs a local Python of the template's Runtime (python3.14 by
# default; `make build SAM_ARGS="--parameter-overrides Runtime=python3.11"` or --use-container).
build: $(SAM)
	SAM_CLI_TELEMETRY=0 $(SAM) build $(SAM_ARGS)

clean:
	rm -rf $(VENV) $(SAM_VENV) .pytest_cache .aws-sam
