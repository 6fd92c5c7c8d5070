# One command to run, one to test. Everything else is a helper of those two.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA_DIR ?= $(CURDIR)/data
PORT ?= 3000
NODE_DIR := tests/compat/node
WEB_ASSETS := web/assets
# The packaging tests (fresh install, PyInstaller bundle, desktop window under Xvfb) are opt-in
# locally and always run in CI: either variable pulls in their dependencies.
PACKAGING_TESTS := $(if $(CI)$(OPENPANEL_PACKAGING_TESTS),yes,)

.PHONY: run test lint bench install node-deps web-assets system-deps constraints clean \
	packaging-deps desktop-system-deps bundle

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## make run: set up and start the appliance on http://127.0.0.1:$(PORT) with data in ./data
## (an empty data dir first gets the Demo project: 30 days of generated traffic)
run: install web-assets
	@test -e "$(DATA_DIR)/meta.db" || $(VENV)/bin/openpanel demo --data-dir "$(DATA_DIR)"
	$(VENV)/bin/openpanel serve --data-dir "$(DATA_DIR)" --port $(PORT)

## make test: set up (Python, npm SDKs, system packages) and run the whole suite
test: install node-deps web-assets system-deps $(if $(PACKAGING_TESTS),packaging-deps)
	$(PY) -m pytest

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed

# Browser files the dashboard serves itself (htmx, the op1.js tracker): pinned npm packages.
$(WEB_ASSETS)/node_modules/.installed: $(WEB_ASSETS)/package.json $(WEB_ASSETS)/package-lock.json
	cd $(WEB_ASSETS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web-assets: $(WEB_ASSETS)/node_modules/.installed

# Debian packages the browser tests need (installed only when missing; needs root).
system-deps: $(if $(PACKAGING_TESTS),desktop-system-deps)
	@command -v chromium >/dev/null || { \
	  echo "installing Debian chromium for the browser tests"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# The desktop window (pywebview + PyQt6 WebEngine, ~530 MB), PyInstaller and hadolint.
$(VENV)/.packaging-installed: $(VENV)/.installed
	$(PY) -m pip install -q -c constraints.txt -e ".[dev,desktop,packaging]"
	touch $@

packaging-deps: $(VENV)/.packaging-installed

# Debian's Xvfb and the X/GL/NSS runtime libraries QtWebEngine loads (installed when missing).
QT_RUNTIME_DEBS := xvfb xauth libnss3 libxcomposite1 libxdamage1 libxrandr2 libxkbcommon0 \
	libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libegl1 libgl1 libasound2 \
	libxtst6 libxshmfence1 libgbm1 libdbus-1-3 libfontconfig1
desktop-system-deps:
	@missing=$$(for deb in $(QT_RUNTIME_DEBS); do dpkg -s $$deb >/dev/null 2>&1 || echo $$deb; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the desktop tests:" $$missing; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi

## make bundle: the PyInstaller one-folder bundle in dist/openpanel (openpanel.spec)
bundle: packaging-deps web-assets
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN openpanel.spec
	@du -sh dist/openpanel

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
	rm -rf $(VENV) $(NODE_DIR)/node_modules $(WEB_ASSETS)/node_modules build dist *.egg-info
