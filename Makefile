# Two commands on a fresh machine: `make run` serves the portal with the demo catalogue,
# `make test` runs the whole suite. Everything they need is installed from here.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
# Where `make run` serves the portal: its QR codes and shared links point here (unless the site
# settings name another address than the demo's). Behind a proxy or a public name, set it:
# `make run HOST=0.0.0.0 BASE_URL=https://thutuc.example.gov.vn`.
BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run test lint format messages translations system-deps instance clean

run: $(VENV)/.installed translations instance
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.installed translations system-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	./.ci/test-passes

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The interface's strings (Vietnamese, the source language) for translators: extract them into
# translations/messages.pot and merge them into each language's catalogue (new strings come in
# empty, changed ones marked fuzzy: translate them, then `make translations`). A new language:
# `pybabel init -i translations/messages.pot -d translations -l LANG`.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --width 100 --ignore-obsolete

# Compile the catalogues (.po -> .mo, which are built, not committed) for the running portal.
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics

# Create the database and instance folders; load the demo catalogue when the database is empty;
# point QR codes at BASE_URL unless an admin has set another address.
instance: $(VENV)/.installed translations
	$(FLASK) init-db --demo-if-empty --base-url "$(BASE_URL)"

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

# Programs the tests drive: Debian's Chromium for the browser tests, PostgreSQL for the second
# database pass. Installed when missing and this user can (root); otherwise the tests say why
# they cannot run.
system-deps:
	@./.ci/system-deps

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
