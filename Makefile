# GovHub — every command a developer or CI needs. `make run` and `make test` work on a
# fresh clone: they create .venv and install what they need.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# the slowest tests of each pass, at the end of its log: where a pass's time goes
PASS_ARGS := --durations=15

.PHONY: install run run-federated serve demo lint typecheck schema schema-check docs test test-passes test-sqlite test-postgres bench bench-peer clean browser node-deps graphiql

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(BIN)/python -c "import gateway, strawberry, sqlalchemy, pytest"
	@touch $(STAMP)

install: $(STAMP) graphiql

## GraphiQL's scripts and styles (React, GraphiQL, the explorer plugin), served by the hub
## itself: `npm ci` from the committed gateway/graphiql/package-lock.json, each file checked
## against its pinned SHA-384 and copied into gateway/graphiql/static/vendor (gitignored).
## Without npm the hub still runs; its /graphql page says the assets are not installed.
GRAPHIQL := gateway/graphiql
GRAPHIQL_STAMP := $(GRAPHIQL)/static/vendor/manifest.json
graphiql: $(GRAPHIQL_STAMP)
$(GRAPHIQL_STAMP): $(GRAPHIQL)/package-lock.json $(GRAPHIQL)/vendor.py | $(STAMP)
	@if ! command -v npm >/dev/null; then \
		if [ "$$CI" = "true" ]; then echo "npm is missing (CI=true)"; exit 1; fi; \
		echo "npm missing: GraphiQL's assets not installed (/graphql says so; the API works)"; \
		exit 0; fi; \
	(cd $(GRAPHIQL) && npm ci --no-audit --no-fund --loglevel=error) \
		&& $(BIN)/python -m gateway.graphiql.vendor

## make run: migrate the embedded stores under ./var, load the demo city if empty, serve
run: install
	$(BIN)/govhub init
	$(BIN)/govhub demo --if-empty
	$(BIN)/govhub serve

## make run-federated: the hub, the city node and a node per county of the demo city as
## separate processes on loopback (SQLite under ./var/federated, the demo loaded once); the
## hub reads cases and divisions through the nodes' APIs (docs/notes/federated.md).
## The nodes listen on NODE_PORT and up, the hub on GOVHUB_PORT (8000).
NODE_PORT ?= 8101
run-federated: install
	$(BIN)/python -m gateway.demo.federated var/federated $(NODE_PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check gateway schema resolvers levels auth tests bench

typecheck: install
	$(BIN)/mypy

## regenerate the committed SDL after changing the schema
schema: install
	$(BIN)/govhub export-schema > schema.graphql

schema-check: install
	@$(BIN)/govhub export-schema | diff -u schema.graphql - \
		|| (echo "schema.graphql is out of date: run 'make schema' and commit it" && exit 1)

## the documentation site (docs/, mkdocs.yml) into site/; --strict: a broken link, a
## missing page or example fails. The references (settings, schema, error codes, CLI)
## are generated from the code as it builds (docs/hooks/reference.py).
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

test-sqlite: install
	GOVHUB_TEST_BACKEND=sqlite $(BIN)/pytest $(PASS_ARGS) $(PYTEST_ARGS)

# In CI (CI=true) PostgreSQL and Redis must be there; elsewhere the pass runs when
# they answer and says so when they do not.
test-postgres: install
	@if [ "$$CI" = "true" ] || $(BIN)/python -m tests.support.services; then \
		GOVHUB_TEST_BACKEND=postgres $(BIN)/pytest $(PASS_ARGS) $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL or Redis not reachable on 127.0.0.1: PostgreSQL pass NOT run"; \
	fi

## headless Chromium + chromedriver (Debian's) and a CJK font for tests/browser (the
## /dashboard page); installs as root, as in CI, otherwise those tests skip
BROWSER_PKGS := chromium chromium-driver fonts-wqy-microhei
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
		&& [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "chromium/chromedriver missing, not root: tests/browser skip (and fail in CI)"; exit 0; fi; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -qq --no-install-recommends $(BROWSER_PKGS) >/dev/null \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(BROWSER_PKGS) >/dev/null; }

## the npm packages of the Node-driven tests (the graphql-http audit, Apollo Client, the
## Federation 2 composition of a node's SDL), from their committed package-lock.json;
## without npm those tests skip (and fail in CI)
NODE_DIRS := tests/http_audit tests/clients/apollo tests/node/composition
node-deps:
	@if ! command -v npm >/dev/null; then \
		if [ "$$CI" = "true" ]; then echo "npm is missing (CI=true)"; exit 1; fi; \
		echo "npm missing: the graphql-http audit, the Apollo Client and composition tests skip"; exit 0; fi; \
	for dir in $(NODE_DIRS); do \
		if [ -f $$dir/package-lock.json ] && [ ! -d $$dir/node_modules ]; then \
			(cd $$dir && npm ci --no-audit --no-fund --loglevel=error); fi; \
	done

test: browser node-deps lint typecheck schema-check docs test-passes

## the two passes side by side: each is one pytest process, and this machine has two
## cores (a pass waits on its database and Redis much of the time, so together they take
## little more than the longer one alone). Each pass writes its log under .test-logs/;
## both logs are shown whole at the end, and either pass failing fails the target.
## `make test-sqlite` or `make test-postgres` runs one pass with its output live.
test-passes: install
	@mkdir -p .test-logs; \
	echo "SQLite and PostgreSQL passes running side by side (logs: .test-logs/)"; \
	$(MAKE) --no-print-directory test-sqlite > .test-logs/sqlite.log 2>&1 & sqlite=$$!; \
	$(MAKE) --no-print-directory test-postgres > .test-logs/postgres.log 2>&1 & postgres=$$!; \
	rs=0; wait $$sqlite || rs=$$?; rp=0; wait $$postgres || rp=$$?; \
	echo "=== SQLite pass ==="; cat .test-logs/sqlite.log; \
	echo "=== PostgreSQL pass ==="; cat .test-logs/postgres.log; \
	echo "SQLite pass: exit $$rs; PostgreSQL pass: exit $$rp"; \
	test $$rs -eq 0 && test $$rp -eq 0

## PostGraphile 5, the peer of the bench's list query, from bench/peer/package-lock.json;
## without npm the bench says so and leaves PostGraphile out
bench-peer:
	@if ! command -v npm >/dev/null; then \
		echo "npm missing: make bench runs without PostGraphile"; exit 0; fi; \
	if [ ! -d bench/peer/node_modules ]; then \
		(cd bench/peer && npm ci --no-audit --no-fund --loglevel=error); fi

## BENCH_ARGS="--only speed --seconds 5": just the issue-17 speed table;
## BENCH_ARGS="--only topology": just the per-county topology (~4 min)
BENCH_ARGS ?=
bench: install bench-peer
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf var bench/out site .test-logs .pytest_cache .mypy_cache .ruff_cache $(GRAPHIQL)/static/vendor
