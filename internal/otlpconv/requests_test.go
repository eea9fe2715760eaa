package otlpconv

import (
	"bytes"
	"math"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	metricspb "go.opentelemetry.io/proto/otlp/metrics/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
)

// sampleLogsRequests are logs requests that use every field the wire path
// reads.
func sampleLogsRequests() []*collogspb.ExportLogsServiceRequest {
	kvl := &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{
		Values: []*commonpb.KeyValue{{Key: "k", Value: str("v")}, {Key: "empty"}}}}}
	full := &logspb.LogRecord{
		TimeUnixNano: 1, ObservedTimeUnixNano: 2, SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_WARN,
		SeverityText: "WARN", Body: arr(str("é"), dbl(math.Inf(-1)), kvl, &commonpb.AnyValue{}),
		Attributes: []*commonpb.KeyValue{
			{Key: "b", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}},
			{Key: "i", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: -5}}},
			{Key: "y", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{}}}},
			{Key: "z", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: []byte{0, 1}}}},
			{Key: "s", Value: str("")},
		},
		DroppedAttributesCount: 3, Flags: 1, TraceId: bytes.Repeat([]byte{1}, 16), SpanId: bytes.Repeat([]byte{2}, 8),
		EventName: "ev",
	}
	return []*collogspb.ExportLogsServiceRequest{
		{},
		logsReq(kvs("service.name", "s"), full, &logspb.LogRecord{}),
		{ResourceLogs: []*logspb.ResourceLogs{{
			Resource:  &resourcepb.Resource{Attributes: kvs("service.name", "a"), DroppedAttributesCount: 1},
			SchemaUrl: "https://x",
			ScopeLogs: []*logspb.ScopeLogs{
				{Scope: &commonpb.InstrumentationScope{Name: "n", Version: "v", Attributes: kvs("a", "b"), DroppedAttributesCount: 2},
					SchemaUrl: "u", LogRecords: []*logspb.LogRecord{full}},
				{},
			},
		}, {}}},
	}
}

// sampleMetricsRequests are metrics requests that use every field the wire
// path reads for gauges and sums.
func sampleMetricsRequests() []*colmetricspb.ExportMetricsServiceRequest {
	intPoint := &metricspb.NumberDataPoint{
		Attributes: kvs("a", "b"), StartTimeUnixNano: 1, TimeUnixNano: 2, Flags: 1,
		Value: &metricspb.NumberDataPoint_AsInt{AsInt: -3},
	}
	sum := &metricspb.Metric{Name: "s", Description: "d", Unit: "By", Metadata: kvs("m", "n"),
		Data: &metricspb.Metric_Sum{Sum: &metricspb.Sum{
			DataPoints:             []*metricspb.NumberDataPoint{intPoint, dpoint(3, 1.5), {}},
			AggregationTemporality: metricspb.AggregationTemporality_AGGREGATION_TEMPORALITY_CUMULATIVE,
			IsMonotonic:            true,
		}}}
	return []*colmetricspb.ExportMetricsServiceRequest{
		{},
		metricsReq(kvs("service.name", "s"), gauge("g", dpoint(1, 2)), sum, &metricspb.Metric{Name: "nodata"}),
		{ResourceMetrics: []*metricspb.ResourceMetrics{{
			Resource:  &resourcepb.Resource{Attributes: kvs("service.name", "a")},
			SchemaUrl: "u",
			ScopeMetrics: []*metricspb.ScopeMetrics{
				{Scope: &commonpb.InstrumentationScope{Name: "n"}, SchemaUrl: "v", Metrics: []*metricspb.Metric{sum}},
				{},
			},
		}, {}}},
	}
}

// protowireAppend appends field num as a length-delimited field holding v.
func protowireAppend(b []byte, num protowire.Number, v []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), v)
}
