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

# The JS client's tests (tests/js) install exactly what package-lock.json pins.
JS_STAMP := tests/js/node_modules/.package-lock.json
# So do the React example's (examples/react, tests/e2e/test_react_example.py).
REACT_STAMP := examples/react/node_modules/.package-lock.json
# The browser tests drive Debian's chromium; Playwright never downloads one.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell test "$$(id -u)" = 0 || echo sudo)

.PHONY: dev test check bench build sam js react-example chromium clean

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

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund
	touch $(JS_STAMP)

js: $(JS_STAMP)

$(REACT_STAMP): examples/react/package.json examples/react/package-lock.json
	cd examples/react && npm ci --no-audit --no-fund
	touch $(REACT_STAMP)

react-example: $(REACT_STAMP)

chromium:
	test -x $(CHROMIUM) || ($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

dev: $(STAMP)
	$(VENV)/bin/lambdagraph dev --host $(HOST) --port $(PORT)

# Lint, types (the package, the client, each function on its own: they are all app.py)
# and the layering contracts of DESIGN.md §9b (import-linter, [tool.importlinter]).
check: $(STAMP)
	$(VENV)/bin/ruff check layers client functions tests
	$(VENV)/bin/mypy layers/lambdagraph/lambdagraph client/lambdagraph_client
	for app in functions/*/app.py; do $(VENV)/bin/mypy $$app || exit 1; done
	$(VENV)/bin/lint-imports

# The packaging tests run `sam build`, so the suite needs SAM CLI too; the JS client test Node
# packages, the React example's and chromium for the browser tests. One pytest worker per
# core, a test file per worker at a time (its servers and module fixtures start once).
test: $(STAMP) $(SAM) $(JS_STAMP) $(REACT_STAMP) chromium check
	$(PY) -m pytest -n auto --dist loadfile

bench: $(STAMP)
	$(PY) -m tests.bench

# The Lambda artifacts: needs a local Python of the template's Runtime (python3.14 by
# default; `make build SAM_ARGS="--parameter-overrides Runtime=python3.11"` or --use-container),
# which also compiles their bytecode (SAM ships none: every cold start would compile it).
build: $(SAM)
	SAM_CLI_TELEMETRY=0 $(SAM) build $(SAM_ARGS)
	python3 infra/precompile.py .aws-sam/build

clean:
	rm -rf $(VENV) $(SAM_VENV) .pytest_cache .aws-sam tests/js/node_modules examples/react/node_modules examples/react/dist
