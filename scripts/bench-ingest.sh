#!/usr/bin/env bash
# Load-tests `driftlock ingest` with telemetrygen (OTLP logs and metrics over
# gRPC and HTTP, 100 records per request) against an in-memory broker
# (kfake) running in its own process, and prints per scenario: records/s
# acknowledged by Kafka (from driftlock_ingest_accepted_records_total) and CPU
# seconds of the ingest process per million records (from /proc/<pid>/stat),
# and beside it those of the broker and of the load generator (telemetrygen),
# which share the machine with it.
#
# TARGET=collector measures the OpenTelemetry Collector instead (OTLP
# receiver -> Kafka exporter, scripts/bench-collector/), under the same load
# and accounting: records are the log records and metric data points its
# Kafka exporter had acknowledged (otelcol_exporter_sent_log_records and
# otelcol_exporter_sent_metric_points), CPU that of the Collector process.
# The Collector is built once with ocb by scripts/build-collector.sh into
# $BENCH_CACHE (outside the repository) and reused while its manifest, ocb
# and Go stay the same.
#
# TARGET=collector-deployed measures the Collector as it is usually
# deployed (scripts/bench-collector/config-deployed.yaml: a batch processor
# of 2,048, the sending queue on, required_acks 1, otlp_json), counted the
# same way once its queue has drained.
#
# TARGET=floor measures scripts/bench-floor, which answers every export
# without decoding it or writing anything (with the ingest's gRPC server
# settings): what receiving and answering the load costs any OTLP
# receiver on this machine. Its records are the requests it answered
# times BATCH.
#
# DriftLock's ingest tunes its garbage collector (GOGC=400 and a memory
# limit) unless GOGC or GOMEMLIMIT is set; the Collector runs with Go's
# defaults. TARGET_ENV gives the measured process (and only it) environment
# settings, e.g. TARGET_ENV="GOGC=400 GOMEMLIMIT=320MiB" for the Collector
# to run with the ingest's garbage collector settings, or
# TARGET_ENV=GOMAXPROCS=1 for either to run Go code on one core.
#
# TLS=1 serves the OTLP endpoints over TLS (a CA and a certificate for
# 127.0.0.1 made with openssl for the run; telemetrygen verifies it against
# the CA): the ingest through ingest.tls.*, the Collector's receiver through
# its tls settings. Not for the floor.
#
# DRIFTLOCK_BIN measures that driftlock binary instead of one built from
# this checkout (to compare two builds under the same load).
#
# BROKER_CPUS=1 CPUS=0 runs the broker on CPU 1 and the measured process and
# telemetrygen on CPU 0 (taskset), so that the broker's work, which differs
# between targets writing one record per log record and one per 2,048,
# takes no CPU from the measured process, as when Kafka runs on machines
# of its own.
#
# Environment: TARGET (driftlock, collector, collector-deployed or floor,
# default driftlock), TARGET_ENV (assignments, default none), TLS (0 or 1,
# default 0), DRIFTLOCK_BIN, BROKER_CPUS and CPUS (default none), DURATION
# (default 20s), WORKERS (default 2), BATCH (default 100), SCENARIOS (default
# "logs-grpc logs-http metrics-grpc metrics-http"), BENCH_CACHE (default
# ~/.cache/driftlock-bench), BROKER_PORT, GRPC_PORT, HTTP_PORT, ADMIN_PORT
# (loopback; default 19092, 14317, 14318, 18888).
set -euo pipefail

cd "$(dirname "$0")/.."
TARGET=${TARGET:-driftlock}
TARGET_ENV=${TARGET_ENV:-}
TLS=${TLS:-0}
DURATION=${DURATION:-20s}
WORKERS=${WORKERS:-2}
BATCH=${BATCH:-100}
SCENARIOS=${SCENARIOS:-"logs-grpc logs-http metrics-grpc metrics-http"}
BROKER_PORT=${BROKER_PORT:-19092}
GRPC=127.0.0.1:${GRPC_PORT:-14317}
HTTP=127.0.0.1:${HTTP_PORT:-14318}
ADMIN=127.0.0.1:${ADMIN_PORT:-18888}
BROKER_CPUS=${BROKER_CPUS:-}
CPUS=${CPUS:-}
TELEMETRYGEN_VERSION=v0.161.0
case $TARGET in
driftlock | collector | collector-deployed | floor) ;;
*) echo "TARGET must be driftlock, collector, collector-deployed or floor, not $TARGET" >&2; exit 2 ;;
esac
if [[ -n $BROKER_CPUS && -z $CPUS ]]; then
	echo "BROKER_CPUS needs CPUS, the CPUs of the rest of the run (e.g. BROKER_CPUS=1 CPUS=0)" >&2
	exit 2
fi
if [[ $TLS == 1 && $TARGET == floor ]]; then
	echo "TLS=1 is not supported for the floor" >&2
	exit 2
fi

GOBIN_DIR=$(go env GOPATH)/bin
TELEMETRYGEN=${TELEMETRYGEN:-$GOBIN_DIR/telemetrygen}
if [[ ! -x $TELEMETRYGEN ]]; then
	echo "installing telemetrygen $TELEMETRYGEN_VERSION" >&2
	go install "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$TELEMETRYGEN_VERSION"
	TELEMETRYGEN=$GOBIN_DIR/telemetrygen
fi

# Another process on one of the ports would be measured instead.
for addr in "127.0.0.1:$BROKER_PORT" "$GRPC" "$HTTP" "$ADMIN"; do
	if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
		echo "$addr is in use; set BROKER_PORT, GRPC_PORT, HTTP_PORT or ADMIN_PORT" >&2
		exit 1
	fi
done

WORK=$(mktemp -d)
BROKER_PID=
INGEST_PID=
cleanup() {
	[[ -n $INGEST_PID ]] && kill "$INGEST_PID" 2>/dev/null && wait "$INGEST_PID" 2>/dev/null || true
	[[ -n $BROKER_PID ]] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/kfakebroker" ./internal/testkit/kfakebroker
COLLECTOR_CONFIG=scripts/bench-collector/config.yaml
[[ $TARGET == collector-deployed ]] && COLLECTOR_CONFIG=scripts/bench-collector/config-deployed.yaml
if [[ $TARGET == collector* ]]; then
	OTELCOL=$(scripts/build-collector.sh)
	go build -o "$WORK/createtopic" ./scripts/bench-collector/createtopic
elif [[ $TARGET == floor ]]; then
	go build -o "$WORK/bench-floor" ./scripts/bench-floor
elif [[ -n ${DRIFTLOCK_BIN:-} ]]; then
	cp "$DRIFTLOCK_BIN" "$WORK/driftlock"
else
	go build -o "$WORK/driftlock" ./cmd/driftlock
fi

# make_certs writes a CA and a server certificate for 127.0.0.1 into $WORK.
make_certs() {
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
	openssl req -x509 "${ec[@]}" -keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 1 -subj "/CN=bench CA" 2>/dev/null
	openssl req "${ec[@]}" -keyout "$WORK/server.key" -out "$WORK/server.csr" -subj "/CN=127.0.0.1" 2>/dev/null
	openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
		-out "$WORK/server.pem" -days 1 -extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null
	# The Collector's receiver settings, merged over its configuration.
	cat >"$WORK/collector-tls.yaml" <<-EOF
		receivers:
		  otlp:
		    protocols:
		      grpc: {tls: {cert_file: $WORK/server.pem, key_file: $WORK/server.key}}
		      http: {tls: {cert_file: $WORK/server.pem, key_file: $WORK/server.key}}
	EOF
}
[[ $TLS == 1 ]] && make_certs

# With BROKER_CPUS, the broker runs on those CPUs and everything else of the
# run (the measured process and telemetrygen) on CPUS.
BROKER_CMD=("$WORK/kfakebroker" -port "$BROKER_PORT")
if [[ -n $BROKER_CPUS ]]; then
	BROKER_CMD=(taskset -c "$BROKER_CPUS" "${BROKER_CMD[@]}")
	taskset -p -c "$CPUS" $$ >/dev/null
fi
"${BROKER_CMD[@]}" >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!

# start_driftlock starts the ingest and waits until it is ready.
start_driftlock() {
	local tls=()
	[[ $TLS == 1 ]] && tls=(DRIFTLOCK_INGEST_TLS_CERT_FILE="$WORK/server.pem" DRIFTLOCK_INGEST_TLS_KEY_FILE="$WORK/server.key")
	env $TARGET_ENV "${tls[@]}" \
		DRIFTLOCK_KAFKA_BROKERS=127.0.0.1:$BROKER_PORT \
		DRIFTLOCK_INGEST_GRPC_ENDPOINT=$GRPC \
		DRIFTLOCK_INGEST_HTTP_ENDPOINT=$HTTP \
		DRIFTLOCK_INGEST_ADMIN_ENDPOINT=$ADMIN \
		"$WORK/driftlock" ingest >"$WORK/ingest.log" 2>&1 &
	INGEST_PID=$!
	for _ in $(seq 1 100); do
		curl -fs "http://$ADMIN/readyz" >/dev/null 2>&1 && return
		sleep 0.1
	done
	curl -fs "http://$ADMIN/readyz" >/dev/null || { cat "$WORK/ingest.log" >&2; echo "ingest not ready" >&2; exit 1; }
}

# start_collector creates the events topic as the ingest would (3
# partitions), starts the Collector and waits until its pipelines run.
start_collector() {
	"$WORK/createtopic" -broker "127.0.0.1:$BROKER_PORT" -topic otlp-events -partitions 3
	local tls=()
	[[ $TLS == 1 ]] && tls=(--config "$WORK/collector-tls.yaml")
	env $TARGET_ENV \
		OTELBENCH_GRPC=$GRPC OTELBENCH_HTTP=$HTTP OTELBENCH_BROKER=127.0.0.1:$BROKER_PORT \
		OTELBENCH_ADMIN_PORT=${ADMIN##*:} \
		"$OTELCOL" --config "$COLLECTOR_CONFIG" "${tls[@]}" >"$WORK/ingest.log" 2>&1 &
	INGEST_PID=$!
	for _ in $(seq 1 300); do
		grep -qs "Everything is ready" "$WORK/ingest.log" && curl -fs "http://$ADMIN/metrics" >/dev/null && return
		kill -0 "$INGEST_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$WORK/ingest.log" >&2; echo "Collector not ready" >&2; exit 1
}

# start_floor starts the floor server and waits until it answers.
start_floor() {
	env $TARGET_ENV "$WORK/bench-floor" -grpc "$GRPC" -http "$HTTP" -admin "$ADMIN" >"$WORK/ingest.log" 2>&1 &
	INGEST_PID=$!
	for _ in $(seq 1 100); do
		curl -fs "http://$ADMIN/metrics" >/dev/null 2>&1 && return
		sleep 0.1
	done
	cat "$WORK/ingest.log" >&2; echo "floor server not ready" >&2; exit 1
}

# accepted prints the records Kafka acknowledged so far (for the floor, the
# records of the requests answered).
accepted() {
	local pattern='^driftlock_ingest_accepted_records_total' per=1
	[[ $TARGET == collector* ]] && pattern='^otelcol_exporter_sent_(log_records|metric_points)(_total)?[{ ]'
	[[ $TARGET == floor ]] && pattern='^floor_requests_total' per=$BATCH
	curl -fs "http://$ADMIN/metrics" | awk -v p="$pattern" -v per="$per" '$0 ~ p {s += $NF} END {printf "%d\n", s * per}'
}
# cpu_ticks prints user+system clock ticks of process $1 (default: the
# measured one).
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/${1:-$INGEST_PID}/stat"
}
# drained waits until the acknowledged records stop growing (a Collector
# with a sending queue still exports what it queued) and prints them.
drained() {
	local a b
	a=$(accepted)
	for _ in $(seq 1 50); do
		sleep 0.2
		b=$(accepted)
		[[ $b == "$a" ]] && break
		a=$b
	done
	echo "$a"
}
start_${TARGET%-deployed}
TICKS=$(getconf CLK_TCK)

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
[[ $TARGET == floor ]] && echo "target: scripts/bench-floor (answers exports, decodes and writes nothing)"
[[ $TARGET == collector* ]] && echo "target: OpenTelemetry Collector $("$OTELCOL" --version | awk '{print $NF}') ($COLLECTOR_CONFIG)"
[[ $TLS == 1 ]] && echo "TLS on the OTLP endpoints"
[[ -n $TARGET_ENV ]] && echo "target environment: $TARGET_ENV"
echo "telemetrygen $TELEMETRYGEN_VERSION: --workers $WORKERS --rate 0 --batch-size $BATCH --duration $DURATION"
printf "%-14s %12s %12s %14s %14s %14s\n" scenario records records/s cpu-s/million broker client
for sc in $SCENARIOS; do
	signal=${sc%-*}
	transport=${sc#*-}
	args=(--rate 0 --workers "$WORKERS" --batch-size "$BATCH" --duration "$DURATION" --allow-export-failures)
	if [[ $TLS == 1 ]]; then args+=(--ca-cert "$WORK/ca.pem"); else args+=(--otlp-insecure); fi
	if [[ $transport == http ]]; then
		args+=(--otlp-http --otlp-endpoint "$HTTP")
	else
		args+=(--otlp-endpoint "$GRPC")
	fi
	[[ $signal == metrics ]] && args+=(--metric-type Sum)
	a0=$(accepted); c0=$(cpu_ticks); b0=$(cpu_ticks "$BROKER_PID"); t0=$(date +%s.%N)
	# The load generator's CPU seconds (user + system), from bash's time.
	TIMEFORMAT='%U %S'
	{ time "$TELEMETRYGEN" "$signal" "${args[@]}" >"$WORK/$sc.log" 2>&1; } 2>"$WORK/$sc.time" ||
		{ tail -5 "$WORK/$sc.log" >&2; echo "$sc: telemetrygen failed" >&2; }
	client=$(awk 'END {print $1 + $2}' "$WORK/$sc.time")
	t1=$(date +%s.%N); a1=$(drained); c1=$(cpu_ticks); b1=$(cpu_ticks "$BROKER_PID")
	awk -v a="$((a1 - a0))" -v c="$((c1 - c0))" -v b="$((b1 - b0))" -v g="$client" -v hz="$TICKS" \
		-v t0="$t0" -v t1="$t1" -v sc="$sc" 'BEGIN {
		rate = a / (t1 - t0); m = (a > 0) ? a / 1e6 : 0
		printf "%-14s %12d %12.0f %14.2f %14.2f %14.2f\n", sc, a, rate,
			m ? (c / hz) / m : 0, m ? (b / hz) / m : 0, m ? g / m : 0 }'
done
