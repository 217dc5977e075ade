# Veerkracht: `make run` starts the app with demo data, `make test` runs the tests.
#
# Everything runs from the virtualenv in .venv, which the first target that needs it creates.
# Dependencies are (re)installed only when pyproject.toml is newer than the stamp file.
# DATABASE_URL and REDIS_URL are read from the environment (see veerkracht/settings.py);
# without them the app runs on SQLite with Celery tasks executed in-process.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := .make-stamp-install
CHROMIUM := /usr/bin/chromium
HOST_PORT := 127.0.0.1:8000
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-x tests/interventions"`.
PYTEST_ARGS ?=

.PHONY: help install messages chromium run test lint lint-ruff lint-mypy fmt worker clean

help:
	@echo "make run     start Veerkracht with demo data at http://$(HOST_PORT)"
	@echo "make test    run the tests (integration tests too when DATABASE_URL and REDIS_URL are set)"
	@echo "make lint    ruff check, ruff format --check and mypy"
	@echo "make fmt     format and auto-fix with ruff"
	@echo "make worker  run a Celery worker with beat (needs REDIS_URL)"
	@echo "make clean   remove caches and generated files (keeps .venv and db.sqlite3)"

# pyvenv.cfg is a real file written by `venv`; bin/python is a symlink whose date is the
# interpreter's, so it cannot tell make when the venv was made.
$(VENV)/pyvenv.cfg:
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml $(VENV)/pyvenv.cfg
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP)

# Compiled translations (.mo) are not in git; they are built from the .po files here.
messages: install
	@if [ -z "$$(find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -type d -name locale -print -quit)" ]; then \
		exit 0; \
	fi; \
	if ! command -v msgfmt >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "make: installing Debian's gettext for msgfmt"; \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y gettext; \
		else \
			echo "make: msgfmt is missing, so translations are not compiled and the app shows" >&2; \
			echo "      untranslated text. Install it with: sudo apt-get install gettext" >&2; \
			exit 0; \
		fi; \
	fi; \
	$(PY) manage.py compilemessages --ignore=$(VENV) --ignore=node_modules

chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "make: installing Debian's chromium for the browser tests"; \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
		else \
			echo "make: the browser tests need Debian's chromium at $(CHROMIUM)." >&2; \
			echo "      Install it with: sudo apt-get install chromium" >&2; \
			exit 1; \
		fi; \
	fi

# DEBUG=1: the development server, with the built-in development key (with DEBUG off the app
# refuses to serve with that key; see README, "In production").
run: export DEBUG = 1
run: messages
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo
	@echo "Veerkracht runs at http://$(HOST_PORT) (log in with one of the accounts above; Ctrl-C stops it)"
	@echo
	$(PY) manage.py runserver $(HOST_PORT)

# Integration tests need PostgreSQL and Redis; without both they are deselected, and the
# banner says so, rather than skipped one by one. The suite runs on one process per core
# (pytest-xdist; PYTEST_WORKERS=0 for one process); tests marked `timed` measure wall time, so
# they run afterwards on their own. Exit 5 (no test selected) of that second run is not an
# error: PYTEST_ARGS may select none of them.
PYTEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 1)
test: messages chromium
	@if [ -n "$${DATABASE_URL:-}" ] && [ -n "$${REDIS_URL:-}" ]; then \
		echo "make test: DATABASE_URL and REDIS_URL are set: running the whole suite," \
			"integration tests included (PostgreSQL, a real Celery worker on Redis)"; \
		selection=""; \
	else \
		echo "make test: DATABASE_URL and REDIS_URL are not both set: running -m \"not integration\"" \
			"(integration tests deselected; set both to run them)"; \
		selection="not integration and "; \
	fi; \
	$(PY) -m pytest -rfEs -n $(PYTEST_WORKERS) -m "$${selection}not timed" $(PYTEST_ARGS); \
	status=0; $(PY) -m pytest -rfEs -m "$${selection}timed" $(PYTEST_ARGS) || status=$$?; \
	if [ "$$status" -ne 0 ] && [ "$$status" -ne 5 ]; then exit "$$status"; fi

lint: lint-ruff lint-mypy

lint-ruff: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lint-mypy: install
	$(VENV)/bin/mypy .

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: install
	@if [ -z "$${REDIS_URL:-}" ]; then \
		echo "make worker: set REDIS_URL (e.g. redis://127.0.0.1:6379/0); without it tasks run" \
			"in the web process and a worker has nothing to do." >&2; \
		exit 1; \
	fi
	$(VENV)/bin/celery -A veerkracht worker -B --schedule .celerybeat-schedule --loglevel=INFO

clean:
	rm -rf staticfiles .pytest_cache .ruff_cache .mypy_cache test-results tests/browser/screenshots
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -print0 | xargs -0 rm -rf
	find . -path ./$(VENV) -prune -o -path '*/locale/*' -name '*.mo' -print0 | xargs -0 rm -f
