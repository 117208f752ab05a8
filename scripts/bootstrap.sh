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

# Each need is checked by what it provides (a command or a file), not by package name: a machine may
# already have Java or npm from other packages, and asking apt for the default ones then fails.
install_apt() {  # install_apt "test:package" ...
    local missing=() need
    for need in "$@"; do
        eval "${need%%:*}" >/dev/null 2>&1 || missing+=("${need##*:}")
    done
    (( ${#missing[@]} )) || return 0
    log "apt-get install ${missing[*]}"
    local sudo=""; [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

if [[ ${1:-} == --test ]]; then
    # PostgreSQL, Redis, Java (Solr) and npm (fetches Solr) for the local CKAN; gcc/libpq-dev build
    # CKAN's psycopg2; chromium renders the compliance report in a real browser; LibreOffice Calc
    # opens the XLSX the release writes (a second spreadsheet program besides calamine).
    install_apt "ls /usr/lib/postgresql/*/bin/initdb:postgresql" \
                "command -v redis-server:redis-server" \
                "command -v java:default-jre-headless" \
                "command -v npm:npm" \
                "command -v gcc:gcc" \
                "command -v pg_config:libpq-dev" \
                "ls /usr/lib/*-linux-gnu/libmagic.so.1:libmagic1" \
                "command -v curl:curl" \
                "command -v chromium:chromium" \
                "command -v soffice:libreoffice-calc-nogui"
fi

if [[ ! -f $STAMP ]]; then
    log "creating $VENV with $PYTHON and installing the project (a few minutes the first time)"
    [[ -x $VENV/bin/python ]] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip >"$VENV/install.log" 2>&1 \
        && "$VENV/bin/pip" install -q -e ".[dev]" >>"$VENV/install.log" 2>&1 \
        || { tail -30 "$VENV/install.log"; log "installation failed (full log: $VENV/install.log)"; exit 1; }
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi
