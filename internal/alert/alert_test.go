package alert

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	"github.com/driftlock/driftlock/internal/anomaly"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"), goleak.IgnoreAnyFunction("internal/poll.runtime_pollWait"))
}

func sampleAnomaly(id string) anomaly.Anomaly {
	return anomaly.Anomaly{
		ID:          id,
		Stream:      anomaly.Stream{Key: "checkout|metric|http.server.duration", Service: "checkout", Signal: "metric", Metric: "http.server.duration"},
		Window:      anomaly.Window{Start: "2026-11-26T04:00:00Z", End: "2026-11-26T04:05:00.250Z", Events: 1024},
		Scores:      anomaly.Scores{NCD: 0.4, PValue: 0.005, Confidence: 0.995},
		Explanation: "Latency values of checkout moved to a new range. The window compresses 30% worse than its baseline.",
		DetectedAt:  "2026-11-26T04:05:01Z",
	}
}

// receiver records request bodies and answers with the given statuses in
// turn (then 200).
type receiver struct {
	mu       sync.Mutex
	bodies   [][]byte
	statuses []int
	srv      *httptest.Server
}

func newReceiver(t *testing.T, path string, statuses ...int) *receiver {
	rc := &receiver{statuses: statuses}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != path || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.bodies = append(rc.bodies, b)
		code := http.StatusOK
		if len(rc.statuses) > 0 {
			code, rc.statuses = rc.statuses[0], rc.statuses[1:]
		}
		rc.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) received() [][]byte {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([][]byte(nil), rc.bodies...)
}

func startForwarder(t *testing.T, cfg Config) (*Forwarder, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.BackoffMin, cfg.BackoffMax = 10*time.Millisecond, 50*time.Millisecond
	f, err := New(cfg, reg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return f, reg
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 26, 4, 6, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestAlertmanagerPayloadRetryAndDedupe(t *testing.T) {
	am := newReceiver(t, "/api/v2/alerts", http.StatusInternalServerError)
	f, reg := startForwarder(t, Config{
		AlertmanagerURL: am.srv.URL + "/",
		AnomalyURL:      func(id string) string { return "http://console.example:8080/#/anomaly/" + id },
		Now:             newClock().Now,
	})
	var doneCalls sync.WaitGroup
	doneCalls.Add(1)
	f.Offer(sampleAnomaly("a1"), doneCalls.Done)
	f.Offer(sampleAnomaly("a1"), func() {}) // the same record seen twice
	doneCalls.Wait()

	bodies := am.received()
	if len(bodies) != 2 {
		t.Fatalf("requests = %d, want 2 (a 500, then the retry)", len(bodies))
	}
	if string(bodies[0]) != string(bodies[1]) {
		t.Errorf("retry body differs:\n%s\n%s", bodies[0], bodies[1])
	}
	var alerts []map[string]any
	if err := json.Unmarshal(bodies[1], &alerts); err != nil || len(alerts) != 1 {
		t.Fatalf("payload %s: %v", bodies[1], err)
	}
	a := alerts[0]
	wantLabels := map[string]any{"alertname": "DriftLockAnomaly", "service": "checkout", "signal": "metric",
		"stream": "checkout|metric|http.server.duration", "severity": "critical", "metric": "http.server.duration",
		"incident": "a1"} // a record without an incident is its own
	if !reflect.DeepEqual(a["labels"], wantLabels) {
		t.Errorf("labels = %v", a["labels"])
	}
	wantAnn := map[string]any{
		"summary":          "Anomaly in checkout metric http.server.duration (confidence 99.5%): Latency values of checkout moved to a new range",
		"description":      "Latency values of checkout moved to a new range. The window compresses 30% worse than its baseline.",
		"anomaly_id":       "a1",
		"kind":             "window",
		"confidence":       "0.9950",
		"max_confidence":   "0.9950",
		"incident_records": "1",
	}
	if !reflect.DeepEqual(a["annotations"], wantAnn) {
		t.Errorf("annotations = %v", a["annotations"])
	}
	if a["startsAt"] != "2026-11-26T04:05:00.25Z" || a["generatorURL"] != "http://console.example:8080/#/anomaly/a1" {
		t.Errorf("startsAt %v generatorURL %v", a["startsAt"], a["generatorURL"])
	}
	if a["endsAt"] != "2026-11-26T04:21:00Z" || len(a) != 5 {
		t.Errorf("unexpected fields: %v", a)
	}
	for outcome, want := range map[string]float64{"sent": 1, "retried": 1, "failed": 0, "dropped": 0} {
		if got := testutil.ToFloat64(f.metrics.WithLabelValues("alertmanager", outcome)); got != want {
			t.Errorf("alerts_total{alertmanager,%s} = %v, want %v", outcome, got, want)
		}
	}
	if n, _ := testutil.GatherAndCount(reg, "driftlock_console_alerts_total"); n != 4 {
		t.Errorf("series = %d", n)
	}
	time.Sleep(100 * time.Millisecond)
	if len(am.received()) != 2 {
		t.Errorf("duplicate anomaly was sent again")
	}
}

func TestWebhookAndPermanentFailure(t *testing.T) {
	ok := newReceiver(t, "/hook")
	bad := newReceiver(t, "/hook", http.StatusBadRequest)
	f, _ := startForwarder(t, Config{WebhookURLs: []string{ok.srv.URL + "/hook", bad.srv.URL + "/hook"}})
	f.MarkSeen(sampleAnomaly("old"))
	f.Offer(sampleAnomaly("old"), nil)
	f.Offer(sampleAnomaly("new"), nil)
	waitFor(t, "both webhooks", func() bool {
		return len(ok.received()) == 1 && testutil.ToFloat64(f.metrics.WithLabelValues("webhook", "failed")) == 1
	})
	var got WebhookPayload
	want := WebhookPayload{Anomaly: sampleAnomaly("new"), IncidentStatus: "new", IncidentRecords: 1}
	want.Incident = "new"
	if err := json.Unmarshal(ok.received()[0], &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("webhook body = %+v, %v", got, err)
	}
	if n := len(bad.received()); n != 1 {
		t.Errorf("a 400 must not be retried: %d requests", n)
	}
}

func TestQueueFullIsDropped(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	f, _ := startForwarder(t, Config{WebhookURLs: []string{srv.URL}, QueueSize: 1})
	f.Offer(sampleAnomaly("a"), nil) // taken by the worker, blocked
	waitFor(t, "the worker to take the first", func() bool { return len(f.targets[0].queue) == 0 })
	f.Offer(sampleAnomaly("b"), nil) // queued
	dropped := false
	f.Offer(sampleAnomaly("c"), func() { dropped = true }) // no room: finished at once
	if got := testutil.ToFloat64(f.metrics.WithLabelValues("webhook", "dropped")); got != 1 || !dropped {
		t.Fatalf("dropped = %v, done called %v", got, dropped)
	}
}

func TestSeverity(t *testing.T) {
	for c, want := range map[float64]string{0.9: "warning", 0.989: "warning", 0.99: "critical", 1: "critical"} {
		if got := Severity(c); got != want {
			t.Errorf("Severity(%v) = %s, want %s", c, got, want)
		}
	}
}
