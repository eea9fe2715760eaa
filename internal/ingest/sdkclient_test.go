package ingest

import (
	"context"
	"crypto/tls"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/resource"
	"google.golang.org/grpc/credentials"
)

// sdkClient builds OpenTelemetry SDK exporters of one transport with the
// given headers and TLS settings (nil: plaintext). Retries are off, so a
// refused export fails at once with the server's answer.
type sdkClient struct {
	transport string // sourceGRPC or sourceHTTP
	headers   map[string]string
	tls       *tls.Config
}

const sdkTimeout = 10 * time.Second

func (c sdkClient) metricExporter(ctx context.Context, addr string) (sdkmetric.Exporter, error) {
	if c.transport == sourceGRPC {
		opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpoint(addr), otlpmetricgrpc.WithHeaders(c.headers),
			otlpmetricgrpc.WithTimeout(sdkTimeout), otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: false})}
		if c.tls != nil {
			opts = append(opts, otlpmetricgrpc.WithTLSCredentials(credentials.NewTLS(c.tls)))
		} else {
			opts = append(opts, otlpmetricgrpc.WithInsecure())
		}
		return otlpmetricgrpc.New(ctx, opts...)
	}
	opts := []otlpmetrichttp.Option{otlpmetrichttp.WithEndpoint(addr), otlpmetrichttp.WithHeaders(c.headers),
		otlpmetrichttp.WithTimeout(sdkTimeout), otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false})}
	if c.tls != nil {
		opts = append(opts, otlpmetrichttp.WithTLSClientConfig(c.tls))
	} else {
		opts = append(opts, otlpmetrichttp.WithInsecure())
	}
	return otlpmetrichttp.New(ctx, opts...)
}

func (c sdkClient) logExporter(ctx context.Context, addr string) (sdklog.Exporter, error) {
	if c.transport == sourceGRPC {
		opts := []otlploggrpc.Option{otlploggrpc.WithEndpoint(addr), otlploggrpc.WithHeaders(c.headers),
			otlploggrpc.WithTimeout(sdkTimeout), otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false})}
		if c.tls != nil {
			opts = append(opts, otlploggrpc.WithTLSCredentials(credentials.NewTLS(c.tls)))
		} else {
			opts = append(opts, otlploggrpc.WithInsecure())
		}
		return otlploggrpc.New(ctx, opts...)
	}
	opts := []otlploghttp.Option{otlploghttp.WithEndpoint(addr), otlploghttp.WithHeaders(c.headers),
		otlploghttp.WithTimeout(sdkTimeout), otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false})}
	if c.tls != nil {
		opts = append(opts, otlploghttp.WithTLSClientConfig(c.tls))
	} else {
		opts = append(opts, otlploghttp.WithInsecure())
	}
	return otlploghttp.New(ctx, opts...)
}

// exportGauge exports one gauge point of service with the SDK's metric
// exporter and returns the export's error.
func (c sdkClient) exportGauge(ctx context.Context, addr, service string) error {
	exp, err := c.metricExporter(ctx, addr)
	if err != nil {
		return err
	}
	defer exp.Shutdown(ctx)
	rm := &metricdata.ResourceMetrics{
		Resource: resource.NewSchemaless(attribute.String("service.name", service)),
		ScopeMetrics: []metricdata.ScopeMetrics{{Metrics: []metricdata.Metrics{{
			Name: "queue.depth",
			Data: metricdata.Gauge[int64]{DataPoints: []metricdata.DataPoint[int64]{{
				Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Value: 7}}},
		}}}},
	}
	return exp.Export(ctx, rm)
}

// emitLogs sends n log lines of service through an SDK logger provider and
// returns the error of its shutdown, which exports them.
func (c sdkClient) emitLogs(ctx context.Context, addr, service string, n int) error {
	exp, err := c.logExporter(ctx, addr)
	if err != nil {
		return err
	}
	res := resource.NewSchemaless(attribute.String("service.name", service))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)))
	logger := lp.Logger("test")
	for i := range n {
		var r otellog.Record
		r.SetTimestamp(time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC))
		r.SetSeverity(otellog.SeverityInfo)
		r.SetBody(attribute.StringValue("line"))
		logger.Emit(ctx, r)
	}
	return lp.Shutdown(ctx)
}
