#!/usr/bin/env bash
# Reproduces the DriftLock rows of docs/EVALUATION.md from the shared data
# sets: what the detector service publishes at its default configuration
# (DRIFTLOCK_* variables and EVAL_ARGS, e.g. "--config FILE", change it) on
# NAB (development split, three profiles, at the detector's own decisions
# and at NAB's swept threshold), HDFS (fixed 70/30 split of hdfs_train.jsonl
# by line order), BGL, Thunderbird streamed three times, and the eleven
# unlabelled systems of loghub/more. It also re-scores Numenta HTM's
# published NAB results as a check of the scorer.
#
# Usage: scripts/eval.sh [DATASETS_DIR]   (default: $DRIFTLOCK_DATASETS, else ../shared/datasets)
# Output: the full reports under $OUT (default bin/eval), a summary on stdout.
set -euo pipefail

cd "$(dirname "$0")/.."
DATA="${1:-${DRIFTLOCK_DATASETS:-../shared/datasets}}"
OUT="${OUT:-bin/eval}"
BIN="${BIN:-bin/driftlock}"
if [ ! -d "$DATA/nab" ] || [ ! -d "$DATA/loghub" ]; then
  echo "eval.sh: data sets not found under $DATA (pass the folder or set DRIFTLOCK_DATASETS)" >&2
  exit 1
fi
mkdir -p "$OUT"
go build -o "$BIN" ./cmd/driftlock

start=$(date +%s)
run() { # name, then the eval arguments; keeps the report, prints the JSON line
  local name=$1; shift
  local t0=$(date +%s)
  # shellcheck disable=SC2086
  "$BIN" eval "$@" ${EVAL_ARGS:-} --json > "$OUT/$name.txt"
  printf '%-22s %4ss  %s\n' "$name" "$(( $(date +%s) - t0 ))" "$(tail -n 1 "$OUT/$name.txt")"
}

run nab-numenta-check nab --results "$DATA/nab/published/numenta" --windows "$DATA/nab/labels/combined_windows.json"
run nab                nab --data "$DATA/nab/data" --windows "$DATA/nab/labels/combined_windows.json" --profile all --out "$OUT/nab-results"
run hdfs-split         hdfs --train "$DATA/loghub/HDFS_sessions/hdfs_train.jsonl" --split 0.7
if [ -f "$DATA/loghub/HDFS_sessions/hdfs_test.jsonl" ]; then
  run hdfs             hdfs --train "$DATA/loghub/HDFS_sessions/hdfs_train.jsonl" --test "$DATA/loghub/HDFS_sessions/hdfs_test.jsonl"
fi
run bgl                bgl --log "$DATA/loghub/BGL/BGL_2k.log"
run thunderbird-x3     bgl --log "$DATA/loghub/Thunderbird/Thunderbird_2k.log" --passes 3
for f in "$DATA"/loghub/more/*_2k.log_structured.csv; do
  name=$(basename "$f" _2k.log_structured.csv)
  run "more-$name" bgl --log "$f"
done
echo "total $(( $(date +%s) - start ))s; reports in $OUT/"
