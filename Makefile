# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint install bench-deps snapshots clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e ".[test,bench]"
	touch $@

install: $(VENV)/.installed

## Start the sandbox portal on loopback and the TUI with the simulated scanner.
demo: $(VENV)/.installed
	$(VENV)/bin/siaptui demo

## Install the test extras, run the static checks, then the whole suite.
test: lint
	$(PY) -m pytest -n 2 -q

## Style and bug patterns (ruff), types (mypy, strict), layering (import-linter contracts).
lint: $(VENV)/.installed-test
	$(PY) -m ruff check .
	@if $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
		echo "$(PY) -m mypy" && $(PY) -m mypy && echo "lint-imports" && $(VENV)/bin/lint-imports; \
	else \
		echo "lint: mypy and import-linter need Python 3.11 or newer; this .venv is older: not run"; \
	fi

## Regenerate the SVG snapshots after an intended UI change.
snapshots: $(VENV)/.installed-test
	$(PY) -m pytest -q tests/ui --snapshot-update

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
