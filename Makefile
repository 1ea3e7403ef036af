# Two commands on a fresh machine with Python 3.11+ and make:
#   make run    the API + admin on http://127.0.0.1:8000 with a Celery worker and beat (Ctrl-C stops all;
#               make run PORT=8001 for another port)
#   make test   the whole suite (SQLite by default; DATABASE_URL/REDIS_URL to use PostgreSQL/Redis)
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test bench bench-load venv migrate seed clean schema

venv: $(STAMP)

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed (set PYTHON=python3.11)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

migrate: venv
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

run: migrate
	$(PY) manage.py collectstatic --noinput -v0
	PORT=$(PORT) $(PY) manage.py seed_demo
	@echo "Starting web (http://127.0.0.1:$(PORT)), Celery worker and beat. Ctrl-C stops them all."
	$(VENV)/bin/honcho -f Procfile.dev start --port $(PORT)

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

# The API contract, committed (openapi.json); a test fails when it differs from the generated one.
schema: venv
	$(PY) manage.py spectacular --format openapi-json --validate --fail-on-warn --file openapi.json

# All benches, one summary table, and the README's table regenerated; BENCH=platform runs one (README untouched).
bench: venv
	$(PY) bench/run_all.py $(if $(BENCH),$(BENCH),--readme)

# gunicorn (2 sync workers, production settings) under wrk, per route vs a plain view (bench/load.py).
# DATABASE_URL: a PostgreSQL server (a scratch database is created and dropped); REDIS_URL: your Redis db.
bench-load: venv
	@command -v wrk >/dev/null 2>&1 || apt-get install -y wrk
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/9} $(PY) bench/load.py

clean:
	rm -rf var db.sqlite3 db.sqlite3-wal db.sqlite3-shm
