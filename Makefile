# `make run` serves the API on SQLite; `make test` runs lint, types and the suite on SQLite
# and PostgreSQL. Both set up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export DATABASE_URL ?= sqlite:///./var/rehab.db
export TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test lint typecheck test-sqlite test-postgres migrate seed-demo fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

var/secret_key:
	@mkdir -p var
	@$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@
	@echo "make: made a development secret key in var/secret_key (set REHAB_SECRET_KEY to use your own)"

run: $(VENV)/.installed var/secret_key
	@mkdir -p var
	REHAB_SECRET_KEY=$${REHAB_SECRET_KEY:-$$(cat var/secret_key)} $(BIN)/rehab migrate
	REHAB_SECRET_KEY=$${REHAB_SECRET_KEY:-$$(cat var/secret_key)} $(BIN)/rehab serve --host $(HOST) --port $(PORT)

migrate: $(VENV)/.installed
	@mkdir -p var
	$(BIN)/rehab migrate

seed-demo: migrate
	$(BIN)/rehab seed-demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

test-sqlite: $(VENV)/.installed-dev
	TEST_DB=sqlite $(BIN)/pytest

test-postgres: $(VENV)/.installed-dev
	@if $(BIN)/python -m tests.database; then \
		TEST_DB=postgres $(BIN)/pytest; \
	elif [ "$$REQUIRE_POSTGRES" = "1" ]; then \
		echo "make: no PostgreSQL answers at $$TEST_POSTGRES_URL and REQUIRE_POSTGRES=1: failing"; exit 1; \
	else \
		echo "make: no PostgreSQL answers at $$TEST_POSTGRES_URL: SKIPPING the PostgreSQL half of the suite"; \
	fi

test: lint typecheck test-sqlite test-postgres

clean:
	rm -rf $(VENV) var build *.egg-info
