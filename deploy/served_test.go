package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/testkit"
	"github.com/twmb/franz-go/pkg/kgo"
)

// devServer is a running `driftlock dev` with its listen addresses.
type devServer struct {
	broker, otlpHTTP, ingestAdmin, detectorAdmin, console string
}

// startDev builds cmd/driftlock and runs `driftlock dev` on loopback ports,
// with small detector windows so that an anomaly comes within seconds and
// an Alertmanager stand-in so that the console's alert metrics exist. The
// process is stopped by PID when the test ends.
func startDev(t *testing.T) devServer {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "driftlock")
	build := exec.Command("go", "build", "-o", bin, "./cmd/driftlock")
	build.Dir = ".."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build driftlock: %v\n%s", err, out)
	}
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	t.Cleanup(am.Close)
	d := devServer{broker: testkit.FreeAddr(t), otlpHTTP: testkit.FreeAddr(t), ingestAdmin: testkit.FreeAddr(t), detectorAdmin: testkit.FreeAddr(t), console: testkit.FreeAddr(t)}
	logPath := filepath.Join(t.TempDir(), "dev.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "dev",
		"--kafka.brokers", d.broker,
		"--ingest.grpc_endpoint", testkit.FreeAddr(t), "--ingest.http_endpoint", d.otlpHTTP,
		"--ingest.admin_endpoint", d.ingestAdmin, "--ingest.max_record_bytes", "4096",
		"--detector.admin_endpoint", d.detectorAdmin, "--detector.window_size", "64",
		"--detector.hop_size", "16", "--detector.event_warmup", "32", "--detector.permutations", "19",
		"--console.http_endpoint", d.console, "--console.alertmanager_url", am.URL)
	cmd.Stdout, cmd.Stderr = logf, logf
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DRIFTLOCK_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("driftlock dev log:\n%s", b)
		}
	})
	for _, addr := range []string{d.ingestAdmin, d.detectorAdmin, d.console} {
		waitFor(t, 30*time.Second, "ready "+addr, func() bool {
			r, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			r.Body.Close()
			return r.StatusCode == http.StatusOK
		})
	}
	return d
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sendLogs posts OTLP/JSON log records of one service and wants 200.
func sendLogs(t *testing.T, endpoint string, bodies []string, severity string) {
	t.Helper()
	recs := make([]any, len(bodies))
	for i, b := range bodies {
		recs[i] = map[string]any{"severityText": severity, "body": map[string]any{"stringValue": b},
			"timeUnixNano": fmt.Sprint(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).UnixNano())}
	}
	body, _ := json.Marshal(map[string]any{"resourceLogs": []any{map[string]any{
		"resource":  map[string]any{"attributes": []any{map[string]any{"key": "service.name", "value": map[string]any{"stringValue": "checkout"}}}},
		"scopeLogs": []any{map[string]any{"logRecords": recs}},
	}}})
	r, err := http.Post("http://"+endpoint+"/v1/logs", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(r.Body)
		t.Fatalf("POST /v1/logs: %s %s", r.Status, b)
	}
}

// scrape returns the sample names an endpoint serves (histograms with
// their _bucket, _sum and _count series).
func scrape(t *testing.T, addr string) map[string]bool {
	t.Helper()
	r, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names
}

func scrapeAll(t *testing.T, d devServer) map[string]bool {
	all := map[string]bool{}
	for _, addr := range []string{d.ingestAdmin, d.detectorAdmin, d.console} {
		for n := range scrape(t, addr) {
			all[n] = true
		}
	}
	return all
}

// TestMetricNamesServed runs `driftlock dev`, drives it until every kind of
// series exists (accepted and rejected records, an anomaly, an invalid
// record on otlp-events, alert deliveries), scrapes its three /metrics
// endpoints and checks every metric name used by the alert rules and the
// dashboard against what it serves.
func TestMetricNamesServed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts driftlock dev; not in -short")
	}
	d := startDev(t)

	steady := make([]string, 200)
	for i := range steady {
		steady[i] = fmt.Sprintf("order %d placed for customer %d in %d ms", 1000+i, 40+i%7, 20+i%13)
	}
	sendLogs(t, d.otlpHTTP, steady, "INFO")
	burst := make([]string, 20)
	for i := range burst {
		burst[i] = fmt.Sprintf("connection pool exhausted: 0 of 50 free, waited %d ms for db-primary", 900+i)
	}
	sendLogs(t, d.otlpHTTP, burst, "ERROR")
	sendLogs(t, d.otlpHTTP, []string{strings.Repeat("x", 8000)}, "INFO") // over max_record_bytes: rejected

	cl, err := kgo.NewClient(kgo.SeedBrokers(d.broker), kgo.DefaultProduceTopic("otlp-events"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("checkout|log"), Value: []byte("not an event")}).FirstErr(); err != nil {
		t.Fatalf("produce an invalid record: %v", err)
	}

	uses := map[string][]string{}
	for _, r := range loadRules(t) {
		for _, n := range metricNames(r.Expr) {
			uses[n] = append(uses[n], "rule "+r.Alert+r.Record)
		}
	}
	for where, q := range dashboardQueries(t) {
		for _, n := range metricNames(q) {
			uses[n] = append(uses[n], "dashboard "+where)
		}
	}
	var served map[string]bool
	missing := func() []string {
		served = scrapeAll(t, d)
		var m []string
		for n := range uses {
			if !served[n] {
				m = append(m, n)
			}
		}
		return m
	}
	deadline := time.Now().Add(60 * time.Second)
	for m := missing(); len(m) > 0; m = missing() {
		if time.Now().After(deadline) {
			for _, n := range m {
				t.Errorf("%s is not served by driftlock dev; used by %v", n, uses[n])
			}
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%d metric names used by the rules and the dashboard, all served (of %d served)", len(uses), len(served))
}
