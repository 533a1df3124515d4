# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test install bench-deps snapshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e ".[test,bench,postgres]"
	touch $@

install: $(VENV)/.installed

## Start the sandbox portal on loopback and the TUI with the simulated scanner.
demo: $(VENV)/.installed
	$(VENV)/bin/siaptui demo

## Install the test extras and run the whole suite.
test: $(VENV)/.installed-test
	$(PY) -m pytest -n 2 -q

## Regenerate the SVG snapshots after an intended UI change.
snapshots: $(VENV)/.installed-test
	$(PY) -m pytest -q tests/ui --snapshot-update

clean:
	rm -rf $(VENV) .pytest_cache
