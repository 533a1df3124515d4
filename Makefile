# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

# The oldest Python pyproject.toml claims (requires-python): pyenv's own copy first (its shim
# on PATH only answers when that version is selected), else python3.N on PATH.
OLDEST        := $(shell sed -n 's/^requires-python *= *">= *\([0-9.]*\)".*/\1/p' pyproject.toml)
PYTHON_OLDEST ?= $(firstword $(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/$(OLDEST).*/bin/python) \
                   $(shell command -v python$(OLDEST) 2>/dev/null))
VENV_OLDEST   ?= .venv$(subst .,,$(OLDEST))

.PHONY: demo test test-oldest lint install bench-deps snapshots clean

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e ".[test,bench,camera,postgres]"
	touch $@

install: $(VENV)/.installed

## Start the sandbox portal on loopback and the TUI with the simulated scanner.
demo: $(VENV)/.installed
	$(VENV)/bin/siaptui demo

## Install the test extras, run the static checks, the whole suite, then the suite again on the
## oldest claimed Python.
test: lint
	$(PY) -m pytest -n 2 -q
	@$(MAKE) --no-print-directory test-oldest

## Style and bug patterns (ruff), types (mypy, strict), layering (import-linter contracts).
lint: $(VENV)/.installed-test
	$(PY) -m ruff check .
	@if $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
		echo "$(PY) -m mypy" && $(PY) -m mypy && echo "lint-imports" && $(VENV)/bin/lint-imports; \
	else \
		echo "lint: mypy and import-linter need Python 3.11 or newer; this .venv is older: not run"; \
	fi

# markdown-it-py 4 needs Python >= 3.10; capped here so that an index which does not publish
# Requires-Python (a local mirror) cannot send pip backtracking through Textual's dependencies.
$(VENV_OLDEST)/.installed-test: pyproject.toml setup.py
	$(PYTHON_OLDEST) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/python -m pip --disable-pip-version-check -q install --upgrade pip
	$(VENV_OLDEST)/bin/python -m pip --disable-pip-version-check -q install -e ".[test,postgres]" "markdown-it-py<4"
	touch $@

## The suite on Python $(OLDEST) when this machine has it (PATH or pyenv); says so when not.
## Without the Pilot walks (tests/ui) and the slow tests: those take longer than the whole 3.11
## run on two cores, and the code they drive is the same on both Pythons.  The demo in a pty
## (tests/test_demo_sandbox.py) runs here: Textual runs its event loop differently on 3.9.
test-oldest:
ifeq ($(PYTHON_OLDEST),)
	@echo "make test: no Python $(OLDEST) found (python$(OLDEST) on PATH or ~/.pyenv/versions/$(OLDEST).*);" \
	      "the suite ran on $$($(PY) -c 'import platform; print(platform.python_version())') only."
else
	@echo "make test: the suite again on Python $(OLDEST) ($(PYTHON_OLDEST)) in $(VENV_OLDEST)"
	@$(MAKE) --no-print-directory $(VENV_OLDEST)/.installed-test
	$(VENV_OLDEST)/bin/python -m pytest -n 2 -q -m "not slow" --ignore=tests/ui
endif

## Regenerate the SVG snapshots after an intended UI change.
snapshots: $(VENV)/.installed-test
	$(PY) -m pytest -q tests/ui --snapshot-update

clean:
	rm -rf $(VENV) $(VENV_OLDEST) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
