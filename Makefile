# The README's two commands, plus a few helpers:
#
#   make run             the demo: venv, migrations, demo data, web + worker + scheduler + Redis
#   make test            the suite twice: SQLite, then a throwaway PostgreSQL (plus a real Redis)
#   make lint            ruff check, ruff format --check, import contracts (make test runs it first)
#   make bench           every bench/bench_*.py against the throwaway PostgreSQL and Redis
#   make mutate          mutation testing of the money core (mutmut; docs/mutation-testing.md)
#   make services-start  start the throwaway PostgreSQL (:54329) and Redis (:63799) by hand
#   make services-stop   stop them and delete their data
#   make clean           remove caches and temporary files (keeps .venv and instance/)
#   make distclean       clean, plus .venv and instance/ (the demo database)
#
# See docs/operations.md for the processes, ports and settings.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
# Each recipe runs in one bash, so traps and variables last for the whole recipe.
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev-test
FLASK := $(BIN)/flask --app wsgi

TEST_PG_URL := postgresql://postgres@127.0.0.1:54329
TEST_REDIS_URL := redis://127.0.0.1:63799/0
PYTEST_ARGS := -n 2 -p no:cacheprovider

.PHONY: help venv system-deps run test lint bench mutate services-start services-stop clean distclean

help:
	@sed -n '1,13p' Makefile | sed 's/^# \{0,1\}//'

# --- the virtualenv ---------------------------------------------------------------------------

$(BIN)/python:
	@echo "Creating $(VENV) with $(PYTHON)"
	@test -n "$(PYTHON)" || { echo "python3.11 not found: install it (apt-get install python3.11-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e '.[dev,test]'
	@touch $@

venv: $(STAMP)

# redis-server, chromium (and the PostgreSQL server if absent): installed with apt when
# root, otherwise named so a person can install them.
system-deps:
	@scripts/test_services.sh deps

# --- make run ---------------------------------------------------------------------------------

run: $(STAMP)
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) demo seed --debtors 300 --if-empty
	exec $(BIN)/python scripts/run_dev.py

# --- make test --------------------------------------------------------------------------------

# Lint first: style never drifts, and a lint failure costs seconds, not a suite run.
test: lint system-deps
	@started=$$SECONDS
	trap 'scripts/test_services.sh stop' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	scripts/test_services.sh start
	mkdir -p .tmp
	export TEST_REDIS_URL='$(TEST_REDIS_URL)'
	# run_suite LABEL DATABASE_URL [pytest args...]: output to the terminal and .tmp/pytest-LABEL.log
	run_suite() {
		local label=$$1 url=$$2 rc=0 t0=$$SECONDS; shift 2
		echo; echo "=== pytest on $$label (TEST_DATABASE_URL=$$url) ==="
		TEST_DATABASE_URL=$$url $(BIN)/python -m pytest $(PYTEST_ARGS) "$$@" 2>&1 \
			| tee .tmp/pytest-$$label.log || rc=$$?
		local outcome
		outcome=$$(grep -E '^=+ .* in [0-9.]+s' .tmp/pytest-$$label.log | tail -n 1 | sed -E 's/^=+ //; s/ =+$$//' || true)
		case $$rc in
			0) status=passed ;;
			5) status="FAILED: no tests were collected" ;;
			*) status="FAILED (pytest exit $$rc)" ;;
		esac
		summary+=("$$(printf '%-11s %s -- %s [%ss]' "$$label" "$$status" "$${outcome:-no summary}" "$$((SECONDS - t0))")")
		return $$rc
	}
	summary=()
	failed=0
	run_suite sqlite 'sqlite://' || failed=1
	# The e2e tests drive the web layer in Chromium, not the database, so the PostgreSQL run
	# leaves them out; the SQLite run above covers them.
	run_suite postgresql '$(TEST_PG_URL)/recovery_test' -m 'not e2e' || failed=1
	echo
	echo "=== make test summary ($$((SECONDS - started))s) ==="
	printf '  %s\n' "$${summary[@]}"
	if [ $$failed -ne 0 ]; then echo "make test: FAILED"; exit 1; fi
	echo "make test: passed"

# --- helpers ----------------------------------------------------------------------------------

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	# The architecture contracts in pyproject.toml ([tool.importlinter]).
	$(BIN)/lint-imports

bench: $(STAMP) system-deps
	@trap 'scripts/test_services.sh stop' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	shopt -s nullglob
	benches=(bench/bench_*.py)
	if [ $${#benches[@]} -eq 0 ]; then echo "No benchmarks (bench/bench_*.py) yet."; exit 0; fi
	scripts/test_services.sh start
	scripts/test_services.sh createdb recovery_bench
	export BENCH_DATABASE_URL='$(TEST_PG_URL)/recovery_bench'
	export BENCH_REDIS_URL='$(TEST_REDIS_URL)'
	failed=()
	for bench in "$${benches[@]}"; do
		echo; echo "=== $$bench ==="
		$(BIN)/python "$$bench" || failed+=("$$bench")
	done
	if [ $${#failed[@]} -ne 0 ]; then echo "make bench: failed: $${failed[*]}"; exit 1; fi
	echo "make bench: ran $${#benches[@]} benchmark(s)"

# Mutants of shared/domain and the ledger, balances and allocation services against the fast
# tests ([tool.mutmut] in pyproject.toml). Not part of `make test`: it takes minutes. mutmut
# keeps its results in mutants/ and reruns only what changed; `rm -rf mutants` starts afresh.
mutate: $(STAMP)
	@started=$$SECONDS
	$(BIN)/mutmut run
	echo
	echo "=== make mutate ($$((SECONDS - started))s) ==="
	$(BIN)/python scripts/mutation_score.py

services-start: system-deps
	@scripts/test_services.sh start
	echo "TEST_DATABASE_URL=$(TEST_PG_URL)/recovery_test TEST_REDIS_URL=$(TEST_REDIS_URL)"

services-stop:
	@scripts/test_services.sh stop

clean:
	@scripts/test_services.sh stop >/dev/null 2>&1 || true
	rm -rf .tmp .pytest_cache .ruff_cache .import_linter_cache .hypothesis test-results build dist *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) instance
