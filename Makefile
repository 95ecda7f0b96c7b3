# Two commands do all the set-up: `make up` runs Tally, `make test` tests it. Both install first.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: up test lint audit install bench demo

install:
	@./scripts/bootstrap.sh

up: install
	uv run tally-stack up

# A demo household with two years of data, through the gateway of a running `make up` (DEMO_URL to change).
demo: install
	uv run python -m tallystack.demo --url $${DEMO_URL:-http://127.0.0.1:8000}

test:
	@./scripts/bootstrap.sh --with-browser
	uv run pytest

lint: install
	uv run ruff check .
	uv run mypy libs/tallykit/src libs/tallystack/src services/*/src gateway/src bench
	@./scripts/audit.sh

audit: install
	@./scripts/audit.sh

bench: install
	uv run python bench/ledger_search.py
	uv run python bench/ledger_import.py
	uv run python bench/system_load.py
	uv run python bench/analytics_reports.py
	uv run python bench/web_load.py
	uv run python bench/restart.py
