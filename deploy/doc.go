// Package deploy holds what runs DriftLock on Kubernetes and watches it
// there: the Helm chart (helm/driftlock), the Grafana dashboard
// (grafana/driftlock.json) and the Prometheus alert rules
// (prometheus/driftlock-rules.yaml). Its tests render the chart with helm,
// decode every object strictly into the Kubernetes API types, run promtool
// on the rules, and check every PromQL expression against the metrics a
// running `driftlock dev` serves.
package deploy
