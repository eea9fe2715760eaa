package ingest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

func (h *harness) logsClient() collogspb.LogsServiceClient {
	h.t.Helper()
	conn, err := grpc.NewClient(h.svc.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { conn.Close() })
	return collogspb.NewLogsServiceClient(conn)
}

func exportCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestGRPCLimits: an oversized message is refused, a record over the
// record limit is a partial success, bad payloads are INVALID_ARGUMENT, and
// good requests still pass.
func TestGRPCLimits(t *testing.T) {
	h := startHarness(t, smallLimits)
	cl := h.logsClient()
	ctx := exportCtx(t)
	_, err := cl.Export(ctx, logsRequest("svc", strings.Repeat("z", testMaxRequest+1)))
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized message: %v, want ResourceExhausted", err)
	}
	resp, err := cl.Export(ctx, logsRequest("svc", "a", strings.Repeat("z", 2*testMaxRecord)))
	if err != nil {
		t.Fatal(err)
	}
	if ps := resp.GetPartialSuccess(); ps.GetRejectedLogRecords() != 1 || !strings.Contains(ps.GetErrorMessage(), "log record 1") {
		t.Fatalf("partial_success %v, want log record 1 rejected", ps)
	}
	if st := invokeRaw(t, h, invalidUTF8(t)); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), "UTF-8") {
		t.Fatalf("invalid UTF-8: %v, want InvalidArgument naming UTF-8", st)
	}
	if st := invokeRaw(t, h, nil); st.Code() != codes.OK {
		t.Fatalf("empty request: %v, want OK", st)
	}
	good := mustMarshal(t, logsRequest("svc", "c"))
	if st := invokeRaw(t, h, good[:len(good)-2]); st.Code() != codes.InvalidArgument {
		t.Fatalf("truncated message: %v, want InvalidArgument", st)
	}
	resp, err = cl.Export(ctx, logsRequest("svc", "b"))
	if err != nil || resp.GetPartialSuccess() != nil {
		t.Fatalf("good request: %v %v", resp, err)
	}
	if n := len(h.consumeAll()); n != 2 {
		t.Errorf("%d records on the topic, want 2 (a, b)", n)
	}
	text := h.metricsText()
	for _, want := range []string{
		`driftlock_ingest_requests_total{outcome="too_large",signal="logs",transport="grpc"} 1`,
		`driftlock_ingest_requests_total{outcome="bad_request",signal="logs",transport="grpc"} 2`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// invokeRaw sends body as a logs Export request without encoding it.
func invokeRaw(t *testing.T, h *harness, body []byte) *status.Status {
	t.Helper()
	codec := rawCodec{proto: encoding.GetCodecV2(grpcproto.Name)}
	conn, err := grpc.NewClient(h.svc.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(codec)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var resp collogspb.ExportLogsServiceResponse
	err = conn.Invoke(exportCtx(t), "/"+collogspb.LogsService_ServiceDesc.ServiceName+"/Export", &RawRequest{buf: mem.SliceBuffer(body)}, &resp)
	return status.Convert(err)
}

// holdProduce makes the broker sit on every produce request until release
// is closed; held receives a value for each request held.
func holdProduce(c *kfake.Cluster, release <-chan struct{}) <-chan struct{} {
	held := make(chan struct{}, 1000)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		select {
		case held <- struct{}{}:
		default:
		}
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	return held
}

// TestInflightLimit: while Kafka sits on one request, a second one that
// would pass ingest.max_inflight_bytes is told to retry at once.
func TestInflightLimit(t *testing.T) {
	h := startHarness(t, func(cfg *config.Config) {
		cfg.Ingest.MaxRequestBytes = 64 << 10
		cfg.Ingest.MaxInflightBytes = 64 << 10
	})
	release := make(chan struct{})
	held := holdProduce(h.cluster, release)
	first := make(chan int, 1)
	go func() {
		status, _, _ := h.post("/v1/logs", contentTypeProtobuf, mustMarshal(t, logsRequest("svc", strings.Repeat("a", 20<<10))), nil)
		first <- status
	}()
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("first request never reached the broker")
	}
	if m := h.metricsText(); strings.Contains(m, "driftlock_ingest_inflight_bytes 0\n") {
		t.Errorf("inflight bytes gauge is 0 while a request waits for Kafka")
	}
	second := mustMarshal(t, logsRequest("svc", strings.Repeat("b", 16<<10), strings.Repeat("c", 16<<10), strings.Repeat("d", 16<<10)))
	code, body, hdr := h.post("/v1/logs", contentTypeProtobuf, second, nil)
	if code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Errorf("second request: status %d Retry-After %q (%q), want 429 with Retry-After", code, hdr.Get("Retry-After"), body)
	}
	_, err := h.logsClient().Export(exportCtx(t), logsRequest("svc", strings.Repeat("e", 48<<10)))
	if st := status.Convert(err); st.Code() != codes.ResourceExhausted || !hasRetryInfo(st) {
		t.Errorf("gRPC over the limit: %v, want ResourceExhausted with RetryInfo", err)
	}
	close(release)
	if s := <-first; s != http.StatusOK {
		t.Errorf("held request: status %d, want 200", s)
	}
	if code, body, _ := h.post("/v1/logs", contentTypeProtobuf, second, nil); code != http.StatusOK {
		t.Errorf("retry after release: status %d (%q)", code, body)
	}
	if n := len(h.consumeAll()); n != 4 {
		t.Errorf("%d records on the topic, want 4", n)
	}
}

func hasRetryInfo(st *status.Status) bool {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.RetryInfo); ok {
			return true
		}
	}
	return false
}

// TestGracefulShutdown: a request waiting for Kafka when the service is
// told to stop is still answered with success, its record is on the topic,
// new connections are refused, and Run returns nil.
func TestGracefulShutdown(t *testing.T) {
	h := startHarness(t, nil)
	release := make(chan struct{})
	held := holdProduce(h.cluster, release)
	first := make(chan int, 1)
	go func() {
		status, _, _ := h.post("/v1/logs", contentTypeProtobuf, mustMarshal(t, logsRequest("svc", "in-flight")), nil)
		first <- status
	}()
	<-held
	stopped := make(chan struct{})
	go func() { h.stop(); close(stopped) }()
	testkit.WaitFor(t, 10*time.Second, "the OTLP/HTTP listener to close", func() bool {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
		_, err := c.Post("http://"+h.svc.HTTPAddr()+"/v1/logs", contentTypeProtobuf, nil)
		return err != nil
	})
	select {
	case <-stopped:
		t.Fatal("Run returned while a request was waiting for Kafka")
	case s := <-first:
		t.Fatalf("in-flight request answered %d before Kafka acknowledged", s)
	default:
	}
	close(release)
	if s := <-first; s != http.StatusOK {
		t.Errorf("in-flight request: status %d, want 200", s)
	}
	<-stopped
	recs := h.consumeAll()
	if len(recs) != 1 {
		t.Fatalf("%d records, want the in-flight one", len(recs))
	}
}

// TestHeldWriteStaysCounted: Kafka sits on a batch past its request's
// write timeout. The request is not told to send again while the batch may
// still be written: it waits, its bytes stay in the in-flight budget (a
// request that would pass it is told to retry at once), and once Kafka
// appends the batch it is answered 200 and the budget is free again.
func TestHeldWriteStaysCounted(t *testing.T) {
	clock := testkit.NewManualClock(time.Now())
	h := startHarness(t, func(cfg *config.Config) {
		cfg.Ingest.MaxRequestBytes = 64 << 10
		cfg.Ingest.MaxInflightBytes = 64 << 10
		cfg.Ingest.WriteTimeoutMS = 5000
		cfg.Kafka.BatchTimeoutMS = 0 // batches go without the clock moving
	}, WithClock(clock))
	release := make(chan struct{})
	held := holdProduce(h.cluster, release)
	answered := make(chan int, 1)
	first := mustMarshal(t, logsRequest("svc", strings.Repeat("a", 20<<10)))
	go func() {
		code, _, _ := h.post("/v1/logs", contentTypeProtobuf, first, nil)
		answered <- code
	}()
	<-held
	clock.Advance(5 * time.Second) // the write timeout passes while the broker sits on the batch
	second := mustMarshal(t, logsRequest("svc", strings.Repeat("b", 48<<10)))
	if code, body, _ := h.post("/v1/logs", contentTypeProtobuf, second, nil); code != http.StatusTooManyRequests {
		t.Errorf("request while the held write is pending: status %d (%q), want 429", code, body)
	}
	select {
	case code := <-answered:
		t.Fatalf("held request answered %d while its batch may still be written", code)
	default:
	}
	close(release)
	if code := <-answered; code != http.StatusOK {
		t.Fatalf("held request answered %d once Kafka appended its batch, want 200", code)
	}
	testkit.WaitFor(t, 30*time.Second, "the in-flight bytes released after the broker answered", func() bool {
		return strings.Contains(h.metricsText(), "driftlock_ingest_inflight_bytes 0\n")
	})
	if code, body, _ := h.post("/v1/logs", contentTypeProtobuf, second, nil); code != http.StatusOK {
		t.Errorf("after release: status %d (%q)", code, body)
	}
	if n := len(h.consumeAll()); n != 2 {
		t.Errorf("%d records on the topic, want the two requests' records once each", n)
	}
}
