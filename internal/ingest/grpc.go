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
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip compressor OTLP clients use
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	protobuf "google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// retryAfter is the delay suggested to clients told to retry.
const retryAfter = time.Second

// HTTP/2 flow-control windows of the gRPC server, per stream and per
// connection. Fixed windows turn off grpc-go's bandwidth-delay estimation,
// which otherwise pings the client and updates the windows after nearly
// every request: one more write and read per export. The sizes are those
// the estimation grows to at most, and a stream's window is half the
// default request limit, so a large export still streams without waiting.
const (
	grpcStreamWindow = 4 << 20
	grpcConnWindow   = 16 << 20
)

// newGRPCServer serves the three OTLP collector services. Requests reach the
// handlers undecoded (RawRequest) and are decoded by the same code as
// OTLP/HTTP bodies, so that a bad payload is answered INVALID_ARGUMENT with
// the decoder's message rather than grpc-go's INTERNAL. A connection
// without an RPC for idle is closed (GOAWAY), so idle clients do not hold
// connections for ever.
func newGRPCServer(s *Service, maxRequestBytes int, idle time.Duration) *grpc.Server {
	opts := append(GRPCServerOptions(maxRequestBytes), grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: idle}))
	if s.tls != nil {
		creds := credentials.NewTLS(s.tls.serverConfig([]string{"h2"}, true))
		opts = append(opts, grpc.Creds(loggedCreds{TransportCredentials: creds, l: s.srvLog}))
	}
	srv := grpc.NewServer(opts...)
	srv.RegisterService(serviceDesc(s, logsSignal, collogspb.LogsService_ServiceDesc), s)
	srv.RegisterService(serviceDesc(s, metricsSignal, colmetricspb.MetricsService_ServiceDesc), s)
	srv.RegisterService(serviceDesc(s, tracesSignal, coltracepb.TraceService_ServiceDesc), s)
	return srv
}

// GRPCServerOptions are the options of the ingest's gRPC server: the
// request size limit, the fixed flow-control windows, and a codec that
// hands handlers their request as a RawRequest. The ingest benchmark's
// floor server (scripts/bench-floor) uses them too.
func GRPCServerOptions(maxRequestBytes int) []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(maxRequestBytes),
		grpc.InitialWindowSize(grpcStreamWindow), grpc.InitialConnWindowSize(grpcConnWindow),
		grpc.ForceServerCodecV2(rawCodec{proto: encoding.GetCodecV2(proto.Name)})}
}

// RawRequest receives a request message from the codec of
// GRPCServerOptions: its bytes, in a buffer of grpc-go's pool.
type RawRequest struct{ buf mem.Buffer }

// Free hands the request's buffer back to grpc-go's pool.
func (r *RawRequest) Free() { r.buf.Free() }

// rawCodec is the protobuf codec, except that a *RawRequest is the message
// bytes as they are, in both directions.
type rawCodec struct{ proto encoding.CodecV2 }

func (c rawCodec) Name() string { return proto.Name }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if r, ok := v.(*RawRequest); ok {
		return mem.BufferSlice{mem.SliceBuffer(r.buf.ReadOnlyData())}, nil
	}
	return c.proto.Marshal(v)
}

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*RawRequest); ok {
		// A message that arrived in one buffer is kept without a copy.
		r.buf = data.MaterializeToBuffer(mem.DefaultBufferPool())
		return nil
	}
	return c.proto.Unmarshal(data, v)
}

// serviceDesc is the generated description of an OTLP service with its
// Export method served by exportGRPC.
func serviceDesc[Req, Resp protobuf.Message](s *Service, sig signal[Req, Resp], gen grpc.ServiceDesc) *grpc.ServiceDesc {
	handler := func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		began := time.Now()
		res, err := exportGRPC(ctx, s, sig, dec)
		outcome := res.outcome()
		if err != nil {
			outcome, err = grpcError(err)
		}
		s.m.requests.WithLabelValues(sig.name, transportGRPC, outcome).Inc()
		s.m.duration.WithLabelValues(sig.name, transportGRPC).Observe(time.Since(began).Seconds())
		if err != nil {
			return nil, err
		}
		return sig.respond(res.rejected, res.message), nil
	}
	return &grpc.ServiceDesc{
		ServiceName: gen.ServiceName,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: handler}},
		Metadata:    gen.Metadata,
	}
}

// exportGRPC authenticates and decodes a request, converts it, hands its
// body back to grpc-go's pool (no record points into it) and produces its
// records of its client.
func exportGRPC[Req, Resp protobuf.Message](ctx context.Context, s *Service, sig signal[Req, Resp], dec func(any) error) (result, error) {
	client, err := s.authGRPC(ctx)
	if err != nil {
		return result{}, err
	}
	var raw RawRequest
	if err := dec(&raw); err != nil { // a status: over the size limit, or a broken stream
		return result{}, err
	}
	if !s.ready.Load() {
		raw.Free()
		return result{}, errNotReady
	}
	recs, rejs, err := decodeConvert(s, sig, raw.buf.ReadOnlyData(), false, sourceGRPC)
	raw.Free()
	if err != nil {
		return result{}, failure(reasonBadPayload, err)
	}
	return export(ctx, s, sig, transportGRPC, client, recs, rejs)
}

// outcomeOf counts a request that grpc-go itself refused before its
// handler read it.
func outcomeOf(code codes.Code) string {
	if code == codes.ResourceExhausted {
		return outcomeTooLarge
	}
	return outcomeBadRequest
}

// grpcError maps a failed export to the status the OTLP specification asks
// for, with a RetryInfo detail when the client should retry, and returns
// the outcome to count.
func grpcError(err error) (string, error) {
	var e *exportError
	if st, ok := status.FromError(err); ok && !errors.As(err, &e) { // grpc-go's own
		return outcomeOf(st.Code()), err
	}
	a := answerOf(err)
	st := status.New(a.grpc, err.Error())
	if a.retryable {
		if withInfo, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)}); derr == nil {
			st = withInfo
		}
	}
	return a.outcome, st.Err()
}
