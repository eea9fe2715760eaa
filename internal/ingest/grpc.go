package ingest

import (
	"context"
	"errors"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip compressor OTLP clients use
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// retryAfter is the delay suggested to clients told to retry.
const retryAfter = time.Second

func newGRPCServer(s *Service, maxRequestBytes int) *grpc.Server {
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(maxRequestBytes))
	collogspb.RegisterLogsServiceServer(srv, logsServer{s: s})
	colmetricspb.RegisterMetricsServiceServer(srv, metricsServer{s: s})
	coltracepb.RegisterTraceServiceServer(srv, traceServer{s: s})
	return srv
}

type logsServer struct {
	collogspb.UnimplementedLogsServiceServer
	s *Service
}

// Export receives OTLP logs.
func (g logsServer) Export(ctx context.Context, req *collogspb.ExportLogsServiceRequest) (*collogspb.ExportLogsServiceResponse, error) {
	return exportGRPC(ctx, g.s, logsSignal, req)
}

type metricsServer struct {
	colmetricspb.UnimplementedMetricsServiceServer
	s *Service
}

// Export receives OTLP metrics.
func (g metricsServer) Export(ctx context.Context, req *colmetricspb.ExportMetricsServiceRequest) (*colmetricspb.ExportMetricsServiceResponse, error) {
	return exportGRPC(ctx, g.s, metricsSignal, req)
}

type traceServer struct {
	coltracepb.UnimplementedTraceServiceServer
	s *Service
}

// Export receives OTLP spans.
func (g traceServer) Export(ctx context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	return exportGRPC(ctx, g.s, tracesSignal, req)
}

func exportGRPC[Req, Resp proto.Message](ctx context.Context, s *Service, sig signal[Req, Resp], req Req) (Resp, error) {
	res, err := export(ctx, s, sig, transportGRPC, sourceGRPC, req)
	if err != nil {
		var zero Resp
		outcome, st := grpcStatus(err)
		s.m.requests.WithLabelValues(sig.name, transportGRPC, outcome).Inc()
		return zero, st.Err()
	}
	s.m.requests.WithLabelValues(sig.name, transportGRPC, res.outcome()).Inc()
	return sig.respond(res.rejected, res.message), nil
}

// grpcStatus maps a retryable export error to the status the OTLP
// specification asks for, with a RetryInfo detail so that clients retry.
func grpcStatus(err error) (string, *status.Status) {
	outcome, code := outcomeUnavailable, codes.Unavailable
	if errors.Is(err, errOverloaded) {
		outcome, code = outcomeOverloaded, codes.ResourceExhausted
	}
	st := status.New(code, err.Error())
	if withInfo, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); derr == nil {
		st = withInfo
	}
	return outcome, st
}
