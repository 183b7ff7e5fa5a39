#!/usr/bin/env bash
# Starts, stops or reports a single-node Apache Kafka 4 broker (KRaft mode,
# combined broker and controller) for development and tests, listening on
# 127.0.0.1 only.
#
# usage: scripts/services/kafka.sh start|stop|status
#
# The broker runs from the jars on Maven Central: scripts/services/kafka/pom.xml
# resolves org.apache.kafka:kafka_2.13 and its runtime dependencies into
# ${HOP_CACHE_DIR:-.cache}/kafka-<version>/libs once, and later runs reuse them.
#
# Environment:
#   KAFKA_VERSION          Kafka release to run (unset: 4.4.0, then older 4.x
#                          releases until one resolves from Maven Central)
#   KAFKA_PORT             PLAINTEXT listener port (default 19092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener port (default KAFKA_PORT+1)
#   KAFKA_HEAP_OPTS        JVM heap options (default -Xms256m -Xmx512m)
#   HOP_CACHE_DIR          cache folder for the jars (default <repo>/.cache)
#   HOP_RUN_DIR            run folder whose kafka/ is the data dir (default <repo>/.cache/run)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEMPLATES=$REPO/scripts/services/kafka

CANDIDATE_VERSIONS=(4.4.0 4.3.2 4.2.1 4.1.2)
if [ -n "${KAFKA_VERSION:-}" ]; then CANDIDATE_VERSIONS=("$KAFKA_VERSION"); fi

KAFKA_PORT=${KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
CACHE_DIR=${HOP_CACHE_DIR:-$REPO/.cache}
RUN_DIR=${HOP_RUN_DIR:-$REPO/.cache/run}
DATA_DIR=$RUN_DIR/kafka
PID_FILE=$DATA_DIR/kafka.pid
VERSION_FILE=$DATA_DIR/kafka.version
SERVER_LOG=$DATA_DIR/server.log
STDOUT_LOG=$DATA_DIR/kafka.out
START_TIMEOUT_SECONDS=90
STOP_TIMEOUT_SECONDS=30

say() { echo "kafka: $*"; }
fail() {
  echo "kafka: $*" >&2
  exit 1
}

# Prints the pid of the broker this script started, if that process still runs.
running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # A stale pid file may name a pid that the system gave to another program.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

port_accepts() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

print_log_tail() {
  local file
  for file in "$SERVER_LOG" "$STDOUT_LOG"; do
    if [ -s "$file" ]; then
      echo "--- last lines of $file" >&2
      tail -n 40 "$file" >&2
    fi
  done
}

# Copies kafka_2.13:$1 and its runtime dependencies into the cache unless a
# previous run completed that already. Prints the libs folder.
resolve_libs() {
  local version=$1
  local home=$CACHE_DIR/kafka-$version
  local libs=$home/libs
  if [ -f "$libs/.complete" ]; then
    echo "$libs"
    return 0
  fi

  command -v mvn >/dev/null || fail "mvn not found; install Maven to fetch the Kafka jars"
  mkdir -p "$home"
  rm -rf "$libs.partial"
  say "resolving org.apache.kafka:kafka_2.13:$version from Maven Central into $libs" >&2
  if ! mvn -B -q -f "$TEMPLATES/pom.xml" "-Dkafka.version=$version" \
    dependency:copy-dependencies -DincludeScope=runtime "-DoutputDirectory=$libs.partial" >"$home/mvn.log" 2>&1; then
    echo "kafka: resolving Kafka $version failed; see $home/mvn.log" >&2
    tail -n 20 "$home/mvn.log" >&2
    rm -rf "$libs.partial"
    return 1
  fi
  [ -f "$libs.partial/kafka_2.13-$version.jar" ] || {
    echo "kafka: kafka_2.13-$version.jar missing after resolving; see $home/mvn.log" >&2
    return 1
  }
  touch "$libs.partial/.complete"
  rm -rf "$libs"
  mv "$libs.partial" "$libs"
  echo "$libs"
}

# Writes the Java source of the readiness check: an Admin client sends a
# DescribeCluster (metadata) request and a DescribeFeatures request, and prints
# the cluster id and the finalized metadata.version.
write_ready_check() {
  cat >"$1" <<'JAVA'
import java.util.Collection;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.common.Node;
import org.apache.kafka.server.common.MetadataVersion;

public class ReadyCheck {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "hop-kafka-ready-check");
    try (Admin admin = Admin.create(props)) {
      DescribeClusterResult cluster = admin.describeCluster();
      String clusterId = cluster.clusterId().get(6, TimeUnit.SECONDS);
      Collection<Node> nodes = cluster.nodes().get(6, TimeUnit.SECONDS);
      FeatureMetadata features = admin.describeFeatures().featureMetadata().get(6, TimeUnit.SECONDS);
      FinalizedVersionRange level = features.finalizedFeatures().get("metadata.version");
      String metadataVersion = level == null
          ? "not finalized"
          : MetadataVersion.fromFeatureLevel(level.maxVersionLevel()).version();
      System.out.println("cluster " + clusterId + ", " + nodes.size() + " broker(s), metadata.version " + metadataVersion);
    } catch (Exception error) {
      System.err.println("metadata request failed: " + error);
      System.exit(1);
    }
  }
}
JAVA
}

# Compiles the readiness check once per data dir, against the broker's jars.
compile_ready_check() {
  local libs=$1
  local classes=$DATA_DIR/ready-check
  [ -f "$classes/ReadyCheck.class" ] && return 0
  write_ready_check "$DATA_DIR/ReadyCheck.java"
  mkdir -p "$classes"
  javac -nowarn -cp "$libs/*" -d "$classes" "$DATA_DIR/ReadyCheck.java" ||
    fail "compiling $DATA_DIR/ReadyCheck.java failed; Kafka needs a JDK (javac), not only a JRE"
}

# Runs the readiness check once against the broker and prints its one-line summary.
ready_check() {
  local libs=$1
  compile_ready_check "$libs"
  # Log4j2 without a configuration file prints errors only, so the Admin
  # client's retries while the broker starts stay out of the output.
  java -Xmx128m -Dlog4j2.level=ERROR -cp "$DATA_DIR/ready-check:$libs/*" ReadyCheck "127.0.0.1:$KAFKA_PORT" \
    2>>"$DATA_DIR/ready-check.log"
}

write_config() {
  local libs=$1
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
    -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@DATA_DIR@|$DATA_DIR|g" \
    "$TEMPLATES/server.properties.template" >"$DATA_DIR/server.properties"
  cp "$TEMPLATES/log4j2.properties" "$DATA_DIR/log4j2.properties"
  # The check compiled for another Kafka version or an older script is rebuilt.
  rm -rf "$DATA_DIR/ready-check"
  compile_ready_check "$libs"
}

# Formats the log dir with a new cluster id unless it is formatted already.
# A log dir formatted by another Kafka version is wiped first, because Kafka
# does not promise to read a directory formatted by a newer release.
format_storage() {
  local libs=$1 version=$2
  if [ -f "$DATA_DIR/logs/meta.properties" ]; then
    if [ "$(cat "$VERSION_FILE" 2>/dev/null)" = "$version" ]; then return 0; fi
    say "data in $DATA_DIR/logs was formatted by Kafka $(cat "$VERSION_FILE" 2>/dev/null || echo unknown); deleting it to format for $version"
    rm -rf "$DATA_DIR/logs"
  fi

  local cluster_id
  cluster_id=$(java -cp "$libs/*" -Dlog4j2.level=ERROR kafka.tools.StorageTool random-uuid)
  java -cp "$libs/*" -Dlog4j2.level=ERROR kafka.tools.StorageTool format --standalone \
    --cluster-id "$cluster_id" --config "$DATA_DIR/server.properties" >"$DATA_DIR/format.log" 2>&1 || {
    cat "$DATA_DIR/format.log" >&2
    fail "formatting $DATA_DIR/logs failed"
  }
  echo "$version" >"$VERSION_FILE"
  say "formatted $DATA_DIR/logs with cluster id $cluster_id"
}

wait_until_ready() {
  local pid=$1 libs=$2
  local deadline=$((SECONDS + START_TIMEOUT_SECONDS))
  local summary
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      print_log_tail
      rm -f "$PID_FILE"
      fail "broker process $pid exited during start-up"
    fi
    if port_accepts "$KAFKA_PORT" && summary=$(ready_check "$libs"); then
      echo "$summary"
      return 0
    fi
    sleep 1
  done
  print_log_tail
  fail "broker did not answer a metadata request on 127.0.0.1:$KAFKA_PORT within $START_TIMEOUT_SECONDS s (pid $pid still runs; stop it with $0 stop)"
}

# Prints the release that the broker itself logged at start-up.
logged_version() {
  sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' "$SERVER_LOG" 2>/dev/null | tail -n 1
}

start() {
  mkdir -p "$DATA_DIR"
  local pid version libs=''
  if pid=$(running_pid); then
    version=$(cat "$VERSION_FILE")
    libs=$CACHE_DIR/kafka-$version/libs
    say "already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    wait_until_ready "$pid" "$libs" >/dev/null
    return 0
  fi
  rm -f "$PID_FILE"

  if port_accepts "$KAFKA_PORT"; then
    fail "port $KAFKA_PORT on 127.0.0.1 is in use by a process this script did not start; stop it or set KAFKA_PORT"
  fi
  if port_accepts "$KAFKA_CONTROLLER_PORT"; then
    fail "controller port $KAFKA_CONTROLLER_PORT on 127.0.0.1 is in use; stop that process or set KAFKA_CONTROLLER_PORT"
  fi

  command -v java >/dev/null || fail "java not found; Kafka 4 needs Java 17 or newer"
  command -v javac >/dev/null || fail "javac not found; the readiness check needs a JDK 17 or newer, not only a JRE"
  for version in "${CANDIDATE_VERSIONS[@]}"; do
    if libs=$(resolve_libs "$version"); then break; fi
    libs=''
    say "Kafka $version is not available; trying the next older release" >&2
  done
  [ -n "$libs" ] || fail "no Kafka release of ${CANDIDATE_VERSIONS[*]} could be resolved from Maven Central"

  write_config "$libs"
  format_storage "$libs" "$version"

  say "starting Kafka $version on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT, data $DATA_DIR)"
  : >"$SERVER_LOG"
  # shellcheck disable=SC2086 # HEAP_OPTS holds several JVM options.
  nohup java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    "-Dkafka.logs.dir=$DATA_DIR" "-Dlog4j2.configurationFile=$DATA_DIR/log4j2.properties" \
    -cp "$libs/*" kafka.Kafka "$DATA_DIR/server.properties" >"$STDOUT_LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PID_FILE"

  local started_at=${EPOCHREALTIME/./} summary
  summary=$(wait_until_ready "$pid" "$libs")
  local elapsed_ms=$(((${EPOCHREALTIME/./} - started_at) / 1000))
  say "ready in $((elapsed_ms / 1000)).$((elapsed_ms % 1000 / 100)) s (pid $pid): Kafka $(logged_version || true), $summary"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  say "stopping pid $pid"
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT_SECONDS))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "pid $pid still runs after $STOP_TIMEOUT_SECONDS s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.5
  done
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  local pid version
  if ! pid=$(running_pid); then
    say "not running"
    return 3
  fi
  version=$(cat "$VERSION_FILE")
  local summary
  if summary=$(ready_check "$CACHE_DIR/kafka-$version/libs"); then
    say "running (pid $pid) on 127.0.0.1:$KAFKA_PORT: Kafka $(logged_version || true), $summary"
  else
    say "process $pid runs but does not answer a metadata request on 127.0.0.1:$KAFKA_PORT"
    return 1
  fi
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
