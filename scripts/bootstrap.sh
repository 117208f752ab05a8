#!/usr/bin/env bash
# bootstrap.sh - install everything transparencia needs on a fresh machine.
#   scripts/bootstrap.sh          the Python environment (.venv) only: enough for `make demo`
#   scripts/bootstrap.sh --test   also the Debian packages the tests use (the local CKAN's
#                                 PostgreSQL/Redis/Java/npm, and chromium for the report test)
# Idempotent: the venv is rebuilt only when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
VENV=.venv
STAMP=$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)

log() { printf '[bootstrap] %s\n' "$*"; }

install_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    (( ${#missing[@]} )) || return 0
    log "apt-get install ${missing[*]}"
    local sudo=""; [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [[ ${1:-} == --test ]]; then
    # PostgreSQL, Redis, Java (Solr) and npm (fetches Solr) for the local CKAN; gcc/libpq-dev build
    # CKAN's psycopg2; chromium renders the compliance report in a real browser.
    install_apt postgresql redis-server default-jre-headless npm gcc libpq-dev libmagic1 curl chromium
fi

if [[ ! -f $STAMP ]]; then
    log "creating $VENV with $PYTHON and installing the project (a few minutes the first time)"
    [[ -x $VENV/bin/python ]] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[dev]"
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi
