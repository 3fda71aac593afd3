# The two commands of the README: `make run` and `make test`. Both set everything up themselves.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test services browser lint imports typecheck pytest clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || (echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: venv, install, migrate, demo data, then the server with a console chat.
run: $(STAMP)
	$(BIN)/python -m bot db upgrade
	$(BIN)/python -m bot run --demo-data --console

## make test: venv, install, lint, import contracts, type check, tests on SQLite and PostgreSQL
## (and Chromium).
test: $(STAMP) services browser lint imports typecheck pytest

services:
	@scripts/ensure-services.sh

browser:
	@scripts/ensure-browser.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## The layers of docs/architecture.md and no import cycle (imports inside functions included).
imports: $(STAMP)
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy bot

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data
