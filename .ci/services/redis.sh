#!/usr/bin/env bash
# Redis for the template tests (tests/test_redis.py and the proof suites of every
# rate_limit_store=redis combination).
#
# Leaves a Redis server answering PING on 127.0.0.1:6379 (loopback only): the TEST_REDIS_URL
# default of generated projects, redis://127.0.0.1:6379. tests/test_redis.py also needs the
# redis-server binary itself, to start throwaway servers on other ports.
#
# Idempotent: installs Debian's redis-server only when it is missing, starts a server only
# when nothing answers on 127.0.0.1:6379 (as a daemon without persistence, with the pidfile
# and log under $STATE_DIR). Says what it did; exits non-zero naming what is missing or failed.
set -euo pipefail

HOST=127.0.0.1
PORT=6379
WAIT_SECONDS=30
STATE_DIR=${RAMPART_REDIS_STATE_DIR:-/tmp/rampart-ci-redis}
PIDFILE=$STATE_DIR/redis-$PORT.pid
LOGFILE=$STATE_DIR/redis-$PORT.log

SERVICE=redis
# shellcheck source=SCRIPTDIR/../lib/services.sh
. "$(dirname "$0")/../lib/services.sh"

# PING over plain TCP with bash's /dev/tcp, so that the check needs nothing installed. In a
# subshell, so that the descriptor and the silenced stderr stay there.
answers_ping() {
  (
    exec 3<>"/dev/tcp/$HOST/$PORT" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || exit 1
    [ "${reply%$'\r'}" = "+PONG" ]
  ) 2>/dev/null
}

port_taken() {
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

version() { redis-server --version | head -n 1 | sed -E 's/.*v=([0-9.]+).*/Redis \1/'; }

# 1. The package.
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
  say "installed already: $(version)"
else
  # policy-rc.d-less containers may try to start the packaged service; that is harmless here,
  # because the server below is started only if nothing answers afterwards.
  apt_install redis-server
  command -v redis-server >/dev/null || fail "apt-get installed redis-server but no redis-server is on PATH"
  say "installed $(version)"
fi

# 2. Running on 127.0.0.1:6379.
if answers_ping; then
  say "running already: PING answered on $HOST:$PORT"
else
  if port_taken; then
    fail "something listens on $HOST:$PORT but does not answer PING like Redis (see: ss -ltnp 'sport = :$PORT')"
  fi
  mkdir -p "$STATE_DIR"
  say "nothing answers on $HOST:$PORT: starting redis-server (daemon, no persistence, pidfile $PIDFILE, log $LOGFILE)"
  redis-server --bind "$HOST" --port "$PORT" --protected-mode yes \
    --daemonize yes --pidfile "$PIDFILE" --logfile "$LOGFILE" --dir "$STATE_DIR" \
    --save '' --appendonly no --maxclients 2000 ||
    fail "redis-server did not start; see $LOGFILE"
fi

ready=no
for _ in $(seq 1 $((WAIT_SECONDS * 5))); do
  if answers_ping; then
    ready=yes
    break
  fi
  sleep 0.2
done
[ "$ready" = yes ] || fail "no PONG from $HOST:$PORT after ${WAIT_SECONDS}s; see $LOGFILE"

say "ready: redis://$HOST:$PORT ($(version))"
