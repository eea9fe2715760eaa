package otlpconv

import (
	"fmt"
	"testing"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

const benchRecords = 100

const benchStart = uint64(1_700_000_000_000_000_000)

func intv(i int64) *commonpb.AnyValue {
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: i}}
}

// benchScope is the instrumentation scope of the benchmark requests, as an
// SDK names its logger, meter or tracer.
func benchScope() *commonpb.InstrumentationScope {
	return &commonpb.InstrumentationScope{Name: "github.com/shop/checkout/internal/orders", Version: "1.4.2"}
}

// benchResource is a typical SDK resource in Kubernetes.
func benchResource() *resourcepb.Resource {
	return &resourcepb.Resource{Attributes: kvs(
		"service.name", "checkout", "service.version", "1.4.2", "service.namespace", "shop",
		"host.name", "ip-10-0-12-34", "k8s.pod.name", "checkout-7d9f8c6b5-x2lqp",
		"k8s.namespace.name", "shop-prod", "deployment.environment", "production",
		"telemetry.sdk.language", "go", "telemetry.sdk.name", "opentelemetry",
	)}
}

func benchAttrs(i int) []*commonpb.KeyValue {
	return kvs("http.request.method", "POST", "http.route", "/api/v1/orders/{id}",
		"http.response.status_code", intv(int64(200+i%5)), "server.duration", dbl(float64(i)*0.0137),
		"user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0")
}

func benchLogs() *collogspb.ExportLogsServiceRequest {
	recs := make([]*logspb.LogRecord, benchRecords)
	for i := range recs {
		recs[i] = &logspb.LogRecord{
			TimeUnixNano: benchStart + uint64(i)*1_000_000, ObservedTimeUnixNano: benchStart + uint64(i)*1_000_000 + 5000,
			SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO, SeverityText: "INFO",
			Body:       str(fmt.Sprintf("order %d placed by customer %d: 3 items, total 59.97 EUR, payment authorised", 10000+i, 77+i)),
			Attributes: benchAttrs(i),
			TraceId:    []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(i)},
			SpanId:     []byte{1, 2, 3, 4, 5, 6, 7, byte(i)},
		}
	}
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: benchResource(), ScopeLogs: []*logspb.ScopeLogs{{Scope: benchScope(), LogRecords: recs}},
	}}}
}

// benchMetrics has 100 metrics, gauges, sums and histograms, of two points each.
func benchMetrics() *colmetricspb.ExportMetricsServiceRequest { return benchMetricsOf(3) }

// benchMetricsOf has 100 metrics of two points each, of the first kinds
// of gauge, sum and histogram in turn.
func benchMetricsOf(kinds int) *colmetricspb.ExportMetricsServiceRequest {
	ms := make([]*metricspb.Metric, benchRecords)
	for i := range ms {
		attrs := kvs("http.request.method", "GET", "http.route", "/api/v1/items", "http.response.status_code", intv(200))
		m := &metricspb.Metric{Name: fmt.Sprintf("app.metric.%d", i), Unit: "s", Description: "A metric of the app"}
		switch i % kinds {
		case 0:
			m.Data = &metricspb.Metric_Gauge{Gauge: &metricspb.Gauge{DataPoints: []*metricspb.NumberDataPoint{
				{TimeUnixNano: benchStart, Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: 0.731}, Attributes: attrs},
				{TimeUnixNano: benchStart + 1e9, Value: &metricspb.NumberDataPoint_AsDouble{AsDouble: 0.694}, Attributes: attrs},
			}}}
		case 1:
			m.Data = &metricspb.Metric_Sum{Sum: &metricspb.Sum{IsMonotonic: true, AggregationTemporality: 2, DataPoints: []*metricspb.NumberDataPoint{
				{TimeUnixNano: benchStart, Value: &metricspb.NumberDataPoint_AsInt{AsInt: 18234}, Attributes: attrs},
				{TimeUnixNano: benchStart + 1e9, Value: &metricspb.NumberDataPoint_AsInt{AsInt: 18301}, Attributes: attrs},
			}}}
		default:
			sum := 12.5
			pt := func(ts uint64) *metricspb.HistogramDataPoint {
				return &metricspb.HistogramDataPoint{TimeUnixNano: ts, Count: 120, Sum: &sum, Attributes: attrs,
					BucketCounts:   []uint64{3, 10, 40, 50, 12, 4, 1, 0},
					ExplicitBounds: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5}}
			}
			m.Data = &metricspb.Metric_Histogram{Histogram: &metricspb.Histogram{AggregationTemporality: 2,
				DataPoints: []*metricspb.HistogramDataPoint{pt(benchStart), pt(benchStart + 1e9)}}}
		}
		ms[i] = m
	}
	return &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource: benchResource(), ScopeMetrics: []*metricspb.ScopeMetrics{{Scope: benchScope(), Metrics: ms}},
	}}}
}

func benchTraces() *coltracepb.ExportTraceServiceRequest {
	spans := make([]*tracepb.Span, benchRecords)
	for i := range spans {
		spans[i] = &tracepb.Span{
			TraceId: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(i)},
			SpanId:  []byte{1, 2, 3, 4, 5, 6, 7, byte(i)}, ParentSpanId: []byte{9, 9, 9, 9, 9, 9, 9, byte(i)},
			Name: "POST /api/v1/orders/{id}", Kind: tracepb.Span_SPAN_KIND_SERVER,
			StartTimeUnixNano: benchStart + uint64(i)*1e6, EndTimeUnixNano: benchStart + uint64(i)*1e6 + 23_456_789,
			Attributes: benchAttrs(i),
			Events:     []*tracepb.Span_Event{{TimeUnixNano: benchStart + uint64(i)*1e6 + 1000, Name: "cache.miss", Attributes: kvs("cache.key", "order:123")}},
			Status:     &tracepb.Status{Code: tracepb.Status_STATUS_CODE_OK},
		}
	}
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		Resource: benchResource(), ScopeSpans: []*tracepb.ScopeSpans{{Scope: benchScope(), Spans: spans}},
	}}}
}

// reportPerRecord reports wall and process CPU nanoseconds per record; on a
// shared machine the CPU figure is the one that tells the cost.
func reportPerRecord(b *testing.B, cpuStart int64) {
	n := float64(b.N * benchRecords)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/record")
	if cpuStart >= 0 {
		b.ReportMetric(float64(processCPU()-cpuStart)/n, "cpu-ns/record")
	}
}

// runBench converts one request per iteration and reports ns and bytes per
// record; with recycle set, the records go back to it as the ingest does.
func runBench(b *testing.B, recycle *Converter, convert func() ([]Record, []Rejection)) {
	b.ReportAllocs()
	var size int
	cpu := processCPU()
	for b.Loop() {
		recs, rejs := convert()
		if len(recs) != benchRecords || len(rejs) != 0 {
			b.Fatalf("%d records, %d rejections", len(recs), len(rejs))
		}
		size = 0
		for _, r := range recs {
			size += len(r.Value)
		}
		if recycle != nil {
			recycle.Recycle(recs)
		}
	}
	reportPerRecord(b, cpu)
	b.ReportMetric(float64(size)/benchRecords, "bytes/record")
}

func BenchmarkConvertLogs(b *testing.B) {
	c, req := New(testLimits), benchLogs()
	runBench(b, nil, func() ([]Record, []Rejection) { return c.Logs(req, testSource) })
}

func BenchmarkConvertMetrics(b *testing.B) {
	c, req := New(testLimits), benchMetrics()
	runBench(b, nil, func() ([]Record, []Rejection) { return c.Metrics(req, testSource) })
}

func BenchmarkConvertTraces(b *testing.B) {
	c, req := New(testLimits), benchTraces()
	runBench(b, nil, func() ([]Record, []Rejection) { return c.Traces(req, testSource) })
}

// BenchmarkConvertLogsEncodingJSON is the same work done by marshalling the
// typed structs with encoding/json, for comparison.
func BenchmarkConvertLogsEncodingJSON(b *testing.B) {
	req := benchLogs()
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if refs := refLogs(req, testSource); len(refs) != benchRecords {
			b.Fatal(len(refs))
		}
	}
	reportPerRecord(b, cpu)
}

// BenchmarkDecodeLogsProto is the protobuf decoding that precedes
// conversion on the ingest path.
func BenchmarkDecodeLogsProto(b *testing.B) {
	body := mustMarshal(b, benchLogs())
	b.ReportAllocs()
	cpu := processCPU()
	for b.Loop() {
		if _, err := DecodeLogs(body, false); err != nil {
			b.Fatal(err)
		}
	}
	reportPerRecord(b, cpu)
}

// BenchmarkDecodeConvertLogsProto is the ingest's work on an OTLP/protobuf
// logs body through protobuf-go messages: DecodeLogs, then Logs.
func BenchmarkDecodeConvertLogsProto(b *testing.B) {
	c := New(testLimits)
	runBodyBench(b, benchLogs(), nil, func(body []byte) ([]Record, []Rejection, error) {
		req, err := DecodeLogs(body, false)
		if err != nil {
			return nil, nil, err
		}
		recs, rejs := c.Logs(req, testSource)
		return recs, rejs, nil
	})
}

// BenchmarkLogsProto is the same work straight from the wire bytes.
func BenchmarkLogsProto(b *testing.B) {
	c := New(testLimits)
	runBodyBench(b, benchLogs(), nil, func(body []byte) ([]Record, []Rejection, error) { return c.LogsProto(body, testSource) })
}

// BenchmarkDecodeConvertMetricsProto is DecodeMetrics, then Metrics, on
// 100 gauges and sums.
func BenchmarkDecodeConvertMetricsProto(b *testing.B) {
	c := New(testLimits)
	runBodyBench(b, benchMetricsOf(2), nil, func(body []byte) ([]Record, []Rejection, error) {
		req, err := DecodeMetrics(body, false)
		if err != nil {
			return nil, nil, err
		}
		recs, rejs := c.Metrics(req, testSource)
		return recs, rejs, nil
	})
}

// BenchmarkMetricsProto is the same work straight from the wire bytes.
func BenchmarkMetricsProto(b *testing.B) {
	c := New(testLimits)
	runBodyBench(b, benchMetricsOf(2), nil, func(body []byte) ([]Record, []Rejection, error) { return c.MetricsProto(body, testSource) })
}

// runBodyBench converts the protobuf encoding of req once per iteration.
// With recycle set, the records go back to it.
func runBodyBench(b *testing.B, req proto.Message, recycle *Converter, convert func(body []byte) ([]Record, []Rejection, error)) {
	body := mustMarshal(b, req)
	runBench(b, recycle, func() ([]Record, []Rejection) {
		recs, rejs, err := convert(body)
		if err != nil {
			b.Fatal(err)
		}
		return recs, rejs
	})
}

// smallLogs is a request like telemetrygen's: 100 short records with one
// attribute each and a one-attribute resource.
func smallLogs() *collogspb.ExportLogsServiceRequest {
	recs := make([]*logspb.LogRecord, benchRecords)
	for i := range recs {
		recs[i] = &logspb.LogRecord{
			TimeUnixNano: benchStart + uint64(i)*65_573, ObservedTimeUnixNano: benchStart + uint64(i)*65_573,
			SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO, SeverityText: "Info",
			Body: str("the message"), Attributes: kvs("app", "server"),
		}
	}
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource:  &resourcepb.Resource{Attributes: kvs("service.name", "telemetrygen")},
		ScopeLogs: []*logspb.ScopeLogs{{Scope: benchScope(), LogRecords: recs}},
	}}}
}

// smallMetrics is a request like telemetrygen's sums: 100 metrics of one
// point each, no attributes but the resource's service.name.
func smallMetrics() *colmetricspb.ExportMetricsServiceRequest {
	ms := make([]*metricspb.Metric, benchRecords)
	for i := range ms {
		ms[i] = &metricspb.Metric{Name: "gen", Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
			IsMonotonic: true, AggregationTemporality: 2, DataPoints: []*metricspb.NumberDataPoint{
				{TimeUnixNano: benchStart + uint64(i)*65_573, Value: &metricspb.NumberDataPoint_AsInt{AsInt: int64(i)}},
			}}}}
	}
	return &colmetricspb.ExportMetricsServiceRequest{ResourceMetrics: []*metricspb.ResourceMetrics{{
		Resource:     &resourcepb.Resource{Attributes: kvs("service.name", "telemetrygen")},
		ScopeMetrics: []*metricspb.ScopeMetrics{{Scope: benchScope(), Metrics: ms}},
	}}}
}

// BenchmarkLogsProtoSmall converts telemetrygen-sized log records from the
// wire bytes, with and without recycling the records.
func BenchmarkLogsProtoSmall(b *testing.B) {
	benchRecycled(b, smallLogs(), (*Converter).LogsProto)
}

// BenchmarkMetricsProtoSmall converts telemetrygen-sized sums from the wire
// bytes, with and without recycling the records.
func BenchmarkMetricsProtoSmall(b *testing.B) {
	benchRecycled(b, smallMetrics(), (*Converter).MetricsProto)
}

func benchRecycled(b *testing.B, req proto.Message, conv func(c *Converter, body []byte, source string) ([]Record, []Rejection, error)) {
	for _, recycle := range []bool{false, true} {
		b.Run(map[bool]string{false: "fresh", true: "recycled"}[recycle], func(b *testing.B) {
			c := New(testLimits)
			r := c
			if !recycle {
				r = nil
			}
			runBodyBench(b, req, r, func(body []byte) ([]Record, []Rejection, error) { return conv(c, body, testSource) })
		})
	}
}
