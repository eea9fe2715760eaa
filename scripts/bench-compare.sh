#!/usr/bin/env bash
# Compares the CPU that DriftLock's ingest and the OpenTelemetry Collector
# spend per million records under the same telemetrygen load, in
# alternating runs of scripts/bench-ingest.sh, so that all see the same
# machine: on a shared machine only ratios measured side by side mean much.
# Prints every run, then per scenario the median CPU-s per million,
# records/s and broker CPU-s per million of each target, and for each ratio
# a/b the median of the per-round ratios of a's CPU per record to b's (and
# of their records/s and broker CPU).
#
# A target is a bench-ingest.sh TARGET (driftlock, collector,
# collector-deployed, floor), or label=TARGET[,VAR=value...] to run
# bench-ingest.sh with those settings under that label, e.g.
# driftlock-tls=driftlock,TLS=1 or old=driftlock,DRIFTLOCK_BIN=/tmp/old.
#
# Environment: ROUNDS (default 3), TARGETS (default "driftlock collector
# collector-deployed"), RATIOS (default: the first target over each other
# one, e.g. "driftlock/collector driftlock-tls/driftlock"); everything else
# is passed on to bench-ingest.sh (TARGET_ENV, DURATION, WORKERS, BATCH,
# SCENARIOS, ...).
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
read -ra TARGETS <<<"${TARGETS:-driftlock collector collector-deployed}"
LABELS=()
for spec in "${TARGETS[@]}"; do LABELS+=("${spec%%=*}"); done
if [[ -n ${RATIOS:-} ]]; then
	read -ra PAIRS <<<"$RATIOS"
else
	PAIRS=()
	for l in "${LABELS[@]:1}"; do PAIRS+=("${LABELS[0]}/$l"); done
fi
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

# run_target runs bench-ingest.sh for spec and prints "scenario cpu rate".
run_target() {
	local spec=$1 target settings=()
	target=$spec
	if [[ $spec == *=* ]]; then
		IFS=, read -ra settings <<<"${spec#*=}"
		target=${settings[0]}
		settings=("${settings[@]:1}")
	fi
	env TARGET="$target" "${settings[@]}" ./scripts/bench-ingest.sh | awk '
		/^scenario/ {table = 1; next}
		table && NF == 6 {print $1, $4, $3, $5, $6}'
}

for round in $(seq 1 "$ROUNDS"); do
	for i in "${!TARGETS[@]}"; do
		echo "round $round: ${TARGETS[$i]} ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1 /proc/loadavg))" >&2
		run_target "${TARGETS[$i]}" | awk -v r="$round" -v t="${LABELS[$i]}" '{print r, t, $0}' | tee -a "$OUT" >&2
	done
done

# median prints the median of the numbers on standard input.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# ratio prints the median over rounds of column col of a over b in scenario sc.
ratio() {
	awk -v s="$1" -v a="$2" -v b="$3" -v c="$4" '$3 == s {v[$1, $2] = $c; r[$1]} END {
		for (i in r) if (v[i, b] > 0) print v[i, a] / v[i, b] }' "$OUT" | median
}

# table prints, under its title, each scenario's medians of column col
# (format fmt) per target and the ratios of the pairs.
table() {
	local title=$1 col=$2 fmt=$3 sc l p
	echo "$title"
	printf "%-14s" scenario
	for l in "${LABELS[@]}"; do printf " %20s" "$l"; done
	for p in "${PAIRS[@]}"; do printf " %28s" "$p"; done
	echo
	for sc in $(awk '{print $3}' "$OUT" | awk '!seen[$0]++'); do
		printf "%-14s" "$sc"
		for l in "${LABELS[@]}"; do
			printf " %20.${fmt}f" "$(awk -v s="$sc" -v t="$l" -v c="$col" '$2 == t && $3 == s {print $c}' "$OUT" | median)"
		done
		for p in "${PAIRS[@]}"; do printf " %28.2f" "$(ratio "$sc" "${p%/*}" "${p#*/}" "$col")"; done
		echo
	done
}

table "CPU-s per million records (median of $ROUNDS rounds), and the ratios of CPU per record:" 4 2
table "records/s (median of $ROUNDS rounds), and the ratios of records/s:" 5 0
table "the broker's CPU-s per million records (median of $ROUNDS rounds), and their ratios:" 6 2
