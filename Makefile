# kompetensbot: two commands for a fresh machine.
#   make demo  - venv, install, migrate, load the 2025 example, show the funds table,
#                then start the bot in demo mode on http://127.0.0.1:3978/api/messages
#   make test  - venv, install with dev extras, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test install lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# Node tools for the tests (the Teams schemas, offline), installed from the lock file.
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP)

demo: install
	$(BIN)/kompetensbot db upgrade
	$(BIN)/kompetensbot load-example malmo-2025
	$(BIN)/kompetensbot funds --year 2025
	$(BIN)/kompetensbot serve --demo $(SERVE_ARGS)

test: install $(NODE_STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check core storage bot dialogs tests

clean:
	rm -rf $(VENV) var build .pytest_cache
