package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/driftlock/driftlock/internal/testkit"
)

// otelcolEnv names the OpenTelemetry Collector binary the Collector tests
// run: one built from scripts/bench-collector/builder-config.yaml (OTLP
// receiver, batch processor, OTLP exporter, bearertokenauth extension), as
// `DRIFTLOCK_E2E_OTELCOL=$(scripts/build-collector.sh)` gives.
const otelcolEnv = "DRIFTLOCK_E2E_OTELCOL"

// otelcol returns the Collector binary of $DRIFTLOCK_E2E_OTELCOL. Without
// it the test is skipped, except under CI=true, where .ci/run builds it and
// a missing binary fails the test.
func otelcol(t *testing.T) string {
	t.Helper()
	p := os.Getenv(otelcolEnv)
	if p == "" {
		msg := "set " + otelcolEnv + "=$(scripts/build-collector.sh) to run the Collector end-to-end tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s=%s is not an executable file", otelcolEnv, p)
	}
	return p
}

// collector is a running Collector: OTLP/gRPC in, batch processor, OTLP
// exporter with a bearer token out, its own metrics on Metrics.
type collector struct {
	*service
	GRPC, Metrics string
}

// collectorConfig is the Collector as usually deployed in front of an
// OTLP backend: a batch processor, the exporter's sending queue and
// retries on, TLS verified against a CA file, the token from the
// bearertokenauth extension.
const collectorConfig = `receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[1]s
extensions:
  bearertokenauth:
    token: %[2]q
processors:
  batch:
    send_batch_size: 200
    timeout: 200ms
exporters:
  otlp_grpc:
    endpoint: %[3]s
    tls:
      ca_file: %[4]q
    auth:
      authenticator: bearertokenauth
    sending_queue:
      enabled: true
    retry_on_failure:
      enabled: true
      initial_interval: 200ms
      max_interval: 1s
      max_elapsed_time: 20s
service:
  extensions: [bearertokenauth]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %[5]s
  pipelines:
    logs:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp_grpc]
`

// startCollector starts a Collector exporting to the ingest at ingestGRPC
// with token, and waits until its pipelines run.
func startCollector(t *testing.T, bin, name, ingestGRPC, caFile, token string) *collector {
	t.Helper()
	c := &collector{GRPC: testkit.FreeAddr(t), Metrics: testkit.FreeAddr(t)}
	cfg := filepath.Join(t.TempDir(), "otelcol.yaml")
	body := fmt.Sprintf(collectorConfig, c.GRPC, token, ingestGRPC, caFile, port(c.Metrics))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	c.service = startProcess(t, name, c.Metrics, bin, "--config", cfg)
	deadline := time.Now().Add(readyTimeout)
	for !c.logged("Everything is ready") || !c.serving() {
		if !c.running() {
			t.Fatalf("%s exited before it was ready: %v", name, c.waitErr)
		}
		if time.Now().After(deadline) {
			c.dumpLog()
			t.Fatalf("%s not ready within %s", name, readyTimeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return c
}

// logged reports whether the service's log holds text.
func (s *service) logged(text string) bool {
	b, err := os.ReadFile(s.logPath)
	return err == nil && strings.Contains(string(b), text)
}

// serving reports whether s.admin/metrics answers 200.
func (s *service) serving() bool {
	code, _, err := httpGet(context.Background(), "http://"+s.admin+"/metrics")
	return err == nil && code == http.StatusOK
}

// metric sums the Prometheus samples on s.admin/metrics whose name starts
// with prefix; -1 when none is there (or the endpoint does not answer).
func (s *service) metric(t *testing.T, prefix string) float64 {
	t.Helper()
	code, body, err := httpGet(context.Background(), "http://"+s.admin+"/metrics")
	if err != nil || code != http.StatusOK {
		return -1
	}
	sum, found := 0.0, false
	for sc := bufio.NewScanner(strings.NewReader(body)); sc.Scan(); {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum, found = sum+v, true
	}
	if !found {
		return -1
	}
	return sum
}

// waitMetric polls s's metric prefix until it reaches at least want.
func waitMetric(t *testing.T, s *service, prefix string, want float64, timeout time.Duration) float64 {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v := s.metric(t, prefix)
		if v >= want || time.Now().After(deadline) {
			return v
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// sendThroughCollector emits n logs of service svc with the Go SDK to the
// Collector's OTLP/gRPC receiver.
func sendThroughCollector(t *testing.T, c *collector, svc, tr string, n int) {
	t.Helper()
	exp, err := otlploggrpc.New(context.Background(), otlploggrpc.WithEndpoint(c.GRPC), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	emitLogs(t, exp, resource.NewSchemaless(attribute.String("service.name", svc)), tr, n)
}

// TestCollectorToTLSIngest runs the OpenTelemetry Collector in front of an
// ingest that serves TLS and requires bearer tokens: the Collector's OTLP
// exporter, verifying the ingest's certificate against a test CA and sending
// its token, delivers every log to the events topic, each with its
// instrumentation scope and the token's name. A Collector with a wrong token
// is refused (its exports fail, the ingest counts them and writes nothing of
// them), and the ingest goes on serving the good one.
func TestCollectorToTLSIngest(t *testing.T) {
	needKafka(t)
	bin := otelcol(t)
	pki := testkit.NewPKI(t)
	n := newNames(t, newAdmin(t), nil)
	const token = "e2e-collector-token-0123456789"
	in := startIngest(t, n, "--ingest.tls.cert_file", pki.CertFile, "--ingest.tls.key_file", pki.KeyFile,
		"--ingest.auth.tokens", "otelcol:"+token, "--ingest.auth.client_header=true")
	good := startCollector(t, bin, "otelcol", in.GRPC, pki.CAFile, token)
	bad := startCollector(t, bin, "otelcol-bad-token", in.GRPC, pki.CAFile, "not-"+token)

	svc, badSvc := "e2e-otelcol-"+runID, "e2e-otelcol-bad-"+runID
	const perRound = 150
	sendThroughCollector(t, good, svc, "otelcol first", perRound)
	sendThroughCollector(t, bad, badSvc, "otelcol refused", perRound)
	// The refused exports are permanent errors: counted as failed, not
	// retried for ever.
	if v := waitMetric(t, bad.service, "otelcol_exporter_send_failed_log_records", perRound, 60*time.Second); v < perRound {
		t.Errorf("Collector with a wrong token: %v log records failed to export, want %d", v, perRound)
	}
	if v := in.metric(t, "driftlock_ingest_auth_failures_total"); v < 1 {
		t.Errorf("ingest counted %v authentication failures, want at least 1", v)
	}
	// The ingest keeps serving after refusing.
	sendThroughCollector(t, good, svc, "otelcol second", perRound)

	recs := waitStable(t, n.Events, waitRecords(t, n.Events, 2*perRound, 60*time.Second))
	bodies := map[string]int{}
	for _, r := range recs {
		ev, err := checkEvent(t, r, svc)
		if err != nil {
			t.Error(err)
			continue
		}
		data, _ := ev["data"].(map[string]any)
		if data["scope_name"] != "driftlock-e2e" {
			t.Errorf("offset %d: scope_name %v, want the SDK logger's name driftlock-e2e", r.Offset, data["scope_name"])
		}
		if got := r.Header("driftlock-client"); got != "otelcol" {
			t.Errorf("offset %d: driftlock-client header %q, want the token's name otelcol", r.Offset, got)
		}
		bodies[logBody(ev)]++
	}
	for _, round := range []string{"otelcol first", "otelcol second"} {
		for i := range perRound {
			if b := fmt.Sprintf("sdk %s log %d", round, i); bodies[b] != 1 {
				t.Errorf("log %q found %d times, want once", b, bodies[b])
			}
		}
	}
	if len(recs) != 2*perRound {
		t.Errorf("events topic holds %d records, want %d (none from the refused Collector)", len(recs), 2*perRound)
	}
	if !in.running() {
		t.Error("ingest exited")
	}
}
