PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every dependency, runtime and dev, pinned: `make install` and the Dockerfile install with it as constraints, so CI
# tests what production runs. Refresh it with `make lock` after changing pyproject.toml's dependencies (keeps the
# other pins), or `make lock LOCK_ARGS=--upgrade` to move everything to the newest allowed versions.
LOCK := requirements.lock
LOCK_ARGS ?=

.PHONY: install run test lint lock-check mypy lock bootstrap messages

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py serve

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# What CI runs (.ci/run) and pre-commit runs locally (.pre-commit-config.yaml).
lint: install lock-check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports --no-logo
	$(BIN)/mypy

mypy: install
	$(BIN)/mypy

# Offline: requirements.lock pins every dependency pyproject.toml declares, at an allowed version, and no other as
# direct (tests/ops/test_lock.py reads the two files; no index is asked). Fix a failure with `make lock`.
lock-check: install
	$(BIN)/python -m pytest -q -p no:randomly tests/ops/test_lock.py

# uv is needed only here, to re-lock; installing needs nothing but pip. (No `install` first: the old pins may clash
# with a changed pyproject.toml.)
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 --quiet $(LOCK_ARGS) -o $(LOCK)

bootstrap: install
	$(BIN)/python manage.py bootstrap

# The dashboard's translations (dashboard/i18n.py, Babel: no GNU gettext needed): extract the strings, update
# dashboard/locale/*/LC_MESSAGES/django.po and compile django.mo (both committed). Translate the new empty msgstr
# lines, then run it again; `manage.py i18n_catalogues --check` (and tests/dashboard/test_i18n.py) finds gaps.
messages: install
	$(BIN)/python manage.py i18n_catalogues
