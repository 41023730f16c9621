# Two commands for a fresh machine (Python 3.11, pip, apt):
#   make run   sets up the app's venv and starts Loupe on its embedded defaults (local store, bundled models)
#   make test  sets up everything the tests need (venv, apt packages, local DynamoDB servers), lints, builds the docs, runs them
# Both are quick when already set up: each step re-runs only when its inputs changed.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := chromium espeak-ng sox fonts-noto-color-emoji

.PHONY: run test test-fast lint docs setup setup-test bench

# The UI on 127.0.0.1:UI_PORT (8501) and the AWS-compatible API (python -m core serve-api) next to it on API_PORT (8502),
# stopped together: `make run UI_PORT=9001 API_PORT=9002` moves both. Model work runs on a local Dask cluster of worker
# processes (LOUPE_DASK=local), a process of its own that the app starts (core/local_cluster.py), unless LOUPE_DASK or
# LOUPE_DASK_SCHEDULER says otherwise (core/cluster.py); Config's own default, for tests and scripts, is "off".
# The API labels the one image of a synchronous DetectLabels call in its own process (LOUPE_DASK=off there), so the app's
# is the only local cluster. tests/browser/test_make_run_browser.py runs this target as it is, in a real browser.
UI_PORT ?= 8501
API_PORT ?= 8502

run: $(VENV)/.runtime-installed
	LOUPE_DASK=off OMP_WAIT_POLICY=PASSIVE $(PY) -m core serve-api --host 127.0.0.1 --port $(API_PORT) & api=$$!; \
	trap 'kill $$api 2>/dev/null; wait $$api 2>/dev/null' EXIT INT TERM; \
	LOUPE_DASK=$${LOUPE_DASK:-local} OMP_WAIT_POLICY=PASSIVE $(PY) -m streamlit run server.py --server.port $(UI_PORT)

test: setup-test lint docs
	bash scripts/with-test-servers.sh $(PY) -m pytest

# The inner loop: everything but the browser, cluster and slow tests, on two processes (pytest-xdist), next to the same
# servers; `make test` runs them all, one at a time, as CI does.
test-fast: setup-test
	bash scripts/with-test-servers.sh $(PY) -m pytest -m "not browser and not cluster and not slow" -n 2 -q

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The docs site (mkdocs.yml) into site/: --strict fails on a broken link or anchor, and docs/hooks.py generates the
# command line, configuration and module references from the code. NO_MKDOCS_2_WARNING quiets Material's banner.
docs: $(VENV)/.dev-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

setup: $(VENV)/.runtime-installed

setup-test: $(VENV)/.dev-installed .apt-installed .cache/dynalite/.installed .cache/oidc-provider/.installed

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt $(VENV)/.runtime-installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

# dynalite (a LevelDB-backed DynamoDB for the tests) goes in a project-local npm folder. nodejs/npm come from
# apt only when no node is on PATH, so a node installed another way (nvm, nodesource) is left alone.
.cache/dynalite/.installed: Makefile
	command -v npm >/dev/null || bash scripts/install-system-packages.sh nodejs npm
	npm install --prefix .cache/dynalite --no-audit --no-fund --loglevel=error dynalite@4.0.0
	touch $@

# oidc-provider (a certified OpenID provider) runs on loopback for the sign-in browser tests: scripts/oidc-provider.mjs.
.cache/oidc-provider/.installed: Makefile
	command -v npm >/dev/null || bash scripts/install-system-packages.sh nodejs npm
	npm install --prefix .cache/oidc-provider --no-audit --no-fund --loglevel=error oidc-provider@9.13.3
	touch $@

.apt-installed: Makefile
	bash scripts/install-system-packages.sh $(APT_PACKAGES)
	touch $@

bench: setup-test
	for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
