// Package e2e is DriftLock's end-to-end suite. Its tests start the real
// driftlock binary as subprocesses against a real Apache Kafka broker and
// check the topics with kcat, an independent Kafka client.
//
// The Kafka tests run only when DRIFTLOCK_E2E_BROKERS names the broker
// (`make e2e` after `scripts/kafka-native-setup.sh start`); the checks of the
// compose file, the Dockerfile and configs/driftlock.yaml always run. The
// OpenTelemetry Collector test also needs the Collector of
// scripts/build-collector.sh in DRIFTLOCK_E2E_OTELCOL; it is skipped
// without it, and fails under CI=true, where .ci/run builds it.
package e2e
