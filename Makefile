# Kinderflow: `make run` (embedded demo on http://127.0.0.1:8000) and `make test` (everything, for real).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint install deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The Debian packages the running service needs (CJK fonts, LibreOffice), installed where missing.
deps:
	bash scripts/ensure-system-deps.sh run

run: export KINDERFLOW_DEMO ?= true
run: $(STAMP) deps
	$(BIN)/kinderflow migrate
	$(BIN)/kinderflow load-demo
	@echo "Kinderflow 运行于 http://127.0.0.1:8000 （API 文档 http://127.0.0.1:8000/api/docs）"
	$(BIN)/kinderflow serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	bash scripts/ensure-system-deps.sh test
	bash scripts/ensure-services.sh
	$(BIN)/ruff check api workflows templates workers storage tests
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	bash scripts/ensure-services.sh
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check api workflows templates workers storage tests

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
