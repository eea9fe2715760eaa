#!/usr/bin/env bash
# Prints the path of the OpenTelemetry Collector built from
# scripts/bench-collector/builder-config.yaml, building it first with ocb
# unless this manifest was already built with the same ocb and Go. The build
# (several minutes on two cores, once) goes into $BENCH_CACHE, outside the
# repository. Used by scripts/bench-ingest.sh (TARGET=collector) and by
# .ci/run for the end-to-end suite (DRIFTLOCK_E2E_OTELCOL).
#
# Environment: BENCH_CACHE (default ~/.cache/driftlock-bench).
set -euo pipefail

cd "$(dirname "$0")/.."
OCB_VERSION=v0.165.0
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/driftlock-bench}
manifest=scripts/bench-collector/builder-config.yaml
key=$({ cat "$manifest"; echo "$OCB_VERSION"; go version; } | sha256sum | cut -c1-12)
dir=$BENCH_CACHE/otelcol-$key
if [[ ! -x $dir/otelcol-bench ]]; then
	ocb=$BENCH_CACHE/ocb-$OCB_VERSION/builder
	if [[ ! -x $ocb ]]; then
		echo "installing ocb $OCB_VERSION" >&2
		GOBIN=$(dirname "$ocb") go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION" >&2
	fi
	echo "building the Collector into $dir (takes minutes, once)" >&2
	rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
	"$ocb" --config "$manifest" --output-path "$dir.tmp/src" >"$dir.tmp/build.log" 2>&1 ||
		{ tail -20 "$dir.tmp/build.log" >&2; echo "Collector build failed" >&2; exit 1; }
	mv "$dir.tmp/src/otelcol-bench" "$dir.tmp/" && rm -rf "$dir.tmp/src" "$dir" && mv "$dir.tmp" "$dir"
fi
echo "$dir/otelcol-bench"
