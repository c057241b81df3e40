#!/usr/bin/env bash
# PostgreSQL for the template tests (tests/test_postgres.py and the postgres proof suites).
#
# Leaves a server listening on 127.0.0.1:5432 (loopback only) where the role postgres logs
# in with the password "postgres" over TCP: the TEST_DATABASE_URL default of generated
# projects, postgres://postgres:postgres@127.0.0.1:5432/postgres.
#
# Idempotent: installs Debian's postgresql only when it is missing, creates a cluster only
# when there is none, changes settings only when they differ, restarts only when needed.
# Says what it did; exits non-zero naming what is missing or what failed.
set -euo pipefail

PORT=5432
PASSWORD=postgres
MAX_CONNECTIONS=200
WAIT_SECONDS=60

SERVICE=postgres
# shellcheck source=SCRIPTDIR/../lib/services.sh
. "$(dirname "$0")/../lib/services.sh"

if [ "$(id -u)" -ne 0 ]; then
  fail "must run as root (installs packages and manages the cluster as the postgres OS user)"
fi

newest_version() {
  local dir version=""
  for dir in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$dir" ] || continue
    dir=${dir#/usr/lib/postgresql/}
    dir=${dir%%/*}
    if [ -z "$version" ] || [ "$dir" -gt "$version" ]; then version=$dir; fi
  done
  printf '%s' "$version"
}

# 1. The packages.
if [ -n "$(newest_version)" ] && command -v pg_ctlcluster >/dev/null && command -v psql >/dev/null; then
  say "installed already: PostgreSQL $(newest_version) ($(psql --version))"
else
  apt_install postgresql
  [ -n "$(newest_version)" ] || fail "apt-get installed postgresql but no server binary is under /usr/lib/postgresql/*/bin"
  say "installed PostgreSQL $(newest_version)"
fi

# 2. The cluster: the first one pg_lsclusters lists, or a new "main" for the newest version.
read -r VERSION CLUSTER _ < <(pg_lsclusters --no-header 2>/dev/null | head -n 1) || true
if [ -z "${VERSION:-}" ] || [ -z "${CLUSTER:-}" ]; then
  VERSION=$(newest_version)
  CLUSTER=main
  say "no cluster: pg_createcluster $VERSION $CLUSTER"
  pg_createcluster "$VERSION" "$CLUSTER" >/dev/null || fail "pg_createcluster $VERSION $CLUSTER failed"
fi
say "cluster $VERSION/$CLUSTER"

# 3. Settings: loopback only, port 5432, room for parallel proof suites. They live in one file
# of the cluster's conf.d (included by Debian's postgresql.conf), rewritten only when it differs.
restart_needed=no
CONF_DIR=/etc/postgresql/$VERSION/$CLUSTER
[ -f "$CONF_DIR/postgresql.conf" ] || fail "no $CONF_DIR/postgresql.conf for cluster $VERSION/$CLUSTER"
if ! grep -Eq "^[[:space:]]*include_dir[[:space:]]*=[[:space:]]*'conf\.d'" "$CONF_DIR/postgresql.conf"; then
  printf "\ninclude_dir = 'conf.d'\n" >>"$CONF_DIR/postgresql.conf"
  say "added include_dir = 'conf.d' to $CONF_DIR/postgresql.conf"
fi
mkdir -p "$CONF_DIR/conf.d"
SETTINGS="$CONF_DIR/conf.d/rampart-ci.conf"
WANTED="# Written by .ci/services/postgres.sh (Rampart template tests).
listen_addresses = '127.0.0.1'
port = $PORT
max_connections = $MAX_CONNECTIONS"
if [ "$(cat "$SETTINGS" 2>/dev/null)" != "$WANTED" ]; then
  printf '%s\n' "$WANTED" >"$SETTINGS"
  say "wrote $SETTINGS: listen_addresses = '127.0.0.1', port = $PORT, max_connections = $MAX_CONNECTIONS"
  restart_needed=yes
fi

# Password authentication over loopback TCP. Debian's default pg_hba.conf already has these
# lines; they are added only when missing.
HBA=$CONF_DIR/pg_hba.conf
[ -f "$HBA" ] || fail "no pg_hba.conf at $HBA"
if ! grep -Eq '^[[:space:]]*host[[:space:]]+all[[:space:]]+(all|postgres)[[:space:]]+127\.0\.0\.1/32[[:space:]]+(scram-sha-256|md5)' "$HBA"; then
  sed -i '1i host all postgres 127.0.0.1/32 scram-sha-256' "$HBA"
  say "added password authentication for postgres on 127.0.0.1 to $HBA"
  restart_needed=yes
fi

# 4. Running, with the settings above.
status=$(pg_lsclusters --no-header | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $4 }')
if [ "$status" = online ] && [ "$restart_needed" = yes ]; then
  say "restarting to apply the settings"
  pg_ctlcluster "$VERSION" "$CLUSTER" restart || fail "pg_ctlcluster $VERSION $CLUSTER restart failed; see /var/log/postgresql/postgresql-$VERSION-$CLUSTER.log"
elif [ "$status" != online ]; then
  say "starting (was ${status:-unknown})"
  pg_ctlcluster "$VERSION" "$CLUSTER" start || fail "pg_ctlcluster $VERSION $CLUSTER start failed (is port $PORT taken? ss -ltnp 'sport = :$PORT'); see /var/log/postgresql/postgresql-$VERSION-$CLUSTER.log"
else
  say "running already"
fi

ready=no
for _ in $(seq 1 "$WAIT_SECONDS"); do
  if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
    ready=yes
    break
  fi
  sleep 1
done
[ "$ready" = yes ] || fail "not accepting connections on 127.0.0.1:$PORT after ${WAIT_SECONDS}s; see /var/log/postgresql/postgresql-$VERSION-$CLUSTER.log"

# 5. The password, set through the local socket as the postgres OS user (peer authentication).
if PGPASSWORD=$PASSWORD PGCONNECT_TIMEOUT=5 psql -qAtX -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
  say "role postgres already logs in with its password over 127.0.0.1"
else
  runuser -u postgres -- psql -qAtX -p "$PORT" -d postgres -c "ALTER ROLE postgres WITH PASSWORD '$PASSWORD'" >/dev/null ||
    fail "could not set the password of role postgres through the local socket"
  say "set the password of role postgres"
  PGPASSWORD=$PASSWORD PGCONNECT_TIMEOUT=5 psql -qAtX -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'SELECT 1' >/dev/null ||
    fail "role postgres still cannot log in with its password over 127.0.0.1:$PORT (check $HBA)"
fi

say "ready: postgres://postgres:***@127.0.0.1:$PORT/postgres (PostgreSQL $(PGPASSWORD=$PASSWORD psql -qAtX -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -c 'SHOW server_version'))"
