#!/usr/bin/env bash
# scripts/ckan-local/stop.sh - stop what start.sh started (CKAN, its job worker, Solr, Redis,
# the private PostgreSQL cluster), by PID file only, checking that each PID
# still belongs to the expected program.  Data stays.
#   stop.sh          stop everything start.sh started
#   stop.sh --web    stop only the CKAN web server (start.sh brings it back)
#   stop.sh --worker stop only the job worker (start.sh brings it back)
#   stop.sh --purge  stop everything and delete the data (keeps the installed
#                    software, so the next start is warm)
set -uo pipefail

CKAN_BASE=${CKAN_BASE:-/tmp/transparencia-ckan}
RUN=$CKAN_BASE/run
PGDATA=$CKAN_BASE/pg/data
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)

log() { printf '[ckan-local stop] %s\n' "$*"; }

stop_pidfile() {  # stop_pidfile NAME PIDFILE EXPECTED_CMDLINE_SUBSTRING
    local name=$1 pidfile=$2 expect=$3 pid
    [[ -f $pidfile ]] || { log "$name: no pid file"; return 0; }
    pid=$(head -1 "$pidfile")
    if ! kill -0 "$pid" 2>/dev/null; then
        log "$name: pid $pid not running"; rm -f "$pidfile"; return 0
    fi
    if ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$expect"; then
        log "$name: pid $pid is not ours ($(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-80)); leaving it"
        rm -f "$pidfile"; return 0
    fi
    log "$name: stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name: still alive after 10s, SIGKILL"; kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$pidfile"
}

[[ ${1:-} == --worker ]] || stop_pidfile ckan "$RUN/ckan.pid" "$CKAN_BASE/etc/ckan.ini"
[[ ${1:-} == --web ]] && exit 0
stop_pidfile worker "$RUN/worker.pid" "jobs worker"
[[ ${1:-} == --worker ]] && exit 0
stop_pidfile solr  "$RUN/solr.pid"  "-Dsolr.solr.home=$CKAN_BASE/solr/home"
stop_pidfile redis "$RUN/redis.pid" "redis-server"

if [[ -f $PGDATA/postmaster.pid ]]; then
    if [[ $(id -u) == 0 ]]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
    if as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
        log "postgres: pg_ctl stop -m fast ($PGDATA)"
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" stop -m fast -w >/dev/null
    fi
else
    log "postgres: not running"
fi

if [[ ${1:-} == --purge ]]; then
    log "purging data under $CKAN_BASE (pg, storage, solr index, etc, secrets)"
    rm -rf "$CKAN_BASE/pg" "$CKAN_BASE/storage" "$CKAN_BASE/solr/home" \
           "$CKAN_BASE/etc" "$CKAN_BASE/secrets" "$CKAN_BASE/redis" "$CKAN_BASE/ckan.env"
fi
