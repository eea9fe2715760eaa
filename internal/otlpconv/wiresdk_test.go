package otlpconv

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otellog "go.opentelemetry.io/otel/log"
	"go.opentelemetry.io/otel/metric"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
)

// TestWirePathTakesSDKRequests checks that the wire path takes the logs
// and metrics requests the OpenTelemetry Go SDK sends, and converts them as
// the converter does.
func TestWirePathTakesSDKRequests(t *testing.T) {
	var mu sync.Mutex
	bodies := map[string][][]byte{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies[r.URL.Path] = append(bodies[r.URL.Path], body)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	defer srv.CloseClientConnections()
	addr := strings.TrimPrefix(srv.URL, "http://")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res := resource.NewSchemaless(attribute.String("service.name", "checkout"), attribute.String("host.name", "h"))
	sendSDKLogs(ctx, t, addr, res)
	sendSDKMetrics(ctx, t, addr, res)
	for path, signal := range map[string]string{"/v1/logs": "logs", "/v1/metrics": "metrics"} {
		if len(bodies[path]) == 0 {
			t.Fatalf("no %s request", signal)
		}
		for _, body := range bodies[path] {
			if !compareWire(t, signal, testLimits, body) {
				t.Errorf("the wire path left an SDK %s request", signal)
			}
		}
	}
}

func sendSDKLogs(ctx context.Context, t *testing.T, addr string, res *resource.Resource) {
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpoint(addr), otlploghttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	logger := lp.Logger("test", otellog.WithInstrumentationVersion("1.0"))
	for i := range 10 {
		var r otellog.Record
		r.SetTimestamp(time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC))
		r.SetObservedTimestamp(time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC))
		r.SetSeverity(otellog.SeverityWarn)
		r.SetSeverityText("WARN")
		r.SetEventName("order.placed")
		r.SetBody(attribute.MapValue(attribute.String("msg", "placed"), attribute.Slice("items", attribute.IntValue(i), attribute.Float64Value(0.5))))
		r.AddAttributes(attribute.Int("i", i), attribute.String("host.name", "own"), attribute.ByteSlice("raw", []byte{1, 2}), attribute.Bool("ok", true))
		logger.Emit(ctx, r)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

func sendSDKMetrics(ctx context.Context, t *testing.T, addr string, res *resource.Resource) {
	exp, err := otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(addr), otlpmetrichttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res),
		sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
	meter := mp.Meter("test")
	orders, _ := meter.Int64Counter("orders", metric.WithUnit("1"), metric.WithDescription("orders placed"))
	orders.Add(ctx, 5, metric.WithAttributes(attribute.String("route", "/pay")))
	orders.Add(ctx, 2, metric.WithAttributes(attribute.String("route", "/cart")))
	temp, _ := meter.Float64Gauge("temperature")
	temp.Record(ctx, 2.5)
	queue, _ := meter.Int64UpDownCounter("queue")
	queue.Add(ctx, -3)
	if err := mp.Shutdown(ctx); err != nil { // exports once
		t.Fatal(err)
	}
}
