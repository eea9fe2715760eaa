// Package otlpconv turns OTLP export requests into otlp-events records: one
// JSON event per log record, per metric (with all its data points) and per
// span, keyed by stream. It knows nothing of Kafka or transports.
package otlpconv

import (
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"

	"github.com/driftlock/driftlock/internal/event"
)

// Limits bound what one record may carry.
type Limits struct {
	// MaxRecordBytes bounds the encoded JSON value of one record.
	MaxRecordBytes int
	// MaxAttributes bounds the merged attributes of one record.
	MaxAttributes int
	// MaxAttributeDepth bounds the nesting of attribute values (arrays, maps).
	MaxAttributeDepth int
}

// Record is one otlp-events record ready to be produced.
type Record struct {
	// Key is the stream key (service|signal[|metric]).
	Key string
	// Value is the event's JSON.
	Value []byte
	// Type, Service and Source fill the record headers.
	Type    event.Type
	Service string
	Source  string
}

// Rejection is one item of a request that was not converted, with a message
// for the client's partial_success.
type Rejection struct {
	// Reason is a short fixed label for metrics: too_large, too_many_attributes,
	// too_deep, invalid.
	Reason string
	// Message names the item and the limit it broke.
	Message string
}

// Converter converts export requests under fixed limits. It is safe for
// concurrent use.
type Converter struct {
	limits Limits
}

// New returns a converter enforcing l.
func New(l Limits) *Converter { return &Converter{limits: l} }

// Logs converts every log record of req. source names the receiving
// transport ("otlp-grpc", "otlp-http").
func (c *Converter) Logs(req *collogspb.ExportLogsServiceRequest, source string) ([]Record, []Rejection) {
	return nil, nil
}

// Metrics converts every metric of req.
func (c *Converter) Metrics(req *colmetricspb.ExportMetricsServiceRequest, source string) ([]Record, []Rejection) {
	return nil, nil
}

// Traces converts every span of req.
func (c *Converter) Traces(req *coltracepb.ExportTraceServiceRequest, source string) ([]Record, []Rejection) {
	return nil, nil
}
