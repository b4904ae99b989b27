#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis for `make test` and `make bench`.
#
#   scripts/test_services.sh deps            install (root) or name (non-root) missing system packages
#   scripts/test_services.sh start           fresh PostgreSQL cluster on 127.0.0.1:54329 and
#                                            redis-server on 127.0.0.1:63799, database recovery_test,
#                                            roles recovery_owner and recovery_runtime
#   scripts/test_services.sh createdb NAME   create another database in the running cluster
#   scripts/test_services.sh stop            stop both and delete their data (safe to run twice)
#   scripts/test_services.sh status          say what is running
#
# Nothing here is durable: the cluster is created with `initdb -A trust`, fsync off, and is
# deleted by `stop`. PostgreSQL refuses to run as root, so when run as root the cluster lives
# under /tmp (owned by the `postgres` system user, which runs initdb/pg_ctl); otherwise it
# lives in .tmp/pg inside the checkout.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD

PG_PORT=${TEST_PG_PORT:-54329}
REDIS_PORT=${TEST_REDIS_PORT:-63799}
TEST_DB=recovery_test

if [ "$(id -u)" = 0 ]; then
    # One directory per checkout, so two clones on one machine do not share a cluster directory.
    PG_BASE=/tmp/council-recovery-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-10)
    PG_USER_CMD=(runuser -u postgres --)
else
    PG_BASE=$ROOT/.tmp/pg
    PG_USER_CMD=()
fi
PGDATA_DIR=$PG_BASE/data
PG_SOCKET_DIR=$PG_BASE/socket
# A unix socket path must stay under ~107 bytes; a deep checkout falls back to /tmp.
if [ ${#PG_SOCKET_DIR} -gt 80 ]; then
    PG_SOCKET_DIR=/tmp/council-recovery-pgsock-$(id -u)-$(printf '%s' "$ROOT" | md5sum | cut -c1-10)
fi
PG_LOG=$PG_BASE/postgres.log
REDIS_DIR=$ROOT/.tmp/redis
REDIS_PID=$REDIS_DIR/redis.pid

say() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

find_pg_bin() {
    # Newest Debian-packaged server first, then whatever initdb is on PATH.
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        printf '%s\n' "$dir"
        return 0
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return 0
    fi
    return 1
}

as_pg() { "${PG_USER_CMD[@]}" "$@"; }

pg_answers() {
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 1 >/dev/null 2>&1
}

redis_answers() {
    [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null || true)" = "PONG" ]
}

port_in_use() {
    # true when something accepts TCP connections on 127.0.0.1:$1
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

cmd_deps() {
    local missing=()
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    # WeasyPrint (invoice and statement PDFs) loads Pango; wrk drives the web benchmarks.
    ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    find_pg_bin >/dev/null || missing+=(postgresql)
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" != 0 ]; then
        die "missing system packages: ${missing[*]}.
    Install them, then re-run:  sudo apt-get install --no-install-recommends ${missing[*]}
    (redis-server and PostgreSQL back the integration tests; chromium drives the e2e tests;
    Pango renders PDFs; wrk drives the benchmarks.)"
    fi
    say "installing missing system packages: ${missing[*]}"
    local started=$SECONDS
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    say "installed ${missing[*]} in $((SECONDS - started))s"
}

start_postgres() {
    local started=$SECONDS
    if pg_answers || port_in_use "$PG_PORT"; then
        die "something is already listening on 127.0.0.1:$PG_PORT (another test run?). Stop it first."
    fi
    mkdir -p "$PG_BASE" "$PG_SOCKET_DIR"
    if [ "$(id -u)" = 0 ]; then
        chown -R postgres: "$PG_BASE" "$PG_SOCKET_DIR"
        chmod 700 "$PG_BASE"
    fi
    as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -A trust -E UTF8 --no-locale \
        --no-sync --no-instructions >"$PG_BASE/initdb.log" 2>&1 \
        || { cat "$PG_BASE/initdb.log" >&2; die "initdb failed"; }
    # Throwaway cluster: durability off for speed.
    cat >>"$PGDATA_DIR/postgresql.conf" <<EOF

# --- scripts/test_services.sh: throwaway test cluster ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCKET_DIR'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null; then
        tail -n 30 "$PG_LOG" >&2 || true
        die "PostgreSQL did not start"
    fi
    local i
    for i in $(seq 1 100); do
        pg_answers && break
        sleep 0.1
    done
    pg_answers || die "PostgreSQL started but does not answer on 127.0.0.1:$PG_PORT"
    create_database "$TEST_DB"
    create_roles
    say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') ready on 127.0.0.1:$PG_PORT in $((SECONDS - started))s (data: $PGDATA_DIR)"
}

create_database() {
    PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt \
        -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null
}

# The two roles production uses (docs/operations.md): the suite's databases belong to
# recovery_owner, which migrates them, and the app under test connects as recovery_runtime
# (tests/conftest.py creates them itself in a cluster started without them).
create_roles() {
    local role
    for role in recovery_owner recovery_runtime; do
        "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt \
            -c "CREATE ROLE $role LOGIN PASSWORD '$role'" >/dev/null
    done
}

start_redis() {
    local started=$SECONDS
    command -v redis-server >/dev/null 2>&1 || die "redis-server is not installed (run: make system-deps)"
    if port_in_use "$REDIS_PORT"; then
        die "something is already listening on 127.0.0.1:$REDIS_PORT (another test run?). Stop it first."
    fi
    mkdir -p "$REDIS_DIR"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
        --save '' --appendonly no \
        --daemonize yes --pidfile "$REDIS_PID" \
        --logfile "$REDIS_DIR/redis.log" --dir "$REDIS_DIR"
    local i
    for i in $(seq 1 100); do
        redis_answers && break
        sleep 0.1
    done
    redis_answers || { tail -n 20 "$REDIS_DIR/redis.log" >&2 || true; die "redis-server did not answer on 127.0.0.1:$REDIS_PORT"; }
    say "$(redis-server --version | awk '{print $1, $2, $3}') ready on 127.0.0.1:$REDIS_PORT in $((SECONDS - started))s"
}

stop_redis() {
    if [ -f "$REDIS_PID" ]; then
        local pid i
        pid=$(cat "$REDIS_PID")
        if kill "$pid" 2>/dev/null; then
            for i in $(seq 1 100); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            if kill -0 "$pid" 2>/dev/null; then
                kill -9 "$pid" 2>/dev/null || true
            fi
            say "redis-server stopped"
        fi
    fi
    rm -rf "$REDIS_DIR"
}

stop_postgres() {
    if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
        # immediate: the data is thrown away anyway
        as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        say "PostgreSQL stopped"
    fi
    rm -rf "$PG_BASE"
    case $PG_SOCKET_DIR in "$PG_BASE"/*) ;; *) rm -rf "$PG_SOCKET_DIR" ;; esac
}

cmd_start() {
    PG_BIN=$(find_pg_bin) || die "PostgreSQL server binaries (initdb, pg_ctl) not found (run: make system-deps)"
    # Leftovers of an interrupted run would hold the ports.
    stop_redis >/dev/null
    stop_postgres >/dev/null
    start_postgres
    start_redis
}

cmd_stop() {
    PG_BIN=$(find_pg_bin) || PG_BIN=/nonexistent
    stop_redis
    stop_postgres
}

cmd_createdb() {
    [ $# -eq 1 ] || die "usage: $0 createdb NAME"
    PG_BIN=$(find_pg_bin) || die "PostgreSQL server binaries not found"
    pg_answers || die "the test PostgreSQL is not running (scripts/test_services.sh start)"
    create_database "$1"
    say "database $1 created"
}

cmd_status() {
    PG_BIN=$(find_pg_bin) || PG_BIN=/nonexistent
    if pg_answers; then say "PostgreSQL: up on 127.0.0.1:$PG_PORT"; else say "PostgreSQL: down"; fi
    if redis_answers; then say "Redis: up on 127.0.0.1:$REDIS_PORT"; else say "Redis: down"; fi
}

case "${1:-}" in
    deps) cmd_deps ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    createdb) shift; cmd_createdb "$@" ;;
    status) cmd_status ;;
    *) echo "usage: $0 {deps|start|stop|createdb NAME|status}" >&2; exit 2 ;;
esac
