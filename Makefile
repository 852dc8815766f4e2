# The two commands of the README. Both install what they need into .venv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-pythons bench clean browser mermaid-js

run: $(STAMP)
	$(BIN)/friction evaluate

# Two processes (pytest-xdist), a test file each at a time: the suite takes half the time
# on two cores, and a file's module fixtures (a Dask cluster, Chromium) start once.
test: $(STAMP) browser mermaid-js
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The HTML report is checked in a real headless browser: Debian's chromium, installed here
# when it is missing and we are root (CI on a fresh machine); never a browser download.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "WARNING: no chromium and not root: the browser tests will be SKIPPED" >&2; fi

# Mermaid itself (from npm) parses and draws the charts of `explain --format mermaid` in the
# browser tests.
MERMAID_JS := $(VENV)/node/node_modules/mermaid/dist/mermaid.min.js
mermaid-js: $(STAMP)
	@if [ -f $(MERMAID_JS) ]; then :; \
	elif command -v npm >/dev/null 2>&1; then \
	  echo "installing mermaid from npm for the browser tests"; \
	  npm install --silent --no-audit --no-fund --prefix $(VENV)/node mermaid@11 >/dev/null; \
	else echo "WARNING: no npm: the Mermaid chart tests will be SKIPPED" >&2; fi

# The core of the suite on the other Pythons friction supports, where pyenv has them (CI
# runs this after `make test`): 3.12, and 3.13 where durable_rules does not load, so the
# rete engine's tests are skipped there and say why. Each gets its own .venv-3.x.
PYTHONS ?= $(wildcard $(HOME)/.pyenv/versions/3.12.*/bin/python3 $(HOME)/.pyenv/versions/3.13.*/bin/python3)
CORE_TESTS := tests/test_metrics.py tests/test_chaining.py tests/test_differential.py tests/test_cli.py \
              tests/test_registry.py tests/test_pytest_plugin.py
test-pythons:
	@if [ -z "$(PYTHONS)" ]; then echo "test-pythons: no Python 3.12 or 3.13 under pyenv; nothing to do"; fi
	@set -e; for py in $(PYTHONS); do \
	  v=$$($$py -c 'import sys; print("%d.%d" % sys.version_info[:2])'); env=.venv-$$v; \
	  echo "== Python $$v ($$py)"; \
	  test -x $$env/bin/python || $$py -m venv $$env; \
	  $$env/bin/python -m pip install --quiet --upgrade pip; \
	  $$env/bin/python -m pip install --quiet -e . pytest jsonschema; \
	  $$env/bin/python -m pytest -q -rs -p no:cacheprovider $(CORE_TESTS); \
	done

bench: $(STAMP)
	$(BIN)/python bench/rete_soak.py

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .venv-3.* build *.egg-info .pytest_cache .hypothesis
