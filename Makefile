# gcrm: `make run` serves the app with demo data (`WORKERS=N`: N processes on the ports
# PORT…PORT+N-1), `make test` runs the whole suite.
# Both first run the idempotent set-up (system packages, .venv, the project).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
HOST ?= 127.0.0.1
WORKERS ?= 1

.PHONY: setup system run test lint

setup: system $(VENV)/.installed

system:
	@bash scripts/setup-system.sh $(SYSTEM_FLAGS)

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "gcrm needs Python 3.11 or newer"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

run: setup
	@$(BIN)/gcrm demo --if-empty
	@$(BIN)/gcrm territories seed
	@bash scripts/serve.sh $(BIN) $(HOST) $(PORT) $(WORKERS)

test: SYSTEM_FLAGS = --browser
test: setup
	@$(BIN)/python -m pytest

lint: setup
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
