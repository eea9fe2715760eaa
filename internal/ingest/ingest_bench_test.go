package ingest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/otlpconv"
	"github.com/driftlock/driftlock/internal/testkit"
)

// benchRequest is a logs request of 100 records resembling application
// logs: a body of about 80 bytes and four attributes each.
func benchRequest(service string) *collogspb.ExportLogsServiceRequest {
	recs := make([]*logspb.LogRecord, 100)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range recs {
		recs[i] = &logspb.LogRecord{
			TimeUnixNano:   uint64(base.Add(time.Duration(i) * time.Millisecond).UnixNano()),
			SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO,
			SeverityText:   "INFO",
			Body:           str(fmt.Sprintf("GET /api/v1/orders/%d completed with status 200 in %d ms for user u-%d", i*7919, i%97, i%13)),
			Attributes: []*commonpb.KeyValue{
				{Key: "http.method", Value: str("GET")},
				{Key: "http.route", Value: str("/api/v1/orders/{id}")},
				{Key: "http.status_code", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: 200}}},
				{Key: "user.id", Value: str(fmt.Sprintf("u-%d", i%13))},
			},
			TraceId: bytes.Repeat([]byte{byte(i + 1)}, 16),
			SpanId:  bytes.Repeat([]byte{byte(i + 1)}, 8),
		}
	}
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{
			{Key: "service.name", Value: str(service)},
			{Key: "host.name", Value: str("bench-host")},
		}},
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: recs}},
	}}}
}

// BenchmarkHTTPLogs100 runs the OTLP/HTTP handler on requests of 100 logs
// (protobuf), producing to the in-memory broker and waiting for its
// acknowledgement, one request at a time.
func BenchmarkHTTPLogs100(b *testing.B) {
	h := startHarness(b, nil)
	body := mustMarshal(b, benchRequest("bench"))
	handler := h.svc.http.Handler
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for range b.N {
		serveBench(b, handler, body)
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkHTTPLogs100Parallel is BenchmarkHTTPLogs100 with concurrent
// requests from several services, whose records share producer batches.
func BenchmarkHTTPLogs100Parallel(b *testing.B) {
	h := startHarness(b, nil)
	bodies := make([][]byte, 8)
	for i := range bodies {
		bodies[i] = mustMarshal(b, benchRequest(fmt.Sprintf("bench-%d", i)))
	}
	handler := h.svc.http.Handler
	b.ReportAllocs()
	b.SetBytes(int64(len(bodies[0])))
	b.SetParallelism(4)
	b.ResetTimer()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		body := bodies[int(next.Add(1))%len(bodies)]
		for pb.Next() {
			serveBench(b, handler, body)
		}
	})
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}

func serveBench(b *testing.B, handler http.Handler, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentTypeProtobuf)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Errorf("status %d: %q", rec.Code, rec.Body.Bytes())
	}
}

// BenchmarkProducePartition: eight clients at once (one per core where
// there are more cores) produce requests of 100 records of one stream, so of one partition, each waiting for Kafka's
// acknowledgement, to the in-memory broker straight or through a network
// with a round trip of 2 ms (testkit.DelayProxy), with one produce request
// in flight per partition and with maxInFlight.
func BenchmarkProducePartition(b *testing.B) {
	recs := make([]otlpconv.Record, 100)
	for i := range recs {
		recs[i] = otlpconv.Record{Key: "checkout|log", Type: event.TypeLog, Service: "checkout", Source: sourceGRPC,
			Value: []byte(fmt.Sprintf(`{"type":"log","data":{"body":"GET /api/v1/orders/%d completed with status 200","severity":"INFO","attributes":{"http.method":"GET","http.route":"/api/v1/orders/{id}"}},"timestamp":"2026-01-02T03:04:05.000Z","source":"otlp-grpc"}`, i))}
	}
	for _, rtt := range []time.Duration{0, 2 * time.Millisecond} {
		for _, inFlight := range []int{1, maxInFlight} {
			b.Run(fmt.Sprintf("rtt=%s/in_flight=%d", rtt, inFlight), func(b *testing.B) {
				h := startProducer(b, func(c *producerConfig) { c.inFlight = inFlight })
				if rtt > 0 {
					proxy := testkit.StartDelayProxy(b, h.cluster.ListenAddrs()[0], rtt/2)
					h.p.dial = wrappedDial(proxy.Addr(), nil)
				}
				b.SetParallelism(8 / runtime.GOMAXPROCS(0))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := h.p.produce(context.Background(), recs); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N*len(recs))/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}
