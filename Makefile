# One command to run, one to test. Everything else is a helper of those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA_DIR ?= $(CURDIR)/data
PORT ?= 3000
NODE_DIR := tests/compat/node

.PHONY: run test lint bench install node-deps system-deps constraints clean

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## make run: set up and start the appliance on http://127.0.0.1:$(PORT) with data in ./data
run: install
	$(VENV)/bin/openpanel serve --data-dir "$(DATA_DIR)" --port $(PORT)

## make test: set up (Python, npm SDKs, system packages) and run the whole suite
test: install node-deps system-deps
	$(PY) -m pytest

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed

# Debian packages the browser tests need (installed only when missing; needs root).
system-deps:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install
	$(PY) bench/ingest.py

constraints: install
	$(PY) -m pip freeze --exclude-editable | grep -v '^openpanel-appliance' > constraints.new
	{ head -2 constraints.txt; cat constraints.new; } > constraints.txt.tmp && rm constraints.new
	mv constraints.txt.tmp constraints.txt

clean:
	rm -rf $(VENV) $(NODE_DIR)/node_modules build dist *.egg-info
