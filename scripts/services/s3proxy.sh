#!/usr/bin/env bash
# Runs S3Proxy, an S3-compatible server, on 127.0.0.1 for tests.
#
#   scripts/services/s3proxy.sh start    download (once), start, wait until it responds
#   scripts/services/s3proxy.sh stop     stop the server started by `start`
#   scripts/services/s3proxy.sh status   print the S3_* variables; exit 3 when stopped
#
# The jar (org.gaul:s3proxy, jar-with-dependencies classifier) comes from Maven
# Central through mvn and is cached in ${HOP_CACHE_DIR:-.cache}/s3proxy-<version>.
# Objects are stored as files under ${HOP_RUN_DIR:-.cache/run}/s3proxy/data.
# Requests must be signed with AWS Signature V4 and the fixed test credentials
# below; presigned URLs (V4 query authentication) and multipart uploads work.
# CORS allows every origin (s3proxy.cors-allow-all), so that browsers can PUT
# upload parts to presigned links from the gateway's origin, as they do to
# MinIO with a CORS rule for the hop site.
#
# Environment: S3_PORT (default 19000), S3PROXY_VERSION (default 4.1.0, which
# needs Java 17 or newer), S3PROXY_JAVA_OPTS (extra JVM options),
# HOP_CACHE_DIR, HOP_RUN_DIR.
#
# `eval "$(scripts/services/s3proxy.sh status)"` exports the S3_* settings the tests read.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/../.." && pwd)"
VERSION="${S3PROXY_VERSION:-4.1.0}"
PORT="${S3_PORT:-19000}"
CACHE_DIR="${HOP_CACHE_DIR:-$REPO/.cache}/s3proxy-$VERSION"
RUN_DIR="${HOP_RUN_DIR:-$REPO/.cache/run}/s3proxy"
JAR="$CACHE_DIR/s3proxy-$VERSION-jar-with-dependencies.jar"
PID_FILE="$RUN_DIR/s3proxy.pid"
LOG_FILE="$RUN_DIR/s3proxy.log"
CONFIG_FILE="$RUN_DIR/s3proxy.properties"
DATA_DIR="$RUN_DIR/data"

# Test-only credentials. They protect nothing and are printed by `status`.
ACCESS_KEY_ID="hop-test-access-key"
SECRET_ACCESS_KEY="hop-test-secret-key"
REGION="us-east-1"
BUCKET="hop-test"
ENDPOINT="http://127.0.0.1:$PORT"

START_TIMEOUT_SECONDS=60

fail() {
  echo "s3proxy: $*" >&2
  exit 1
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# Any HTTP status counts: an unsigned request gets 403 AccessDenied.
responds() {
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$ENDPOINT/" 2>/dev/null || true)"
  [ -n "$code" ] && [ "$code" != "000" ]
}

check_java() {
  command -v java >/dev/null || fail "java not found; install a JDK 17 or newer (apt-get install openjdk-17-jre-headless)"
  local major
  major="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
  major="${major%%.*}"
  if [ -z "$major" ] || [ "$major" -lt 17 ]; then
    fail "S3Proxy $VERSION needs Java 17 or newer, found ${major:-unknown}"
  fi
}

download() {
  [ -f "$JAR" ] && return 0
  command -v mvn >/dev/null || fail "mvn not found; it downloads S3Proxy from Maven Central"
  echo "s3proxy: downloading org.gaul:s3proxy:$VERSION from Maven Central" >&2
  local staging="$CACHE_DIR.partial.$$"
  rm -rf "$staging"
  mkdir -p "$staging"
  if ! mvn -B -q -Dstyle.color=never dependency:copy \
    -Dartifact="org.gaul:s3proxy:$VERSION:jar:jar-with-dependencies" \
    -DoutputDirectory="$staging" >&2; then
    rm -rf "$staging"
    fail "mvn could not download org.gaul:s3proxy:$VERSION (jar-with-dependencies)"
  fi
  mkdir -p "$CACHE_DIR"
  mv "$staging/$(basename "$JAR")" "$JAR"
  rm -rf "$staging"
}

write_config() {
  mkdir -p "$DATA_DIR"
  cat >"$CONFIG_FILE" <<EOF
s3proxy.endpoint=$ENDPOINT
s3proxy.authorization=aws-v4
s3proxy.identity=$ACCESS_KEY_ID
s3proxy.credential=$SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$DATA_DIR
s3proxy.cors-allow-all=true
EOF
}

start() {
  if pid="$(running_pid)"; then
    echo "s3proxy: already running (pid $pid) on $ENDPOINT" >&2
    return 0
  fi
  if responds; then
    fail "port $PORT already answers HTTP but no S3Proxy started by this script runs; set S3_PORT to a free port"
  fi

  check_java
  download
  write_config

  # setsid detaches the server from this shell's process group, so it keeps
  # running after the script exits and `stop` can signal it alone.
  # shellcheck disable=SC2086
  setsid java ${S3PROXY_JAVA_OPTS:-} \
    -Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener \
    -jar "$JAR" --properties "$CONFIG_FILE" >"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"

  local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
  until responds; do
    if ! running_pid >/dev/null; then
      tail -n 30 "$LOG_FILE" >&2 || true
      rm -f "$PID_FILE"
      fail "S3Proxy exited during start-up; log: $LOG_FILE"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$LOG_FILE" >&2 || true
      stop
      fail "S3Proxy did not respond on $ENDPOINT within $START_TIMEOUT_SECONDS s; log: $LOG_FILE"
    fi
    sleep 0.3
  done
  echo "s3proxy: started (pid $(cat "$PID_FILE")) on $ENDPOINT, data in $DATA_DIR" >&2
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    echo "s3proxy: not running" >&2
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "s3proxy: pid $pid did not stop within 10 s; sending SIGKILL" >&2
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  echo "s3proxy: stopped (pid $pid)" >&2
}

status() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "s3proxy: not running" >&2
    return 3
  fi
  echo "# s3proxy $VERSION, pid $pid, data in $DATA_DIR"
  echo "export S3_ENDPOINT=$ENDPOINT"
  echo "export S3_REGION=$REGION"
  echo "export S3_BUCKET=$BUCKET"
  echo "export S3_ACCESS_KEY_ID=$ACCESS_KEY_ID"
  echo "export S3_SECRET_ACCESS_KEY=$SECRET_ACCESS_KEY"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
