package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// kafka-go keeps a process-wide idle-connection reaper.
		goleak.IgnoreAnyFunction("github.com/segmentio/kafka-go.(*connPool).discover"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("internal/poll.runtime_pollWait"),
	)
}

// testConfig starts an in-memory broker and returns a configuration for it
// with the console on a free loopback port.
func testConfig(t *testing.T) config.Config {
	t.Helper()
	_, brokers := testkit.NewCluster(t)
	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Console.HTTPEndpoint = "127.0.0.1:0"
	return cfg
}

// running is a console started by startConsole.
type running struct {
	svc  *Service
	url  string
	stop func() error
}

// startConsole runs a console until the test ends (or stop is called) and
// waits until it is ready.
func startConsole(t *testing.T, cfg config.Config, opts ...Option) *running {
	t.Helper()
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]Option{WithReaderMaxWait(100 * time.Millisecond), WithCommitInterval(100 * time.Millisecond), withSequenceBase(0)}, opts...)
	svc, err := New(cfg, bus, testkit.QuietLog(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	stopped := false
	var runErr error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			runErr = <-done
			bus.Close()
		}
		return runErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	r := &running{svc: svc, url: "http://" + svc.Addr(), stop: stop}
	testkit.WaitFor(t, 20*time.Second, "console ready", func() bool {
		resp, err := http.Get(r.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return r
}

var baseTime = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

// sample returns a valid anomaly; minute places its window end.
func sample(id, service, signal string, confidence float64, minute int) anomaly.Anomaly {
	key := service + "|" + signal
	metric := ""
	if signal == "metric" {
		metric = "http.server.duration"
		key += "|" + metric
	}
	end := baseTime.Add(time.Duration(minute) * time.Minute)
	return anomaly.Anomaly{
		ID:     id,
		Stream: anomaly.Stream{Key: key, Service: service, Signal: signal, Metric: metric},
		Window: anomaly.Window{Start: end.Add(-time.Minute).Format(time.RFC3339Nano), End: end.Format(time.RFC3339Nano),
			Events: 1024, Partition: 1, FirstOffset: 100, LastOffset: 1123},
		Scores: anomaly.Scores{NCD: 0.42, PValue: 1 - confidence, Confidence: confidence, BaselineRatio: 0.31,
			WindowRatio: 0.44, BaselineEntropy: 4.1, WindowEntropy: 5.3},
		Threshold:   0.9,
		Explanation: fmt.Sprintf("Logs of %s compress 42%% worse than its baseline. New error messages dominate the window.", service),
		Evidence: []anomaly.Evidence{
			{Offset: 1100, Timestamp: end.Add(-2 * time.Second).Format(time.RFC3339Nano), Summary: "ERROR payment gateway timeout after 30000ms", Score: 0.93},
			{Offset: 1101, Timestamp: end.Add(-time.Second).Format(time.RFC3339Nano), Summary: "ERROR retry budget exhausted for order 7731", Score: 0.71},
		},
		Detector:   anomaly.Detector{Version: "test", ConfigHash: "abc123", Seed: 42},
		DetectedAt: end.Add(time.Second).Format(time.RFC3339Nano),
	}
}

// publish writes records to the anomalies topic, keyed by stream.
func publish(t *testing.T, cfg config.Config, values ...any) {
	t.Helper()
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := bus.WaitTopics(ctx, cfg.Kafka.AnomaliesTopic); err != nil {
		t.Fatal(err)
	}
	w, err := bus.NewWriter(cfg.Kafka.AnomaliesTopic, kafkabus.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, v := range values {
		msg := kafkaMessage(t, v)
		if err := w.WriteMessages(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
}

// getJSON fetches path and decodes the body into out; it returns the status.
func getJSON(t *testing.T, url string, out any, header ...string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("GET %s: content type %q", url, ct)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return resp.StatusCode
}

// retained returns how many anomalies the console holds.
func (r *running) retained(t *testing.T) int {
	var st statusResponse
	getJSON(t, r.url+"/api/v1/status", &st)
	return st.Retained
}

// metric returns the value of an unlabelled metric from /metrics.
func (r *running) metric(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := r.svc.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if m.Counter != nil {
			return m.Counter.GetValue()
		}
		return m.Gauge.GetValue()
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

func kafkaMessage(t *testing.T, v any) kafka.Message {
	t.Helper()
	switch v := v.(type) {
	case []byte:
		return kafka.Message{Key: []byte("garbage"), Value: v}
	case anomaly.Anomaly:
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return kafka.Message{Key: []byte(v.Stream.Key), Value: b}
	}
	t.Fatalf("cannot publish %T", v)
	return kafka.Message{}
}
