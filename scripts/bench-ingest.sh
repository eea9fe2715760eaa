#!/usr/bin/env bash
# Load-tests `driftlock ingest` with telemetrygen (OTLP logs and metrics over
# gRPC and HTTP, 100 records per request) against an in-memory broker
# (kfake) running in its own process, and prints per scenario: records/s
# acknowledged by Kafka (from driftlock_ingest_accepted_records_total) and CPU
# seconds of the ingest process per million records (from /proc/<pid>/stat).
#
# Environment: DURATION (default 20s), WORKERS (default 2), BATCH (default 100),
# SCENARIOS (default "logs-grpc logs-http metrics-grpc metrics-http").
set -euo pipefail

cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
WORKERS=${WORKERS:-2}
BATCH=${BATCH:-100}
SCENARIOS=${SCENARIOS:-"logs-grpc logs-http metrics-grpc metrics-http"}
BROKER_PORT=${BROKER_PORT:-19092}
GRPC=127.0.0.1:${GRPC_PORT:-14317}
HTTP=127.0.0.1:${HTTP_PORT:-14318}
ADMIN=127.0.0.1:${ADMIN_PORT:-18888}
TELEMETRYGEN_VERSION=v0.161.0

GOBIN_DIR=$(go env GOPATH)/bin
TELEMETRYGEN=${TELEMETRYGEN:-$GOBIN_DIR/telemetrygen}
if [[ ! -x $TELEMETRYGEN ]]; then
	echo "installing telemetrygen $TELEMETRYGEN_VERSION" >&2
	go install "github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@$TELEMETRYGEN_VERSION"
	TELEMETRYGEN=$GOBIN_DIR/telemetrygen
fi

WORK=$(mktemp -d)
BROKER_PID=
INGEST_PID=
cleanup() {
	[[ -n $INGEST_PID ]] && kill "$INGEST_PID" 2>/dev/null && wait "$INGEST_PID" 2>/dev/null || true
	[[ -n $BROKER_PID ]] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

go build -o "$WORK/driftlock" ./cmd/driftlock
go build -o "$WORK/kfakebroker" ./internal/ingest/testdata/kfakebroker

"$WORK/kfakebroker" -port "$BROKER_PORT" >"$WORK/broker.log" 2>&1 &
BROKER_PID=$!

DRIFTLOCK_KAFKA_BROKERS=127.0.0.1:$BROKER_PORT \
DRIFTLOCK_INGEST_GRPC_ENDPOINT=$GRPC \
DRIFTLOCK_INGEST_HTTP_ENDPOINT=$HTTP \
DRIFTLOCK_INGEST_ADMIN_ENDPOINT=$ADMIN \
	"$WORK/driftlock" ingest >"$WORK/ingest.log" 2>&1 &
INGEST_PID=$!

for _ in $(seq 1 100); do
	curl -fs "http://$ADMIN/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fs "http://$ADMIN/readyz" >/dev/null || { cat "$WORK/ingest.log" >&2; echo "ingest not ready" >&2; exit 1; }

# accepted prints the records Kafka acknowledged so far.
accepted() {
	curl -fs "http://$ADMIN/metrics" | awk '/^driftlock_ingest_accepted_records_total/ {s += $2} END {printf "%d\n", s}'
}
# cpu_ticks prints user+system clock ticks of the ingest process.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$INGEST_PID/stat"
}
TICKS=$(getconf CLK_TCK)

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)"
echo "telemetrygen $TELEMETRYGEN_VERSION: --workers $WORKERS --rate 0 --batch-size $BATCH --duration $DURATION"
printf "%-14s %12s %12s %14s\n" scenario records records/s cpu-s/million
for sc in $SCENARIOS; do
	signal=${sc%-*}
	transport=${sc#*-}
	args=(--otlp-insecure --rate 0 --workers "$WORKERS" --batch-size "$BATCH" --duration "$DURATION" --allow-export-failures)
	if [[ $transport == http ]]; then
		args+=(--otlp-http --otlp-endpoint "$HTTP")
	else
		args+=(--otlp-endpoint "$GRPC")
	fi
	[[ $signal == metrics ]] && args+=(--metric-type Sum)
	a0=$(accepted); c0=$(cpu_ticks); t0=$(date +%s.%N)
	"$TELEMETRYGEN" "$signal" "${args[@]}" >"$WORK/$sc.log" 2>&1 || { tail -5 "$WORK/$sc.log" >&2; echo "$sc: telemetrygen failed" >&2; }
	a1=$(accepted); c1=$(cpu_ticks); t1=$(date +%s.%N)
	awk -v a="$((a1 - a0))" -v c="$((c1 - c0))" -v hz="$TICKS" -v t0="$t0" -v t1="$t1" -v sc="$sc" 'BEGIN {
		rate = a / (t1 - t0); cpm = (a > 0) ? (c / hz) / (a / 1e6) : 0
		printf "%-14s %12d %12.0f %14.2f\n", sc, a, rate, cpm }'
done
