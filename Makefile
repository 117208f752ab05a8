# The two commands of the README: `make demo` and `make test`.
.PHONY: demo test install install-test ckan-start ckan-stop bench

install:
	@scripts/bootstrap.sh

install-test:
	@scripts/bootstrap.sh --test

demo: install
	.venv/bin/transparencia demo

test: install-test
	.venv/bin/python -m pytest

ckan-start: install-test
	scripts/ckan-local/start.sh

ckan-stop:
	scripts/ckan-local/stop.sh

bench: install
	.venv/bin/python -m bench
