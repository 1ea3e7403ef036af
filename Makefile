PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

.PHONY: run test bench venv migrate clean

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

migrate: venv
	$(PY) manage.py migrate --noinput

test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf var db.sqlite3 db.sqlite3-wal db.sqlite3-shm

bench: venv
	$(PY) bench/run_all.py $(BENCH)
