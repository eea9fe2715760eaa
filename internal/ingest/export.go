package ingest

import (
	"context"
	"fmt"
	"strings"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/driftlock/driftlock/internal/otlpconv"
)

// Transports, as labels and as the events' source.
const (
	transportGRPC = "grpc"
	transportHTTP = "http"
	sourceGRPC    = "otlp-grpc"
	sourceHTTP    = "otlp-http"
)

// maxRejectionMessages bounds the rejections named in one partial_success message.
const maxRejectionMessages = 5

// signal describes one OTLP signal, so that logs, metrics and traces share
// one path through both transports.
type signal[Req, Resp proto.Message] struct {
	name    string // metric label: logs, metrics, traces
	path    string // OTLP/HTTP path
	decode  func(body []byte, json bool) (Req, error)
	convert func(c *otlpconv.Converter, req Req, source string) ([]otlpconv.Record, []otlpconv.Rejection)
	// fromWire, when set, decodes and converts an OTLP/protobuf body in one
	// step, as decode and convert would.
	fromWire func(c *otlpconv.Converter, body []byte, source string) ([]otlpconv.Record, []otlpconv.Rejection, error)
	respond  func(rejected int64, message string) Resp
}

var logsSignal = signal[*collogspb.ExportLogsServiceRequest, *collogspb.ExportLogsServiceResponse]{
	name:     "logs",
	path:     "/v1/logs",
	decode:   otlpconv.DecodeLogs,
	convert:  (*otlpconv.Converter).Logs,
	fromWire: (*otlpconv.Converter).LogsProto,
	respond: func(rejected int64, msg string) *collogspb.ExportLogsServiceResponse {
		resp := &collogspb.ExportLogsServiceResponse{}
		if rejected > 0 || msg != "" {
			resp.PartialSuccess = &collogspb.ExportLogsPartialSuccess{RejectedLogRecords: rejected, ErrorMessage: msg}
		}
		return resp
	},
}

var metricsSignal = signal[*colmetricspb.ExportMetricsServiceRequest, *colmetricspb.ExportMetricsServiceResponse]{
	name:     "metrics",
	path:     "/v1/metrics",
	decode:   otlpconv.DecodeMetrics,
	convert:  (*otlpconv.Converter).Metrics,
	fromWire: (*otlpconv.Converter).MetricsProto,
	respond: func(rejected int64, msg string) *colmetricspb.ExportMetricsServiceResponse {
		resp := &colmetricspb.ExportMetricsServiceResponse{}
		if rejected > 0 || msg != "" {
			resp.PartialSuccess = &colmetricspb.ExportMetricsPartialSuccess{RejectedDataPoints: rejected, ErrorMessage: msg}
		}
		return resp
	},
}

var tracesSignal = signal[*coltracepb.ExportTraceServiceRequest, *coltracepb.ExportTraceServiceResponse]{
	name:    "traces",
	path:    "/v1/traces",
	decode:  otlpconv.DecodeTraces,
	convert: (*otlpconv.Converter).Traces,
	respond: func(rejected int64, msg string) *coltracepb.ExportTraceServiceResponse {
		resp := &coltracepb.ExportTraceServiceResponse{}
		if rejected > 0 || msg != "" {
			resp.PartialSuccess = &coltracepb.ExportTracePartialSuccess{RejectedSpans: rejected, ErrorMessage: msg}
		}
		return resp
	},
}

// result is what an export request is answered with when it did not fail.
type result struct {
	// rejected counts OTLP items: log records, spans or metric data points.
	rejected int64
	message  string
}

// decodeConvert decodes a request body and converts the request; an error
// is the decoder's, for the client.
func decodeConvert[Req, Resp proto.Message](s *Service, sig signal[Req, Resp], body []byte, isJSON bool, source string) ([]otlpconv.Record, []otlpconv.Rejection, error) {
	if !isJSON && sig.fromWire != nil {
		return sig.fromWire(s.conv, body, source)
	}
	req, err := sig.decode(body, isJSON)
	if err != nil {
		return nil, nil, err
	}
	recs, rejs := sig.convert(s.conv, req, source)
	return recs, rejs, nil
}

// export produces the records of a request of client (the name of its
// token or the subject of its client certificate, recorded on each record
// when ingest.auth.client_header is on) and waits for Kafka. A non-nil
// error is a retryable export error: the client sends the request again.
// The records' memory goes back to the converter: the producer has copied
// them into its batches by the time produce returns.
func export[Req, Resp proto.Message](ctx context.Context, s *Service, sig signal[Req, Resp], transport, client string, recs []otlpconv.Record, rejs []otlpconv.Rejection) (result, error) {
	defer s.conv.Recycle(recs)
	if s.cfg.Auth.ClientHeader {
		for i := range recs {
			recs[i].Client = client
		}
	}
	n := len(recs) + len(rejs)
	s.m.received.WithLabelValues(sig.name, transport).Add(float64(n))
	s.m.batchRecords.Observe(float64(n))
	kafkaRejs, err := s.prod.produce(ctx, recs)
	if err != nil {
		return result{}, err
	}
	rejs = append(rejs, kafkaRejs...)
	s.m.accepted.WithLabelValues(sig.name).Add(float64(len(recs) - len(kafkaRejs)))
	var items int64
	for _, r := range rejs {
		s.m.rejected.WithLabelValues(sig.name, r.Reason).Inc()
		items += int64(max(r.Items, 1))
	}
	return result{rejected: items, message: rejectionMessage(rejs)}, nil
}

// rejectionMessage names the first rejections and counts the rest.
func rejectionMessage(rejs []otlpconv.Rejection) string {
	if len(rejs) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d rejected: ", len(rejs))
	for i, r := range rejs {
		if i == maxRejectionMessages {
			fmt.Fprintf(&b, "; and %d more", len(rejs)-i)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r.Message)
	}
	return b.String()
}

// outcome labels a successful result.
func (r result) outcome() string {
	if r.rejected > 0 {
		return outcomePartial
	}
	return outcomeSuccess
}
