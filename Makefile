# Flowdesk: `make run` serves the demo, `make test` runs everything CI runs.
VENV := .venv
PY := $(VENV)/bin/python
FLOWDESK := $(VENV)/bin/flowdesk
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
ACCEPTANCE := $(addprefix ../shared/acceptance/,test_incidents.py test_processes.py test_alerts.py test_problems.py test_requests.py)

.PHONY: libmagic install run lint format test test-fast test-sqlite test-pg acceptance acceptance-pg pg-start pg-reset bench messages chromium assets crash

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed libmagic

# Attachments read their type from the content with libmagic (Debian's libmagic1, present on most machines).
libmagic:
	@python3 -c "import ctypes.util, sys; sys.exit(not ctypes.util.find_library('magic'))" || \
		apt-get install -y -q libmagic1 >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q libmagic1 >/dev/null)

run: install
	$(FLOWDESK) db upgrade
	$(FLOWDESK) deploy
	$(FLOWDESK) seed-demo
	$(FLOWDESK) serve --port $${PORT:-5000}

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) tools/code_shape.py app

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint test-sqlite test-pg acceptance acceptance-pg

# The suite without the browser, cluster and slow tests, on SQLite: what to run before each commit (CI runs `test`).
test-fast: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -m "not browser and not cluster and not slow"

test-sqlite: install chromium
	FLOWDESK_REQUIRE_FLOW_COVERAGE=1 $(PY) -m pytest -q

test-pg: install chromium pg-start
	FLOWDESK_TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest -q

acceptance: install
	$(PY) -m pytest -q $(ACCEPTANCE)

acceptance-pg: install pg-reset
	FLOWDESK_ACCEPTANCE_DATABASE_URL=$(PG_URL) $(PY) -m pytest -q $(ACCEPTANCE)

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || apt-get install -y -q chromium >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)
	@command -v chromium >/dev/null 2>&1 || (echo "Chromium is missing and could not be installed"; exit 1)

# Rebuild the modeller, viewer and editors from frontend/ (exact npm versions, lock file); the built files
# under app/static/build/ are committed, so running Flowdesk needs no Node.js.
assets:
	cd frontend && npm ci --no-audit --no-fund && node build.mjs

pg-start:
	@pg_isready -h 127.0.0.1 -p 5432 -q || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done; echo "PostgreSQL did not start"; exit 1

pg-reset: pg-start
	psql -q "$(PG_URL)" -c 'SET client_min_messages = warning; DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;'

# The crash test at full length: 200 SIGKILLs to app node workers and `flowdesk worker`s during a load
# (`make test` runs it with 20).
crash: install pg-start
	FLOWDESK_CRASH_KILLS=200 FLOWDESK_TEST_DATABASE_URL=$(PG_URL) $(PY) -m pytest -q -s tests/test_nodes.py -k killed

# The benchmarks of bench/RESULTS.md, in its order (about 27 minutes; PostgreSQL's `test` is reset by each).
bench: install pg-start
	$(PY) -m bench.engine --lifecycles 200
	$(PY) -m bench.http --clients 8 32 64 --seconds 60
	$(PY) -m bench.api_completion
	$(PY) -m bench.scale --tickets 1000000
	$(PY) -m bench.rounds --rounds 600
	$(PY) -m bench.timers --timers 12000 --window 60 --later 88000
	$(PY) -m bench.floor
	$(PY) -m bench.sandbox

# Extract every user-facing string into the catalogue translators work from (French comes next).
messages: install
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations
	$(VENV)/bin/pybabel compile -d app/translations
