package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/driftlock/driftlock/internal/event"
)

const sdkLogs = 5

// exporters builds the SDK exporters of one transport.
type exporters struct {
	transport string // otlp-grpc or otlp-http
	logs      func(ctx context.Context, addr string) (sdklog.Exporter, error)
	metrics   func(ctx context.Context, addr string) (sdkmetric.Exporter, error)
	traces    func(ctx context.Context, addr string) (sdktrace.SpanExporter, error)
}

var sdkTransports = []exporters{
	{
		transport: sourceGRPC,
		logs: func(ctx context.Context, addr string) (sdklog.Exporter, error) {
			return otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(addr), otlploggrpc.WithInsecure(), otlploggrpc.WithCompressor("gzip"))
		},
		metrics: func(ctx context.Context, addr string) (sdkmetric.Exporter, error) {
			return otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(addr), otlpmetricgrpc.WithInsecure())
		},
		traces: func(ctx context.Context, addr string) (sdktrace.SpanExporter, error) {
			return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure())
		},
	},
	{
		transport: sourceHTTP,
		logs: func(ctx context.Context, addr string) (sdklog.Exporter, error) {
			return otlploghttp.New(ctx, otlploghttp.WithEndpoint(addr), otlploghttp.WithInsecure(), otlploghttp.WithCompression(otlploghttp.GzipCompression))
		},
		metrics: func(ctx context.Context, addr string) (sdkmetric.Exporter, error) {
			return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(addr), otlpmetrichttp.WithInsecure())
		},
		traces: func(ctx context.Context, addr string) (sdktrace.SpanExporter, error) {
			return otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(addr), otlptracehttp.WithInsecure())
		},
	},
}

// TestSDKExporters sends logs, metrics and spans with the OpenTelemetry Go
// SDK over both transports and reads back exactly those records.
func TestSDKExporters(t *testing.T) {
	h := startHarness(t, nil)
	ctx := context.Background()
	for _, tr := range sdkTransports {
		addr := h.svc.GRPCAddr()
		if tr.transport == sourceHTTP {
			addr = h.svc.HTTPAddr()
		}
		res := resource.NewSchemaless(
			attribute.String("service.name", "shop-"+tr.transport),
			attribute.String("host.name", "h1"),
			attribute.String("env", "prod"))
		sendSDKLogs(t, ctx, tr, addr, res)
		sendSDKMetrics(t, ctx, tr, addr, res)
		sendSDKTraces(t, ctx, tr, addr, res)
	}
	byKey := map[string][]*kgo.Record{}
	recs := h.consumeAll()
	for _, r := range recs {
		byKey[string(r.Key)] = append(byKey[string(r.Key)], r)
	}
	if want := 2 * (sdkLogs + 2 + 3); len(recs) != want {
		t.Errorf("got %d records on the topic, want %d: keys %v", len(recs), want, keysOf(byKey))
	}
	for _, tr := range sdkTransports {
		svc := "shop-" + tr.transport
		checkLogs(t, byKey[svc+"|log"], svc, tr.transport)
		checkMetrics(t, byKey, svc, tr.transport)
		checkSpans(t, byKey[svc+"|span"], svc, tr.transport)
	}
}

func keysOf(m map[string][]*kgo.Record) []string {
	var keys []string
	for k, v := range m {
		keys = append(keys, fmt.Sprintf("%s×%d", k, len(v)))
	}
	sort.Strings(keys)
	return keys
}

func sendSDKLogs(t *testing.T, ctx context.Context, tr exporters, addr string, res *resource.Resource) {
	t.Helper()
	exp, err := tr.logs(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	logger := lp.Logger("test")
	for i := range sdkLogs {
		var r otellog.Record
		r.SetTimestamp(time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC))
		r.SetSeverity(otellog.SeverityInfo)
		r.SetSeverityText("INFO")
		r.SetBody(attribute.StringValue(fmt.Sprintf("msg-%d", i)))
		r.AddAttributes(attribute.Int("i", i), attribute.String("env", "canary"))
		logger.Emit(ctx, r)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatalf("%s logs: %v", tr.transport, err)
	}
}

func sendSDKMetrics(t *testing.T, ctx context.Context, tr exporters, addr string, res *resource.Resource) {
	t.Helper()
	exp, err := tr.metrics(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	meter := mp.Meter("test")
	orders, _ := meter.Int64Counter("orders")
	orders.Add(ctx, 5, metric.WithAttributes(attribute.String("route", "/pay")))
	temp, _ := meter.Float64Gauge("temperature")
	temp.Record(ctx, 2.5)
	if err := mp.Shutdown(ctx); err != nil { // exports once
		t.Fatalf("%s metrics: %v", tr.transport, err)
	}
}

func sendSDKTraces(t *testing.T, ctx context.Context, tr exporters, addr string, res *resource.Resource) {
	t.Helper()
	exp, err := tr.traces(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp))
	tracer := tp.Tracer("test")
	for i := range 3 {
		_, span := tracer.Start(ctx, fmt.Sprintf("op-%d", i))
		span.End()
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("%s traces: %v", tr.transport, err)
	}
}

// checkHeaders checks the four record headers of CONTRACT.md.
func checkHeaders(t *testing.T, r *kgo.Record, typ event.Type, svc, source string) {
	t.Helper()
	for k, want := range map[string]string{
		event.HeaderEventType:   string(typ),
		event.HeaderSource:      source,
		event.HeaderServiceName: svc,
		event.HeaderContentType: event.ContentTypeJSON,
	} {
		if got := header(r, k); got != want {
			t.Errorf("record %s: header %s = %q, want %q", r.Key, k, got, want)
		}
	}
}

// decodeData decodes a record's event and its data, keeping numbers as written.
func decodeData(t *testing.T, r *kgo.Record) (event.Event, map[string]any) {
	t.Helper()
	ev, err := event.Decode(r.Value)
	if err != nil {
		t.Fatalf("record %s: %v", r.Key, err)
	}
	dec := json.NewDecoder(bytes.NewReader(ev.Data))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		t.Fatal(err)
	}
	return ev, data
}

func checkLogs(t *testing.T, recs []*kgo.Record, svc, source string) {
	t.Helper()
	if len(recs) != sdkLogs {
		t.Fatalf("%s: %d log records, want %d", source, len(recs), sdkLogs)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		checkHeaders(t, r, event.TypeLog, svc, source)
		ev, data := decodeData(t, r)
		if ev.Type != event.TypeLog || ev.Source != source {
			t.Errorf("event type %q source %q", ev.Type, ev.Source)
		}
		body, _ := data["body"].(string)
		seen[body] = true
		attrs, _ := data["attributes"].(map[string]any)
		if attrs["host.name"] != "h1" || attrs["env"] != "canary" || attrs["service.name"] != svc {
			t.Errorf("%s %s: attributes %v: want resource merged, record's env winning", source, body, attrs)
		}
		if fmt.Sprint(attrs["i"]) != body[len("msg-"):] {
			t.Errorf("%s %s: attribute i = %v", source, body, attrs["i"])
		}
		if data["severity"] != "INFO" || fmt.Sprint(data["severity_number"]) != "9" {
			t.Errorf("%s %s: severity %v/%v", source, body, data["severity"], data["severity_number"])
		}
	}
	for i := range sdkLogs {
		if !seen[fmt.Sprintf("msg-%d", i)] {
			t.Errorf("%s: log msg-%d missing", source, i)
		}
	}
}

func checkMetrics(t *testing.T, byKey map[string][]*kgo.Record, svc, source string) {
	t.Helper()
	for _, m := range []struct{ name, typ, value string }{
		{"orders", "sum", "5"},
		{"temperature", "gauge", "2.5"},
	} {
		recs := byKey[svc+"|metric|"+m.name]
		if len(recs) != 1 {
			t.Errorf("%s: %d records of metric %s, want 1", source, len(recs), m.name)
			continue
		}
		checkHeaders(t, recs[0], event.TypeMetric, svc, source)
		_, data := decodeData(t, recs[0])
		points, _ := data[m.typ].([]any)
		if data["name"] != m.name || data["type"] != m.typ || len(points) != 1 {
			t.Errorf("%s: metric %v", source, data)
			continue
		}
		p := points[0].(map[string]any)
		if v, ok := p["value"].(json.Number); !ok || v.String() != m.value {
			t.Errorf("%s %s: value %v, want %s written as such", source, m.name, p["value"], m.value)
		}
	}
}

func checkSpans(t *testing.T, recs []*kgo.Record, svc, source string) {
	t.Helper()
	names := map[string]bool{}
	for _, r := range recs {
		checkHeaders(t, r, event.TypeSpan, svc, source)
		_, data := decodeData(t, r)
		name, _ := data["name"].(string)
		names[name] = true
		if id, _ := data["trace_id"].(string); len(id) != 32 {
			t.Errorf("%s %s: trace_id %q", source, name, id)
		}
	}
	if len(recs) != 3 || !names["op-0"] || !names["op-1"] || !names["op-2"] {
		t.Errorf("%s: spans %v, want op-0..op-2 once each", source, names)
	}
}
