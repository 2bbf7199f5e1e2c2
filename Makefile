# kompetensbot: two commands for a fresh machine.
#   make demo  - venv, install, migrate, load the 2025 example, show the funds table,
#                then start the bot in demo mode on http://127.0.0.1:3978/api/messages,
#                with the example's own date (DEMO_TODAY) and no automatic rounds
#   make test  - venv, install with dev extras, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test install lint clean

# The demo answers as the README says on any day: it serves the 2025 example on
# its own date, inside the June round. `make demo DEMO_TODAY=` takes the real date;
# the June and December rounds open by themselves only when asked for
# (`make demo KOMPETENSBOT_AUTO_ROUNDS=1`); SERVE_ARGS goes to `kompetensbot serve`
# after these (`SERVE_ARGS="--port 4000"`; a --today there wins).
DEMO_TODAY ?= 2025-06-05
KOMPETENSBOT_AUTO_ROUNDS ?= 0
SERVE_ARGS ?=

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
	KOMPETENSBOT_TODAY=$(DEMO_TODAY) $(BIN)/kompetensbot funds --year 2025
	KOMPETENSBOT_AUTO_ROUNDS=$(KOMPETENSBOT_AUTO_ROUNDS) \
		$(BIN)/kompetensbot serve --demo $(if $(DEMO_TODAY),--today $(DEMO_TODAY)) $(SERVE_ARGS)

test: install $(NODE_STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check core storage bot dialogs tests

clean:
	rm -rf $(VENV) var build .pytest_cache
