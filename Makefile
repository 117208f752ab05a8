# The two commands of the README: `make demo` and `make test` (`make test-fast` for everyday work).
.PHONY: demo test test-fast lint package-tree install install-test ckan-start ckan-background ckan-stop bench

install:
	@scripts/bootstrap.sh

install-test:
	@scripts/bootstrap.sh --test

demo: install
	.venv/bin/transparencia demo

# CKAN's first start takes minutes: it starts in the background while lint and the other tests run
# (the CKAN tests run last; their fixture waits for this start, see scripts/ckan-local/start.sh).
test: install-test ckan-background lint
	.venv/bin/python -m pytest -n 3 --dist loadfile

ckan-background:
	@mkdir -p build && (scripts/ckan-local/start.sh > build/ckan-start.log 2>&1 &)

# The everyday tier: every test but those that start CKAN, a Prefect server, the databases or a browser
# (2,593 of 2,740 tests; about 2½ minutes in two workers on two cores, against 18 for `make test`).
test-fast: install-test
	.venv/bin/python -m pytest -q -n 2 -m "not ckan and not prefect and not databases and not browser"

# ruff (lint, import order, bandit), mypy (every module, imports followed) and the stage layers
# (import-linter's contract), configured in pyproject.toml. import-linter reads the installed shape from
# inside that tree, so that the source folder transparencia/ (without the stages) is not found first.
lint: install-test package-tree
	.venv/bin/ruff check .
	.venv/bin/mypy
	cd build/package && ../../.venv/bin/lint-imports ../../pyproject.toml

# The package as a wheel would install it, as symlinks, for the tools above (build/ is not tracked).
package-tree:
	.venv/bin/python scripts/package-tree.py

ckan-start: install-test
	scripts/ckan-local/start.sh

ckan-stop:
	scripts/ckan-local/stop.sh

bench: install
	.venv/bin/python -m bench
