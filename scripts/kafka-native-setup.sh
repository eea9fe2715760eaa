#!/usr/bin/env bash
# Apache Kafka for DriftLock on this machine, without Docker: a single-node
# KRaft broker+controller on 127.0.0.1:9092 (controller on 9093).
#
#   scripts/kafka-native-setup.sh install   find Kafka, or fetch a pinned release's jars with Maven
#   scripts/kafka-native-setup.sh start     format storage on first start, start, wait, create topics
#   scripts/kafka-native-setup.sh stop      stop by PID and wait
#   scripts/kafka-native-setup.sh status    running or not, and what the broker answers
#   scripts/kafka-native-setup.sh topics    list topics with their partitions
#   scripts/kafka-native-setup.sh test      produce and consume one record (needs kcat)
#   scripts/kafka-native-setup.sh logs [-f] tail the broker log
#
# An existing installation wins: $KAFKA_HOME/bin/kafka-server-start.sh, or
# kafka-server-start on PATH (Homebrew). Otherwise install copies
# org.apache.kafka:kafka_2.13:$KAFKA_VERSION and its runtime dependencies into
# .kafka/lib (git-ignored). Data, configuration, PID file and log live in .kafka/.
#
# Environment: KAFKA_VERSION (4.1.0), DRIFTLOCK_KAFKA_DIR (.kafka), KAFKA_PORT
# (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HEAP_OPTS (-Xms256m -Xmx512m),
# KAFKA_TOPICS ("otlp-events anomaly-events"), KAFKA_PARTITIONS (3),
# KAFKA_START_TIMEOUT seconds (90).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_VERSION=${KAFKA_VERSION:-4.1.0}
LOG4J_VERSION=2.24.3
KDIR=${DRIFTLOCK_KAFKA_DIR:-$ROOT/.kafka}
HOST=127.0.0.1
PORT=${KAFKA_PORT:-9092}
CPORT=${KAFKA_CONTROLLER_PORT:-9093}
BOOTSTRAP=$HOST:$PORT
LIB=$KDIR/lib
DATA=$KDIR/data
CONF=$KDIR/config
LOGS=$KDIR/logs
PIDFILE=$KDIR/kafka.pid
TOPICS=${KAFKA_TOPICS:-otlp-events anomaly-events}
PARTITIONS=${KAFKA_PARTITIONS:-3}
HEAP=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }

# mode prints how Kafka is run: home, path, maven or none.
mode() {
  if [[ -n "${KAFKA_HOME:-}" && -x "$KAFKA_HOME/bin/kafka-server-start.sh" ]]; then echo home
  elif command -v kafka-server-start >/dev/null 2>&1; then echo path
  elif [[ -f "$LIB/.installed-$KAFKA_VERSION" ]]; then echo maven
  else echo none
  fi
}

check_java() {
  command -v "$JAVA" >/dev/null 2>&1 ||
    die "Java 17 or newer is needed and no java was found (install e.g. openjdk-17-jre-headless, or set JAVA_HOME)"
  local v major
  v=$("$JAVA" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
  major=${v%%.*}
  [[ "$major" == 1 ]] && major=$(echo "$v" | cut -d. -f2)
  [[ "$major" =~ ^[0-9]+$ && "$major" -ge 17 ]] ||
    die "Java 17 or newer is needed, found ${v:-unknown} at $(command -v "$JAVA") (set JAVA_HOME to a newer JDK)"
}

ensure_kcat() {
  command -v kcat >/dev/null 2>&1 && return 0
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing kcat with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q kcat >/dev/null; }
  else
    say "kcat not found: install it (apt-get install kcat, brew install kcat) for 'test' and the end-to-end suite"
  fi
}

write_pom() {
  mkdir -p "$KDIR"
  cat >"$KDIR/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.driftlock</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
}

cmd_install() {
  check_java
  ensure_kcat
  case $(mode) in
    home) say "using the Kafka installation at $KAFKA_HOME"; return ;;
    path) say "using $(command -v kafka-server-start)"; return ;;
    maven) say "Kafka $KAFKA_VERSION already installed in $LIB"; return ;;
  esac
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch Kafka $KAFKA_VERSION, or set KAFKA_HOME to a Kafka installation"
  say "fetching Apache Kafka $KAFKA_VERSION and its runtime dependencies from Maven Central into $LIB"
  write_pom
  rm -rf "$LIB.tmp"
  mvn -B -Dstyle.color=never -f "$KDIR/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$LIB.tmp" >"$KDIR/maven.log" 2>&1 ||
    { tail -n 30 "$KDIR/maven.log" >&2; die "maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (see $KDIR/maven.log)"; }
  rm -rf "$LIB" && mv "$LIB.tmp" "$LIB"
  touch "$LIB/.installed-$KAFKA_VERSION"
  say "installed: $(ls "$LIB"/*.jar | wc -l) jars"
}

write_config() {
  mkdir -p "$CONF" "$DATA" "$LOGS"
  cat >"$CONF/server.properties" <<PROPS
# Written by scripts/kafka-native-setup.sh on every start.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CPORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA
num.partitions=$PARTITIONS
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# A broker restarted after a crash registers again once its old session expires.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
PROPS
  cat >"$CONF/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console: {name: STDOUT, target: SYSTEM_OUT, PatternLayout: {pattern: "[%d] %p %m (%c)%n"}}
  Loggers:
    Logger:
      - {name: kafka.request.logger, level: WARN}
      - {name: org.apache.kafka.controller, level: INFO}
      - {name: kafka.log.LogCleaner, level: WARN}
    Root: {level: INFO, AppenderRef: [{ref: STDOUT}]}
YAML
  cat >"$CONF/tools-log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console: {name: STDERR, target: SYSTEM_ERR, PatternLayout: {pattern: "%p %m%n"}}
  Loggers:
    Root: {level: WARN, AppenderRef: [{ref: STDERR}]}
YAML
}

java_cp() { echo "$LIB/*"; }

# tool runs a Kafka command-line tool: storage or topics.
tool() {
  local name=$1; shift
  case $(mode) in
    home) "$KAFKA_HOME/bin/kafka-$name.sh" "$@" ;;
    path) "kafka-$name" "$@" ;;
    maven)
      local main=kafka.tools.StorageTool
      [[ $name == topics ]] && main=org.apache.kafka.tools.TopicCommand
      "$JAVA" -Xmx256m -Dlog4j2.configurationFile="$CONF/tools-log4j2.yaml" -cp "$(java_cp)" "$main" "$@" ;;
    none) die "Kafka is not installed: run $0 install" ;;
  esac
}

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid=$(cat "$PIDFILE")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]] || return 1
  echo "$pid"
}

format_storage() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  local id # a random 16-byte UUID in URL-safe base64, as kafka-storage random-uuid prints
  id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
  say "formatting $DATA (cluster id $id)"
  tool storage format -t "$id" -c "$CONF/server.properties" --standalone >>"$LOGS/format.log" 2>&1 ||
    die "storage format failed, see $LOGS/format.log"
}

launch() {
  local out=$LOGS/server.log
  case $(mode) in
    home|path)
      local start=kafka-server-start
      [[ $(mode) == home ]] && start=$KAFKA_HOME/bin/kafka-server-start.sh
      KAFKA_HEAP_OPTS=$HEAP LOG_DIR=$LOGS KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$CONF/log4j2.yaml" \
        nohup "$start" "$CONF/server.properties" >>"$out" 2>&1 </dev/null &
      ;;
    maven)
      # shellcheck disable=SC2086 # HEAP holds several JVM options
      nohup "$JAVA" $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$CONF/log4j2.yaml" -Dkafka.logs.dir="$LOGS" \
        -cp "$(java_cp)" kafka.Kafka "$CONF/server.properties" >>"$out" 2>&1 </dev/null &
      ;;
  esac
  echo $! >"$PIDFILE"
}

# answers reports whether the broker serves metadata.
answers() {
  if command -v kcat >/dev/null 2>&1; then
    kcat -b "$BOOTSTRAP" -L -m 3 2>/dev/null | grep -q "broker 1 at"
  else
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
  fi
}

wait_ready() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
  until answers; do
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$LOGS/server.log" >&2; die "broker exited during start-up, see $LOGS/server.log"; }
    ((SECONDS < deadline)) || die "broker did not answer on $BOOTSTRAP within ${START_TIMEOUT}s, see $LOGS/server.log"
    sleep 0.5
  done
}

existing_topics() {
  if command -v kcat >/dev/null 2>&1; then
    { kcat -b "$BOOTSTRAP" -L -m 5 2>/dev/null || true; } | sed -n 's/^  topic "\([^"]*\)".*/\1/p'
  else
    tool topics --bootstrap-server "$BOOTSTRAP" --list || true
  fi
}

create_topics() {
  local have t
  have=$(existing_topics)
  for t in $TOPICS; do
    grep -qx "$t" <<<"$have" && continue
    say "creating topic $t ($PARTITIONS partitions, replication factor 1)"
    tool topics --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$t" \
      --partitions "$PARTITIONS" --replication-factor 1 >/dev/null
  done
}

cmd_start() {
  [[ $(mode) == none ]] && cmd_install
  check_java
  write_config
  local pid
  if pid=$(running_pid); then
    say "already running (pid $pid)"
  else
    format_storage
    launch
    pid=$(cat "$PIDFILE")
    say "started (pid $pid), waiting for $BOOTSTRAP"
    wait_ready "$pid"
  fi
  create_topics
  say "ready on $BOOTSTRAP"
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then
    say "not running"; rm -f "$PIDFILE"; return 0
  fi
  say "stopping (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then say "still running after 60s, sending SIGKILL"; kill -KILL "$pid"; fi
    sleep 0.5
  done
  rm -f "$PIDFILE"
  say "stopped"
}

cmd_status() {
  local pid
  say "installation: $(mode) (Kafka $KAFKA_VERSION when fetched with Maven)"
  if pid=$(running_pid); then say "running (pid $pid)"; else say "not running"; fi
  if answers; then say "broker answers on $BOOTSTRAP"; return 0; fi
  say "no broker answers on $BOOTSTRAP"
  return 1
}

cmd_topics() {
  if command -v kcat >/dev/null 2>&1; then
    kcat -b "$BOOTSTRAP" -L -m 5 | grep -E '^  topic ' | grep -v '"__' | sed 's/^  topic //'
  else
    tool topics --bootstrap-server "$BOOTSTRAP" --describe --exclude-internal
  fi
}

cmd_test() {
  command -v kcat >/dev/null 2>&1 || die "kcat is needed for the round trip: apt-get install kcat"
  local topic=driftlock-selftest payload got
  TOPICS=$topic PARTITIONS=1 create_topics
  payload="driftlock-selftest-$(date +%s%N)"
  printf '%s\n' "$payload" | kcat -b "$BOOTSTRAP" -P -t "$topic" -k selftest -X acks=all
  got=$(kcat -b "$BOOTSTRAP" -C -t "$topic" -o -1 -e -q -f '%k %s\n' -m 10)
  [[ "$got" == "selftest $payload" ]] || die "round trip failed: sent '$payload', read back '$got'"
  say "round trip ok: produced and consumed '$payload' on $topic"
}

cmd_logs() {
  [[ -f "$LOGS/server.log" ]] || die "no log yet ($LOGS/server.log)"
  if [[ "${1:-}" == -f ]]; then tail -n 50 -f "$LOGS/server.log"; else tail -n "${LINES_TO_SHOW:-100}" "$LOGS/server.log"; fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  topics) cmd_topics ;;
  test) cmd_test ;;
  logs) shift; cmd_logs "$@" ;;
  *) echo "usage: $0 install|start|stop|status|topics|test|logs [-f]" >&2; exit 2 ;;
esac
