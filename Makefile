# The README's two commands: `make demo` (set up and serve on SQLite) and `make test`.
PYTHON ?= $(shell command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL ?= postgres://postgres@127.0.0.1:5432/claims
export DEBUG ?= 1

.PHONY: demo setup setup-runtime lock test test-sqlite test-postgres lint chromium clean

# Dependencies come from the hashed lock files in requirements/ (made by `make lock`
# from pyproject.toml): every install gets exactly the versions the figures were taken on.
$(STAMP): pyproject.toml requirements/dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 13), "claims needs Python 3.13"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

setup: $(STAMP)

# Production: the runtime dependencies only (no pytest, ruff or Playwright).
setup-runtime:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 13), "claims needs Python 3.13"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/runtime.txt
	$(BIN)/pip install --quiet --no-deps -e .

# Regenerate the lock files after changing pyproject.toml's dependencies.
lock:
	$(PYTHON) -m venv var/pip-tools && var/pip-tools/bin/pip install --quiet pip-tools
	for extra in runtime dev; do \
	  var/pip-tools/bin/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	    --no-emit-index-url --no-emit-find-links $$([ $$extra = dev ] && echo --extra dev) \
	    -o requirements/$$extra.txt pyproject.toml; done

PORT ?= 8000
demo: $(STAMP)
	$(BIN)/python manage.py demo 127.0.0.1:$(PORT)

# Browser tests drive Debian's Chromium; Playwright never downloads a browser here.
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

lint: $(STAMP)
	mkdir -p var/static
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy claims
	$(BIN)/python manage.py makemigrations --check --dry-run

test-sqlite: $(STAMP) chromium
	$(BIN)/python -m pytest -q

# The load tests make their own SQLite and PostgreSQL databases: they ran with SQLite.
test-postgres: $(STAMP) chromium
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -q -m "not load"

test: lint test-sqlite test-postgres

clean:
	rm -rf $(VENV) var

# The load and fault tests at full length (`make test` runs their short CI version).
.PHONY: load
load: $(STAMP)
	LOAD_SECONDS=60 CRASH_ROUNDS=20 $(BIN)/python -m pytest tests/load -s -q
