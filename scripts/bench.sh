#!/usr/bin/env bash
# The benchmark command (npm run bench): starts PostgreSQL and Kafka as the
# tests do, runs the benchmarks in bench/ and prints their results as Markdown.
# Pass benchmark names to run only those (see bench/run.ts). Results are
# recorded by hand in docs/benchmarks.md with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."

export HOP_CACHE_DIR="${HOP_CACHE_DIR:-$PWD/.cache}"
export HOP_RUN_DIR="${HOP_RUN_DIR:-$HOP_CACHE_DIR/run}"
export NODE_ENV=production
export LOG_LEVEL="${LOG_LEVEL:-warn}"

log() { printf '[bench] %s\n' "$*" >&2; }

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  log "PostgreSQL is not answering on 127.0.0.1:5432; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

# Kafka is started here unless KAFKA_BROKERS points at a running broker, and stopped again at exit.
if [ -z "${KAFKA_BROKERS:-}" ]; then
  trap 'bash scripts/services/kafka.sh stop >/dev/null 2>&1 || true' EXIT
  bash scripts/services/kafka.sh start
  export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-19092}"
fi

node --import tsx bench/run.ts "$@"
