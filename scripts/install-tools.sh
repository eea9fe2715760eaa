#!/usr/bin/env bash
# Installs the tools the deploy/ tests run, by version, with `go install`
# into $(go env GOPATH)/bin: helm (the chart's lint and template) and
# promtool (the alert rules' check and unit tests). Skips a tool already
# installed. Without them `make test` skips those tests; under CI=true they fail.
set -euo pipefail
HELM=helm.sh/helm/v4/cmd/helm@v4.3.2
PROMTOOL=github.com/prometheus/prometheus/cmd/promtool@v0.316.0
bin=$(go env GOPATH)/bin
for spec in "$HELM" "$PROMTOOL"; do
  name=${spec%@*}; name=${name##*/}
  if [[ -x $bin/$name ]] || command -v "$name" >/dev/null 2>&1; then
    echo "install-tools: $name already installed"
    continue
  fi
  echo "install-tools: go install $spec"
  go install "$spec"
done
