# Kinderflow: `make run` (embedded demo on http://127.0.0.1:8000) and `make test` (everything, for real).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# Where `make run` serves; documents print QR codes and links to this address (KINDERFLOW_PUBLIC_URL).
RUN_HOST ?= 127.0.0.1
RUN_PORT ?= 8000
# What `make lint` checks, and `make test` before the suite.
LINT_PATHS := api workflows templates workers storage tests bench
# `make deps` installs the Debian packages of this profile (scripts/ensure-system-deps.sh); `make test`
# asks for the test profile, which adds what the suite uses.
DEPS_PROFILE ?= run
LOCK_FLAGS := --quiet --strip-extras --generate-hashes --no-emit-index-url --no-emit-find-links --allow-unsafe

.PHONY: run test bench lint install deps lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Installs come from the lock files (exact versions, hashed); the project itself is installed
# editable on top, without resolving anything again. `make lock` rewrites them from pyproject.toml.
$(RUN_STAMP): requirements/run.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/run.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(TEST_STAMP): requirements/test.txt | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(TEST_STAMP)

lock: | $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements/run.txt pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra test -o requirements/test.txt pyproject.toml

# The Debian packages the running service needs (CJK fonts, LibreOffice, SoftHSM2), installed where missing.
deps:
	bash scripts/ensure-system-deps.sh $(DEPS_PROFILE)

run: export KINDERFLOW_DEMO ?= true
run: export KINDERFLOW_PUBLIC_URL ?= http://$(RUN_HOST):$(RUN_PORT)
run: $(RUN_STAMP) deps
	$(BIN)/kinderflow migrate
	$(BIN)/kinderflow load-demo
	@echo "Kinderflow 运行于 $(KINDERFLOW_PUBLIC_URL) （API 文档 $(KINDERFLOW_PUBLIC_URL)/api/docs）"
	$(BIN)/kinderflow serve --host $(RUN_HOST) --port $(RUN_PORT)

# Lint first (it fails fast); DEPS_PROFILE is target-specific, so the deps prerequisite installs the test profile.
test: DEPS_PROFILE = test
test: $(TEST_STAMP) lint deps
	bash scripts/ensure-services.sh
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	bash scripts/ensure-services.sh
	$(BIN)/python -m bench $(BENCH_ARGS)

# Lint rules, formatting, types (mypy, [tool.mypy]) and the import contracts (import-linter,
# [tool.importlinter]); all configured in pyproject.toml.
lint: $(TEST_STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
