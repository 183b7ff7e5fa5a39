#!/usr/bin/env bash
# The test command: starts the real servers the tests talk to, runs the type
# check and every node:test suite, and stops what it started.
#   - PostgreSQL: the machine's server on 127.0.0.1:5432 (started if it is down)
#   - Kafka 4.x (KRaft, single node) from the Maven Central jars: scripts/services/kafka.sh
#   - S3Proxy, an S3-compatible server from Maven Central: scripts/services/s3proxy.sh
#   - Janus and Chromium: started by the media tests themselves inside network
#     namespaces they create (root only; see docs/media.md)
# Pass test file paths to run only those.
set -euo pipefail
cd "$(dirname "$0")/.."

export HOP_CACHE_DIR="${HOP_CACHE_DIR:-$PWD/.cache}"
export HOP_RUN_DIR="${HOP_RUN_DIR:-$HOP_CACHE_DIR/run}"
export NODE_ENV=test

log() { printf '[test] %s\n' "$*" >&2; }

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return; fi
  log "PostgreSQL is not answering on 127.0.0.1:5432; starting it"
  if command -v pg_ctlcluster >/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return
    sleep 1
  done
  log "PostgreSQL did not start"; exit 1
}

stop_services() {
  bash scripts/services/s3proxy.sh stop >/dev/null 2>&1 || true
  bash scripts/services/kafka.sh stop >/dev/null 2>&1 || true
}

ensure_postgres
export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

trap stop_services EXIT
bash scripts/services/kafka.sh start
export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-19092}"
bash scripts/services/s3proxy.sh start
eval "$(bash scripts/services/s3proxy.sh status)"

if [ "$(id -u)" = 0 ] && command -v janus >/dev/null && command -v chromium >/dev/null && command -v ip >/dev/null; then
  export TEST_NETNS=1
else
  log "media tests need root, janus, chromium and iproute2; they will be skipped"
fi

log "type check"
npx tsc -p tsconfig.json --noEmit

log "tests"
bash scripts/run-node-tests.sh "$@"
