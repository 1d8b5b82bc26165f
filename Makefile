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

# `make bench`: the ladder and the real endpoints on loopback, SQLite and PostgreSQL, 1,000
# patients, a few minutes on 2 cores (bench/README.md). `make bench SCALE=100000 BENCH_DB=postgres`
# for the big data set. wrk comes from Debian's packages, installed (apt-get, as root) only when
# missing. BENCH_ARGS passes anything else to `python -m bench.run`.
SCALE ?= 1000
BENCH_DB ?= both
BENCH_ARGS ?=

$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	@touch $@

bench: $(VENV)/.installed-bench
	@command -v wrk >/dev/null 2>&1 || { \
		echo "make: wrk is missing: installing Debian's package"; \
		apt-get update -qq && apt-get install -y -qq wrk; }
	$(BIN)/python -m bench.run --db $(BENCH_DB) --scale $(SCALE) $(BENCH_ARGS)

# The schemathesis module alone on SQLite, with many more cases per operation than the suite's
# run (FUZZ_EXAMPLES, default 200 here; 8 in `make test`).
fuzz: $(VENV)/.installed-dev
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} TEST_DB=sqlite $(BIN)/pytest tests/fuzz -q

clean:
	rm -rf $(VENV) var build *.egg-info
