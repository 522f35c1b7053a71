# Two entry points for a fresh machine: `make run` (set up, then the chat) and `make test` (set up, then the tests).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup browser run test lint bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -c constraints.txt -e ".[dev]"
	touch $@

# Debian's Chromium drives the browser end-to-end test (no browser download).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

run: setup
	$(PY) app.py

test: setup browser
	$(PY) -m ruff check .
	$(PY) -m pytest

bench: setup
	$(PY) -m bench --quick
