# The two quick-start commands (README): `make demo` runs the main job, `make test` the
# tests. Each sets itself up on a fresh machine: a virtual environment in .venv with the
# project and its test extras, and (for the tests) a running local PostgreSQL.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest postgres bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/syncd demo

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) postgres
	$(BIN)/pytest -q

postgres:
	@scripts/ensure-postgres

bench: $(STAMP) postgres
	$(BIN)/python bench/store_upsert.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
