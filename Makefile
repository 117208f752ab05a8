# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test lint install install-test ckan-start ckan-stop bench

install:
	@scripts/bootstrap.sh

install-test:
	@scripts/bootstrap.sh --test

demo: install
	.venv/bin/transparencia demo

test: install-test lint
	.venv/bin/python -m pytest

# ruff (lint and import order) and mypy (the kernel, the contracts, the status rules, the flow), configured in pyproject.toml.
lint: install-test
	.venv/bin/ruff check .
	.venv/bin/mypy

ckan-start: install-test
	scripts/ckan-local/start.sh

ckan-stop:
	scripts/ckan-local/stop.sh

bench: install
	.venv/bin/python -m bench
