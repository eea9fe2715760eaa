#!/usr/bin/env bash
# The whole DriftLock stack on this machine: Apache Kafka (through
# scripts/kafka-native-setup.sh), `driftlock ingest`, two `driftlock detect`
# replicas and `driftlock console`, each with a PID file and a log in .run/.
#
#   scripts/start-stack.sh start|stop|restart|status
#   scripts/start-stack.sh logs [SERVICE] [-f]     SERVICE: kafka ingest detect-1 detect-2 console
#   scripts/start-stack.sh --docker start|stop|restart|status|logs
#                                                  the same with docker compose (needs a Docker engine)
#
# Endpoints: OTLP gRPC 4317, OTLP HTTP 4318, console http://127.0.0.1:8080,
# admin (/metrics /healthz /readyz): ingest 8888, detectors 8889 and 8890.
# Environment: DRIFTLOCK_BIND (127.0.0.1) is the address services listen on;
# DRIFTLOCK_CONFIG names a YAML file passed to every service with --config;
# DRIFTLOCK_KAFKA_BROKERS (127.0.0.1:9092) and other DRIFTLOCK_* settings are
# read by the services themselves. The binary is built when bin/driftlock is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN=$ROOT/.run
BIN=$ROOT/bin/driftlock
KAFKA=$ROOT/scripts/kafka-native-setup.sh
BIND=${DRIFTLOCK_BIND:-127.0.0.1}
SERVICES=(ingest detect-1 detect-2 console)

say() { printf 'stack: %s\n' "$*"; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# args prints the command line of a service, one word per line.
args() {
  local extra=()
  [[ -n "${DRIFTLOCK_CONFIG:-}" ]] && extra=(--config "$DRIFTLOCK_CONFIG")
  case $1 in
    ingest) printf '%s\n' ingest "${extra[@]}" --ingest.grpc_endpoint "$BIND:4317" \
      --ingest.http_endpoint "$BIND:4318" --ingest.admin_endpoint "$BIND:8888" ;;
    detect-1) printf '%s\n' detect "${extra[@]}" --detector.admin_endpoint "$BIND:8889" ;;
    detect-2) printf '%s\n' detect "${extra[@]}" --detector.admin_endpoint "$BIND:8890" ;;
    console) printf '%s\n' console "${extra[@]}" --console.http_endpoint "$BIND:8080" ;;
  esac
}

ready_url() {
  local host=$BIND
  [[ $host == 0.0.0.0 ]] && host=127.0.0.1
  case $1 in
    ingest) echo "http://$host:8888/readyz" ;;
    detect-1) echo "http://$host:8889/readyz" ;;
    detect-2) echo "http://$host:8890/readyz" ;;
    console) echo "http://$host:8080/readyz" ;;
  esac
}

pid_of() {
  local f=$RUN/$1.pid pid
  [[ -f $f ]] || return 1
  pid=$(cat "$f")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]] || return 1
  echo "$pid"
}

ensure_binary() {
  [[ -x $BIN ]] && return 0
  say "building $BIN"
  make -C "$ROOT" build >/dev/null
}

ports() {
  case $1 in
    ingest) echo 4317 4318 8888 ;;
    detect-1) echo 8889 ;;
    detect-2) echo 8890 ;;
    console) echo 8080 ;;
  esac
}

# port_in_use reports whether something already accepts connections on port.
port_in_use() {
  local host=$BIND
  [[ $host == 0.0.0.0 ]] && host=127.0.0.1
  (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null
}

start_service() {
  local name=$1 pid words p
  if pid=$(pid_of "$name"); then say "$name already running (pid $pid)"; return 0; fi
  for p in $(ports "$name"); do
    port_in_use "$p" && die "port $p for $name is taken by another process; stop it first"
  done
  mapfile -t words < <(args "$name")
  nohup "$BIN" "${words[@]}" >>"$RUN/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  say "$name started (pid $!): driftlock ${words[*]}"
}

wait_ready() {
  local name=$1 url deadline=$((SECONDS + 60))
  url=$(ready_url "$name")
  while :; do
    pid_of "$name" >/dev/null || { tail -n 20 "$RUN/$name.log" >&2; die "$name exited, see $RUN/$name.log"; }
    "$BIN" healthcheck "$url" 2>/dev/null && break
    ((SECONDS < deadline)) || die "$name not ready within 60s ($url), see $RUN/$name.log"
    sleep 0.5
  done
  say "$name ready"
}

stop_service() {
  local name=$1 pid deadline
  if ! pid=$(pid_of "$name"); then rm -f "$RUN/$name.pid"; return 0; fi
  kill -TERM "$pid"
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && [[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z* ]]; do
    if ((SECONDS >= deadline)); then say "$name still running after 30s, sending SIGKILL"; kill -KILL "$pid"; fi
    sleep 0.2
  done
  rm -f "$RUN/$name.pid"
  say "$name stopped (pid $pid)"
}

native_start() {
  mkdir -p "$RUN"
  ensure_binary
  "$KAFKA" start
  local s
  for s in "${SERVICES[@]}"; do start_service "$s"; done
  for s in "${SERVICES[@]}"; do wait_ready "$s"; done
  say "up: OTLP gRPC $BIND:4317, OTLP HTTP $BIND:4318, console http://$BIND:8080"
}

native_stop() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_service "${SERVICES[i]}"; done
  "$KAFKA" stop
}

native_status() {
  local s pid code body rc=0
  "$KAFKA" status || rc=1
  for s in "${SERVICES[@]}"; do
    if pid=$(pid_of "$s"); then
      body=$(curl -s -m 2 -w ' (HTTP %{http_code})' "$(ready_url "$s")" 2>/dev/null || true)
      code=${body##*HTTP }
      printf 'stack: %-9s running (pid %s), /readyz: %s\n' "$s" "$pid" "$(echo "${body:-no answer}" | tr -s '\n' ' ')"
      [[ $code == "200)" ]] || rc=1
    else
      printf 'stack: %-9s not running\n' "$s"
      rc=1
    fi
  done
  return $rc
}

native_logs() {
  local name=${1:-} follow=${2:-}
  if [[ $name == -f ]]; then name=; follow=-f; fi
  if [[ $name == kafka ]]; then "$KAFKA" logs $follow; return; fi
  if [[ -n $name ]]; then
    [[ -f $RUN/$name.log ]] || die "no log for $name in $RUN"
    if [[ $follow == -f ]]; then tail -n 50 -f "$RUN/$name.log"; else tail -n 100 "$RUN/$name.log"; fi
    return
  fi
  local files=()
  for s in "${SERVICES[@]}"; do [[ -f $RUN/$s.log ]] && files+=("$RUN/$s.log"); done
  ((${#files[@]})) || die "no logs yet in $RUN"
  if [[ $follow == -f ]]; then tail -n 20 -f "${files[@]}"; else tail -n 20 "${files[@]}"; fi
}

compose() {
  if docker compose version >/dev/null 2>&1; then docker compose -f "$ROOT/docker-compose.yml" "$@"
  elif command -v docker-compose >/dev/null 2>&1; then docker-compose -f "$ROOT/docker-compose.yml" "$@"
  else die "docker compose is not installed (Compose v2 plugin or docker-compose)"; fi
}

docker_cmd() {
  command -v docker >/dev/null 2>&1 || die "docker is not installed; run the stack natively without --docker"
  docker info >/dev/null 2>&1 ||
    die "no Docker engine answers (docker info failed); start one, or run the stack natively without --docker"
  case $1 in
    start) compose up -d --build --wait ;;
    stop) compose down ;;
    restart) compose down && compose up -d --build --wait ;;
    status) compose ps ;;
    logs) shift; compose logs --tail 100 "$@" ;;
  esac
}

docker_mode=false
if [[ ${1:-} == --docker ]]; then docker_mode=true; shift; fi
cmd=${1:-}
case $cmd in
  start|stop|restart|status|logs) ;;
  *) echo "usage: $0 [--docker] start|stop|restart|status|logs [SERVICE] [-f]" >&2; exit 2 ;;
esac
if $docker_mode; then docker_cmd "$@"; exit; fi
case $cmd in
  start) native_start ;;
  stop) native_stop ;;
  restart) native_stop; native_start ;;
  status) native_status ;;
  logs) shift; native_logs "$@" ;;
esac
