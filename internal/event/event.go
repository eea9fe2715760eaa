// Package event defines the JSON records DriftLock writes to the otlp-events
// topic: one per log record, per metric and per span, in the seed's shape
// {"type", "data", "timestamp", "source"}. Ingest encodes them, the detector
// and the evaluation command decode them.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Type is the kind of telemetry an event carries.
type Type string

// The event types of CONTRACT.md.
const (
	TypeLog    Type = "log"
	TypeMetric Type = "metric"
	TypeSpan   Type = "span"
)

// Kafka record header names written with every event.
const (
	HeaderEventType   = "driftlock-event-type"
	HeaderSource      = "driftlock-source"
	HeaderServiceName = "service.name"
	HeaderContentType = "content-type"
	// HeaderClient names the client that sent the event (its token's name,
	// or its client certificate's subject under mutual TLS); written only
	// when ingest.auth.client_header is on.
	HeaderClient    = "driftlock-client"
	ContentTypeJSON = "application/json"
)

// UnknownService is the service name used when a resource has no service.name,
// as the OpenTelemetry SDKs do.
const UnknownService = "unknown_service"

// TimestampLayout is the layout of Event.Timestamp: RFC 3339, milliseconds, UTC.
const TimestampLayout = "2006-01-02T15:04:05.000Z07:00"

// NanoLayout is the layout of timestamps inside Data: RFC 3339 with nanoseconds, UTC.
const NanoLayout = time.RFC3339Nano

// Event is one record of the otlp-events topic.
type Event struct {
	Type      Type            `json:"type"`
	Data      json.RawMessage `json:"data"`
	Timestamp string          `json:"timestamp"`
	Source    string          `json:"source"`
}

// LogData is Event.Data for a log record.
type LogData struct {
	Timestamp      string         `json:"timestamp"`
	Severity       string         `json:"severity"`
	Body           any            `json:"body"`
	SeverityNumber int32          `json:"severity_number"`
	Flags          uint32         `json:"flags"`
	Attributes     map[string]any `json:"attributes"`
	TraceID        string         `json:"trace_id,omitempty"`
	SpanID         string         `json:"span_id,omitempty"`
	// ScopeName and ScopeVersion name the instrumentation scope (library)
	// that emitted the record; omitted when empty.
	ScopeName    string `json:"scope_name,omitempty"`
	ScopeVersion string `json:"scope_version,omitempty"`
}

// MetricData is Event.Data for a metric: one metric with all its data points,
// listed under the key named by Type. Each point's attributes are the resource
// attributes merged with the point's own (the point's win).
type MetricData struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Unit        string `json:"unit"`
	// Type is one of gauge, sum, histogram, exponential_histogram, summary.
	Type                   string                 `json:"type"`
	AggregationTemporality string                 `json:"aggregation_temporality,omitempty"`
	IsMonotonic            *bool                  `json:"is_monotonic,omitempty"`
	Gauge                  []NumberPoint          `json:"gauge,omitempty"`
	Sum                    []NumberPoint          `json:"sum,omitempty"`
	Histogram              []HistogramPoint       `json:"histogram,omitempty"`
	ExponentialHistogram   []ExponentialHistPoint `json:"exponential_histogram,omitempty"`
	Summary                []SummaryPoint         `json:"summary,omitempty"`
	Attributes             map[string]any         `json:"resource_attributes,omitempty"`
	// ScopeName and ScopeVersion name the instrumentation scope (meter)
	// that emitted the metric; omitted when empty.
	ScopeName    string `json:"scope_name,omitempty"`
	ScopeVersion string `json:"scope_version,omitempty"`
}

// NumberPoint is a gauge or sum data point. Value is a json.Number so that
// integer points stay integers on the wire.
type NumberPoint struct {
	Timestamp  string         `json:"timestamp"`
	Value      json.Number    `json:"value"`
	Attributes map[string]any `json:"attributes"`
}

// HistogramPoint is an explicit-bucket histogram data point.
type HistogramPoint struct {
	Timestamp      string         `json:"timestamp"`
	Count          uint64         `json:"count"`
	Sum            *float64       `json:"sum,omitempty"`
	Min            *float64       `json:"min,omitempty"`
	Max            *float64       `json:"max,omitempty"`
	BucketCounts   []uint64       `json:"bucket_counts"`
	ExplicitBounds []float64      `json:"explicit_bounds"`
	Attributes     map[string]any `json:"attributes"`
}

// ExponentialBuckets is one side of an exponential histogram.
type ExponentialBuckets struct {
	Offset       int32    `json:"offset"`
	BucketCounts []uint64 `json:"bucket_counts"`
}

// ExponentialHistPoint is an exponential histogram data point.
type ExponentialHistPoint struct {
	Timestamp  string             `json:"timestamp"`
	Count      uint64             `json:"count"`
	Sum        *float64           `json:"sum,omitempty"`
	Min        *float64           `json:"min,omitempty"`
	Max        *float64           `json:"max,omitempty"`
	Scale      int32              `json:"scale"`
	ZeroCount  uint64             `json:"zero_count"`
	Positive   ExponentialBuckets `json:"positive"`
	Negative   ExponentialBuckets `json:"negative"`
	Attributes map[string]any     `json:"attributes"`
}

// QuantileValue is one quantile of a summary data point.
type QuantileValue struct {
	Quantile float64 `json:"quantile"`
	Value    float64 `json:"value"`
}

// SummaryPoint is a summary data point.
type SummaryPoint struct {
	Timestamp      string          `json:"timestamp"`
	Count          uint64          `json:"count"`
	Sum            float64         `json:"sum"`
	QuantileValues []QuantileValue `json:"quantile_values"`
	Attributes     map[string]any  `json:"attributes"`
}

// SpanData is Event.Data for a span.
type SpanData struct {
	Name          string         `json:"name"`
	Kind          string         `json:"kind"`
	TraceID       string         `json:"trace_id"`
	SpanID        string         `json:"span_id"`
	ParentSpanID  string         `json:"parent_span_id,omitempty"`
	StartTime     string         `json:"start_time"`
	EndTime       string         `json:"end_time"`
	DurationNanos int64          `json:"duration_ns"`
	StatusCode    string         `json:"status_code"`
	StatusMessage string         `json:"status_message,omitempty"`
	Attributes    map[string]any `json:"attributes"`
	Events        []SpanEvent    `json:"events,omitempty"`
	// ScopeName and ScopeVersion name the instrumentation scope (tracer)
	// that emitted the span; omitted when empty.
	ScopeName    string `json:"scope_name,omitempty"`
	ScopeVersion string `json:"scope_version,omitempty"`
}

// SpanEvent is an event recorded on a span.
type SpanEvent struct {
	Name       string         `json:"name"`
	Timestamp  string         `json:"timestamp"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// StreamKey returns the key of the stream an event belongs to:
// service|signal, plus |metric-name for metrics.
func StreamKey(service string, t Type, metricName string) string {
	if service == "" {
		service = UnknownService
	}
	if t == TypeMetric {
		return service + "|" + string(t) + "|" + metricName
	}
	return service + "|" + string(t)
}

// ParseStreamKey splits a stream key into its service, signal and metric name.
func ParseStreamKey(key string) (service string, signal Type, metric string, err error) {
	service, rest, ok := strings.Cut(key, "|")
	if !ok || service == "" {
		return "", "", "", fmt.Errorf("invalid stream key %q: want service|signal[|metric]", key)
	}
	sig, metric, third := strings.Cut(rest, "|")
	signal = Type(sig)
	switch signal {
	case TypeLog, TypeSpan:
		if third {
			return "", "", "", fmt.Errorf("invalid stream key %q: only metric keys have a third part", key)
		}
	case TypeMetric:
		if !third || metric == "" {
			return "", "", "", fmt.Errorf("invalid stream key %q: metric keys need a metric name", key)
		}
	default:
		return "", "", "", fmt.Errorf("invalid stream key %q: unknown signal %q", key, sig)
	}
	return service, signal, metric, nil
}

// ErrInvalid marks a record that is not a valid event; callers count and skip it.
var ErrInvalid = errors.New("invalid event")

// Decode parses and checks one otlp-events record value. Errors wrap ErrInvalid.
func Decode(value []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(value, &ev); err != nil {
		return Event{}, fmt.Errorf("%w: not JSON: %v", ErrInvalid, err)
	}
	switch ev.Type {
	case TypeLog, TypeMetric, TypeSpan:
	default:
		return Event{}, fmt.Errorf("%w: unknown type %q", ErrInvalid, ev.Type)
	}
	if len(ev.Data) == 0 || ev.Data[0] != '{' {
		return Event{}, fmt.Errorf("%w: data is not an object", ErrInvalid)
	}
	if _, err := time.Parse(time.RFC3339Nano, ev.Timestamp); err != nil {
		return Event{}, fmt.Errorf("%w: timestamp %q is not RFC 3339", ErrInvalid, ev.Timestamp)
	}
	return ev, nil
}

// FormatTimestamp formats t as Event.Timestamp.
func FormatTimestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// FormatNanos formats t as a timestamp inside Data.
func FormatNanos(t time.Time) string { return t.UTC().Format(NanoLayout) }
