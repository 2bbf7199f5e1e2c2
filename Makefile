# kompetensbot: two commands for a fresh machine.
#   make demo  - venv, install, migrate, load the 2025 example, show the funds table,
#                then start the bot in demo mode on http://127.0.0.1:3978/api/messages,
#                with the example's own date (DEMO_TODAY) and no automatic rounds
#   make test  - venv, install with dev extras, run the whole test suite
#   make lint  - ruff check, ruff format --check, mypy strict over our packages
#   make lock  - regenerate requirements/*.txt from pyproject.toml (README: "The lock files")
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The versions and hashes every install takes: main.txt the running bot's, dev.txt the same
# plus the test and lint tools. The stamp changes when pyproject.toml or a lock file does.
LOCKS := requirements/main.txt requirements/dev.txt
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCKS) | cksum | cut -d' ' -f1)

.PHONY: demo test install lint lock clean screenshots

# The demo answers as the README says on any day: it serves the 2025 example on
# its own date, inside the June round. `make demo DEMO_TODAY=` takes the real date;
# the June and December rounds open by themselves only when asked for
# (`make demo KOMPETENSBOT_AUTO_ROUNDS=1`); SERVE_ARGS goes to `kompetensbot serve`
# after these (`SERVE_ARGS="--port 4000"`; a --today there wins).
DEMO_TODAY ?= 2025-06-05
KOMPETENSBOT_AUTO_ROUNDS ?= 0
SERVE_ARGS ?=
# The Playground's tenant (.m365agentsplayground.yml) is linked to Malmö, so the chat stays
# Malmö's when another example shares the database (`kompetensbot load-example hagersten-liljeholmen`).
PLAYGROUND_TENANT := $(shell sed -n 's/^tenantId: *//p' .m365agentsplayground.yml)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# pip refuses an editable install beside --require-hashes, so the lock goes in first (every
# package at its pinned version, each file checked against its hash) and then the project alone;
# pip check fails when pyproject.toml asks for something the lock does not hold (run make lock).
$(STAMP): $(BIN)/python pyproject.toml $(LOCKS)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

# pip-compile (pip-tools) in a venv of its own under build/, so the project's venv holds only
# the lock. It keeps every pin already in a lock file; LOCK_ARGS=--upgrade moves all of them,
# LOCK_ARGS="--upgrade-package sqlalchemy" one.
PIP_TOOLS := build/pip-tools
LOCK_ARGS ?=
COMPILE = CUSTOM_COMPILE_COMMAND="make lock" $(PIP_TOOLS)/bin/pip-compile --quiet --generate-hashes \
	--allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

lock:
	test -x $(PIP_TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(PIP_TOOLS) && \
		$(PIP_TOOLS)/bin/python -m pip install --quiet pip-tools==7.6.2; }
	$(COMPILE) -o requirements/main.txt pyproject.toml
	$(COMPILE) --extra dev --constraint requirements/main.txt -o requirements/dev.txt pyproject.toml

# Node tools for the tests (the Teams schemas, offline), installed from the lock file.
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP)

demo: install
	$(BIN)/kompetensbot db upgrade
	$(BIN)/kompetensbot load-example malmo-2025
	$(BIN)/kompetensbot --org malmo tenants link $(PLAYGROUND_TENANT)
	KOMPETENSBOT_TODAY=$(DEMO_TODAY) $(BIN)/kompetensbot --org malmo funds --year 2025
	KOMPETENSBOT_AUTO_ROUNDS=$(KOMPETENSBOT_AUTO_ROUNDS) \
		$(BIN)/kompetensbot serve --demo $(if $(DEMO_TODAY),--today $(DEMO_TODAY)) $(SERVE_ARGS)

# The tests spread over the machine's cores (pytest-xdist), a module to a worker; then the
# end-to-end conversation in Agents Playground on its own (a real browser waits for replies with
# timeouts: next to the other tests on a 2-core machine it was sometimes too slow).
# PYTEST_WORKERS=0 runs the first part in one process.
PYTEST_WORKERS ?= auto

test: install $(NODE_STAMP)
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadscope -m "not e2e" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -q -m e2e tests/e2e $(PYTEST_ARGS)

# The README's pictures (docs/screenshots/), taken by the end-to-end test in Agents Playground:
# run this when what they show changes, and commit the ones that did (not on every run).
SCREENSHOTS := 08-june-prompt 09-round-status 10-overview 11-ksau-card 11-ksau-decided

screenshots: install $(NODE_STAMP)
	$(BIN)/python -m pytest -q -m e2e tests/e2e
	mkdir -p docs/screenshots
	for shot in $(SCREENSHOTS); do cp build/e2e/$$shot.png docs/screenshots/; done

# mypy takes its packages and its strictness from [tool.mypy] in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var build .pytest_cache
