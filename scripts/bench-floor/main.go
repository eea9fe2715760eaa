// Command bench-floor answers OTLP export requests over gRPC and HTTP
// without decoding or storing them: the cost of receiving and answering
// an export, which any OTLP receiver pays, for the ingest benchmark's
// floor target (scripts/bench-ingest.sh TARGET=floor). Its gRPC server has
// the ingest's settings (flow-control windows and request size limit, as in
// internal/ingest/grpc.go and the default ingest.max_request_bytes); its
// /metrics counts the requests answered.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync/atomic"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetricspb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	protobuf "google.golang.org/protobuf/proto"
)

var requests atomic.Int64

func main() {
	grpcAddr := flag.String("grpc", "127.0.0.1:14317", "OTLP/gRPC address")
	httpAddr := flag.String("http", "127.0.0.1:14318", "OTLP/HTTP address")
	adminAddr := flag.String("admin", "127.0.0.1:18888", "address of /metrics")
	flag.Parse()

	srv := grpc.NewServer(grpc.MaxRecvMsgSize(8<<20),
		grpc.InitialWindowSize(4<<20), grpc.InitialConnWindowSize(16<<20),
		grpc.ForceServerCodecV2(rawCodec{proto: encoding.GetCodecV2(proto.Name)}))
	for _, s := range []struct {
		gen  grpc.ServiceDesc
		resp protobuf.Message
	}{
		{collogspb.LogsService_ServiceDesc, &collogspb.ExportLogsServiceResponse{}},
		{colmetricspb.MetricsService_ServiceDesc, &colmetricspb.ExportMetricsServiceResponse{}},
		{coltracepb.TraceService_ServiceDesc, &coltracepb.ExportTraceServiceResponse{}},
	} {
		srv.RegisterService(serviceDesc(s.gen, s.resp), nil)
	}
	l, err := net.Listen("tcp", *grpcAddr)
	if err != nil {
		log.Fatal(err)
	}
	go func() { log.Fatal(srv.Serve(l)) }()

	mux := http.NewServeMux()
	for _, path := range []string{"/v1/logs", "/v1/metrics", "/v1/traces"} {
		mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.Copy(io.Discard, r.Body); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			requests.Add(1)
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(http.StatusOK) // an empty body is an empty response message
		})
	}
	go func() { log.Fatal(http.ListenAndServe(*httpAddr, mux)) }()

	admin := http.NewServeMux()
	admin.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "floor_requests_total %d\n", requests.Load())
	})
	log.Fatal(http.ListenAndServe(*adminAddr, admin))
}

// serviceDesc serves the Export method of an OTLP service by answering
// resp to whatever request comes.
func serviceDesc(gen grpc.ServiceDesc, resp protobuf.Message) *grpc.ServiceDesc {
	handler := func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		var raw rawRequest
		if err := dec(&raw); err != nil {
			return nil, err
		}
		raw.buf.Free()
		requests.Add(1)
		return resp, nil
	}
	return &grpc.ServiceDesc{
		ServiceName: gen.ServiceName,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: handler}},
		Metadata:    gen.Metadata,
	}
}

// rawRequest receives a request's bytes undecoded.
type rawRequest struct{ buf mem.Buffer }

// rawCodec is the protobuf codec, except that a *rawRequest takes the
// message bytes as they are.
type rawCodec struct{ proto encoding.CodecV2 }

func (c rawCodec) Name() string { return proto.Name }

func (c rawCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

func (c rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	if r, ok := v.(*rawRequest); ok {
		r.buf = data.MaterializeToBuffer(mem.DefaultBufferPool())
		return nil
	}
	return c.proto.Unmarshal(data, v)
}
