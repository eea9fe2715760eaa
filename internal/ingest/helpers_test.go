package ingest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const testTopic = "otlp-events"

// harness is a running ingest service on an in-memory broker.
type harness struct {
	t       testing.TB
	cluster *kfake.Cluster
	cfg     config.Config
	svc     *Service
	cancel  context.CancelFunc
	done    chan error
	client  *http.Client
}

// startHarness starts kfake and the service; tweak adjusts the configuration.
func startHarness(t testing.TB, tweak func(*config.Config), opts ...Option) *harness {
	t.Helper()
	c, _ := testkit.NewCluster(t, kfake.NumBrokers(1))
	return startHarnessOn(t, c, tweak, opts...)
}

// startHarnessOn starts the service on the running cluster c, which the
// harness closes at cleanup.
func startHarnessOn(t testing.TB, c *kfake.Cluster, tweak func(*config.Config), opts ...Option) *harness {
	t.Helper()
	h := runHarness(t, c.ListenAddrs(), tweak, opts...)
	h.cluster = c
	h.waitReady()
	return h
}

// runHarness starts the service on brokers without waiting for it to be
// ready; the cluster the test sets in h.cluster is closed at cleanup.
func runHarness(t testing.TB, brokers []string, tweak func(*config.Config), opts ...Option) *harness {
	t.Helper()
	return runHarnessLog(t, brokers, tweak, nil, opts...)
}

// runHarnessLog is runHarness with the service logging to log (nil: the
// test's log when verbose, else nowhere).
func runHarnessLog(t testing.TB, brokers []string, tweak func(*config.Config), log *slog.Logger, opts ...Option) *harness {
	t.Helper()
	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Ingest.GRPCEndpoint = "127.0.0.1:0"
	cfg.Ingest.HTTPEndpoint = "127.0.0.1:0"
	cfg.Ingest.AdminEndpoint = "127.0.0.1:0"
	cfg.Ingest.WriteTimeoutMS = 3000
	if tweak != nil {
		tweak(&cfg)
	}
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			log = slog.New(slog.NewTextHandler(&testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		}
	}
	svc, err := New(cfg, bus, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, cfg: cfg, svc: svc, cancel: cancel, done: make(chan error, 1),
		client: &http.Client{Timeout: 20 * time.Second}}
	go func() { h.done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		h.stop()
		h.client.CloseIdleConnections()
		bus.Close()
		if h.cluster != nil {
			h.cluster.Close()
		}
	})
	return h
}

type testWriter struct{ t testing.TB }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// stop cancels the service and checks that Run returned nil in time.
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		h.t.Fatal("Run did not return within 30 s of cancellation")
	}
}

func (h *harness) waitReady() {
	h.t.Helper()
	testkit.WaitFor(h.t, 20*time.Second, "the service to be ready", func() bool {
		resp, err := h.client.Get("http://" + h.svc.AdminAddr() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// post sends body to path over OTLP/HTTP and returns status and body.
func (h *harness) post(path, contentType string, body []byte, header map[string]string) (int, []byte, http.Header) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+h.svc.HTTPAddr()+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, out, resp.Header
}

// metricsText scrapes the admin /metrics endpoint.
func (h *harness) metricsText() string {
	h.t.Helper()
	resp, err := h.client.Get("http://" + h.svc.AdminAddr() + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// consumeAll reads every record of the events topic with an independent
// (franz-go) client, up to the end offsets at the time of the call.
func (h *harness) consumeAll() []*kgo.Record {
	h.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(h.cfg.Kafka.Brokers...), kgo.ConsumeTopics(testTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		h.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, testTopic)
	if err != nil {
		h.t.Fatal(err)
	}
	want := int64(0)
	ends.Each(func(o kadm.ListedOffset) { want += o.Offset })
	var recs []*kgo.Record
	for int64(len(recs)) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			h.t.Fatalf("consumed %d of %d records before timeout", len(recs), want)
		}
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
	}
	return recs
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func str(s string) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: s}}
}

// logsRequest builds a request of one resource (service) with the given bodies.
func logsRequest(service string, bodies ...string) *collogspb.ExportLogsServiceRequest {
	recs := make([]*logspb.LogRecord, len(bodies))
	for i, b := range bodies {
		recs[i] = &logspb.LogRecord{
			TimeUnixNano:   uint64(time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC).UnixNano()),
			SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO,
			SeverityText:   "INFO",
			Body:           str(b),
		}
	}
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			{Key: "service.name", Value: str(service)},
		}},
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: recs}},
	}}}
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wrappedDial opens broker connections as kafkabus does (without TLS or
// SASL), to the address asked for or to addr when it is set, each through
// wrap when it is not nil.
func wrappedDial(addr string, wrap func(net.Conn) net.Conn) dialFunc {
	return func(ctx context.Context, leader string) (*kafkabus.BrokerConn, error) {
		to := leader
		if addr != "" {
			to = addr
		}
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", to)
		if err != nil {
			return nil, err
		}
		if wrap != nil {
			nc = wrap(nc)
		}
		pc, err := kafkabus.NewBrokerConn(nc, "test")
		if err != nil {
			nc.Close()
			return nil, err
		}
		return pc, nil
	}
}
