# Two commands do all the set-up: `make up` runs Tally, `make test` tests it. Both install first.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: up test lint install bench

install:
	@./scripts/bootstrap.sh

up: install
	uv run tally-stack up

test:
	@./scripts/bootstrap.sh --with-browser
	uv run pytest

lint: install
	uv run ruff check .
	uv run mypy libs/tallykit/src libs/tallystack/src services/*/src gateway/src bench

bench: install
	uv run python bench/ledger_search.py
	uv run python bench/ledger_import.py
