#!/usr/bin/env bash
# Compares the CPU that DriftLock's ingest and the OpenTelemetry Collector
# (OTLP receiver -> Kafka exporter) spend per million records under the same
# telemetrygen load, in alternating runs of scripts/bench-ingest.sh, so that
# both see the same machine: on a shared machine only ratios measured side
# by side mean much. Prints every run, then per scenario the median CPU-s
# per million of each and the median of the per-round ratios.
#
# Environment: ROUNDS (default 3); everything else is passed on to
# bench-ingest.sh (TARGET_ENV, DURATION, WORKERS, BATCH, SCENARIOS, ...).
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

for round in $(seq 1 "$ROUNDS"); do
	for target in driftlock collector; do
		echo "round $round: $target ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1 /proc/loadavg))" >&2
		TARGET=$target ./scripts/bench-ingest.sh | awk -v r="$round" -v t="$target" '
			/^scenario/ {table = 1; next}
			table && NF == 4 {print r, t, $1, $4}' | tee -a "$OUT" >&2
	done
done

# median prints the median of the numbers on standard input.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf "%-14s %18s %18s %18s\n" scenario driftlock-cpu-s/M collector-cpu-s/M driftlock/collector
for sc in $(awk '{print $3}' "$OUT" | awk '!seen[$0]++'); do
	d=$(awk -v s="$sc" '$2 == "driftlock" && $3 == s {print $4}' "$OUT" | median)
	c=$(awk -v s="$sc" '$2 == "collector" && $3 == s {print $4}' "$OUT" | median)
	ratio=$(awk -v s="$sc" '$3 == s {v[$1, $2] = $4; r[$1]} END {
		for (i in r) if (v[i, "collector"] > 0) print v[i, "driftlock"] / v[i, "collector"] }' "$OUT" | median)
	printf "%-14s %18.2f %18.2f %18.2f\n" "$sc" "$d" "$c" "$ratio"
done
