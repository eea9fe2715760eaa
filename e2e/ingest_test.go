package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// TestSDKToTopic sends logs (gRPC and HTTP), metrics and spans with the
// OpenTelemetry Go SDK through ingest and finds every acknowledged record on
// the events topic exactly once, with the right key, headers and JSON.
func TestSDKToTopic(t *testing.T) {
	needKafka(t)
	n := newNames(t, newAdmin(t), nil)
	in := startIngest(t, n)
	ctx := context.Background()
	svc := "e2e-sdk-" + runID
	res := resource.NewSchemaless(attribute.String("service.name", svc), attribute.String("deployment.environment", "e2e"))

	grpcLogs, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(in.GRPC), otlploggrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	httpLogs, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(in.HTTP), otlploghttp.WithInsecure(),
		otlploghttp.WithCompression(otlploghttp.GzipCompression))
	if err != nil {
		t.Fatal(err)
	}
	const perTransport = 300
	emitLogs(t, grpcLogs, res, "grpc", perTransport)
	emitLogs(t, httpLogs, res, "http", perTransport)
	emitMetrics(t, in.GRPC, res)
	emitSpans(t, in.GRPC, res, 25)

	want := 2*perTransport + 2 + 25
	recs := waitRecords(t, n.Events, want, 60*time.Second)
	if len(recs) != want {
		t.Errorf("events topic holds %d records, want %d", len(recs), want)
	}
	bodies := map[string]int{}
	types := map[string]int{}
	for _, r := range recs {
		ev, err := checkEvent(t, r, svc)
		if err != nil {
			t.Error(err)
			continue
		}
		types[r.KeyString()]++
		if ev["type"] == "log" {
			bodies[logBody(ev)]++
		}
	}
	for _, tr := range []string{"grpc", "http"} {
		for i := range perTransport {
			if b := fmt.Sprintf("sdk %s log %d", tr, i); bodies[b] != 1 {
				t.Errorf("log %q found %d times, want once", b, bodies[b])
			}
		}
	}
	for key, n := range map[string]int{svc + "|span": 25, svc + "|metric|e2e.orders": 1, svc + "|metric|e2e.queue_depth": 1} {
		if types[key] != n {
			t.Errorf("%d records keyed %q, want %d (all keys: %v)", types[key], key, n, types)
		}
	}
}

func emitLogs(t *testing.T, exp sdklog.Exporter, res *resource.Resource, tr string, n int) {
	t.Helper()
	ctx := context.Background()
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	logger := lp.Logger("driftlock-e2e")
	for i := range n {
		var r otellog.Record
		r.SetTimestamp(time.Now())
		r.SetSeverity(otellog.SeverityInfo)
		r.SetSeverityText("INFO")
		r.SetBody(attribute.StringValue(fmt.Sprintf("sdk %s log %d", tr, i)))
		r.AddAttributes(attribute.Int("i", i))
		logger.Emit(ctx, r)
	}
	if err := lp.Shutdown(ctx); err != nil { // flushes: an error means not acknowledged
		t.Fatalf("%s log export: %v", tr, err)
	}
}

func emitMetrics(t *testing.T, addr string, res *resource.Resource) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(addr), otlpmetricgrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	meter := mp.Meter("driftlock-e2e")
	orders, _ := meter.Int64Counter("e2e.orders")
	depth, _ := meter.Float64Gauge("e2e.queue_depth")
	orders.Add(ctx, 7)
	depth.Record(ctx, 3.5)
	if err := mp.Shutdown(ctx); err != nil { // one final collect and export
		t.Fatalf("metric export: %v", err)
	}
}

func emitSpans(t *testing.T, addr string, res *resource.Resource, n int) {
	t.Helper()
	ctx := context.Background()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp))
	for i := range n {
		_, span := tp.Tracer("driftlock-e2e").Start(ctx, fmt.Sprintf("op-%d", i))
		span.End()
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("span export: %v", err)
	}
}

// telemetrygen returns the path of the telemetrygen binary, or skips.
func telemetrygen(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("telemetrygen"); err == nil {
		return p
	}
	out, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "telemetrygen")
	if _, err := exec.LookPath(p); err == nil {
		return p
	}
	t.Skip("telemetrygen not found: go install github.com/open-telemetry/opentelemetry-collector-contrib/cmd/telemetrygen@v0.161.0")
	return ""
}

// TestTelemetrygenToTopic drives ingest with telemetrygen (gRPC and HTTP) and
// counts exactly what it sent on the events topic.
func TestTelemetrygenToTopic(t *testing.T) {
	needKafka(t)
	bin := telemetrygen(t)
	n := newNames(t, newAdmin(t), nil)
	in := startIngest(t, n)
	svc := "e2e-tgen-" + runID
	run := func(args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		args = append(args, "--otlp-insecure", "--service", svc, "--rate", "0", "--workers", "1")
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err != nil || strings.Contains(string(out), "failed to export") {
			t.Fatalf("telemetrygen %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("logs", "--otlp-endpoint", in.GRPC, "--logs", "200", "--body", "tgen grpc line")
	run("logs", "--otlp-http", "--otlp-endpoint", in.HTTP, "--logs", "100", "--body", "tgen http line")
	run("traces", "--otlp-endpoint", in.GRPC, "--traces", "20", "--child-spans", "1")
	run("metrics", "--otlp-endpoint", in.GRPC, "--metrics", "10", "--metric-type", "Gauge")

	logs, spans, points := 0, 0, 0
	recs := waitRecords(t, n.Events, 200+100+40+1, 60*time.Second)
	for _, r := range waitStable(t, n.Events, recs) {
		ev, err := checkEvent(t, r, svc)
		if err != nil {
			t.Error(err)
			continue
		}
		switch ev["type"] {
		case "log":
			logs++
		case "span":
			spans++
		case "metric":
			data, _ := ev["data"].(map[string]any)
			pts, _ := data["gauge"].([]any)
			points += len(pts)
		}
	}
	if logs != 300 || spans != 40 || points != 10 {
		t.Errorf("topic holds %d logs, %d spans, %d gauge points; want 300, 40, 10", logs, spans, points)
	}
}

// waitStable rereads topic until its record count stops changing for 2 s,
// so that late duplicates would be seen.
func waitStable(t *testing.T, topic string, recs []record) []record {
	t.Helper()
	for range 10 {
		time.Sleep(2 * time.Second)
		again := readTopic(t, topic)
		if len(again) == len(recs) {
			return again
		}
		recs = again
	}
	return recs
}
