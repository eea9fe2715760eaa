#!/usr/bin/env bash
# Compares the CPU that DriftLock's ingest and the OpenTelemetry Collector
# (OTLP receiver -> Kafka exporter) spend per million records under the same
# telemetrygen load, in alternating runs of scripts/bench-ingest.sh, so that
# both see the same machine: on a shared machine only ratios measured side
# by side mean much. Prints every run, then per scenario the median CPU-s
# per million of each target and the median of the per-round ratios of the
# first target to each other one.
#
# Environment: ROUNDS (default 3), TARGETS (default "driftlock collector";
# add floor for what answering the load alone costs); everything else is
# passed on to bench-ingest.sh (TARGET_ENV, DURATION, WORKERS, BATCH,
# SCENARIOS, ...).
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
read -ra TARGETS <<<"${TARGETS:-driftlock collector}"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

for round in $(seq 1 "$ROUNDS"); do
	for target in "${TARGETS[@]}"; do
		echo "round $round: $target ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1 /proc/loadavg))" >&2
		TARGET=$target ./scripts/bench-ingest.sh | awk -v r="$round" -v t="$target" '
			/^scenario/ {table = 1; next}
			table && NF == 4 {print r, t, $1, $4}' | tee -a "$OUT" >&2
	done
done

# median prints the median of the numbers on standard input.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

first=${TARGETS[0]}
printf "%-14s" scenario
for t in "${TARGETS[@]}"; do printf " %18s" "$t-cpu-s/M"; done
for t in "${TARGETS[@]:1}"; do printf " %18s" "$first/$t"; done
echo
for sc in $(awk '{print $3}' "$OUT" | awk '!seen[$0]++'); do
	printf "%-14s" "$sc"
	for t in "${TARGETS[@]}"; do
		printf " %18.2f" "$(awk -v s="$sc" -v t="$t" '$2 == t && $3 == s {print $4}' "$OUT" | median)"
	done
	for t in "${TARGETS[@]:1}"; do
		printf " %18.2f" "$(awk -v s="$sc" -v a="$first" -v b="$t" '$3 == s {v[$1, $2] = $4; r[$1]} END {
			for (i in r) if (v[i, b] > 0) print v[i, a] / v[i, b] }' "$OUT" | median)"
	done
	echo
done
