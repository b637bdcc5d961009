PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := tools/cypher-lint/node_modules/.installed

.PHONY: install demo test lint typecheck unit cypher-lint-deps bench bench-api wheel-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(NODE_STAMP): tools/cypher-lint/package.json tools/cypher-lint/package-lock.json
	npm ci --no-audit --no-fund --prefix tools/cypher-lint
	touch $(NODE_STAMP)

cypher-lint-deps: $(NODE_STAMP)

demo: $(STAMP)
	$(BIN)/idgraph demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy identity_graph loaders api

unit: $(STAMP) cypher-lint-deps
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/fuzzy.py
	$(BIN)/python benchmarks/segments.py

bench-api: $(STAMP)
	$(BIN)/python benchmarks/api_load.py

wheel-check: $(STAMP)
	bash .ci/wheel-check

clean:
	rm -rf $(VENV) build dist *.egg-info tools/cypher-lint/node_modules
