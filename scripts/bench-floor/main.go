// Command bench-floor answers OTLP export requests over gRPC and HTTP
// without decoding or storing them: the cost of receiving and answering
// an export, which any OTLP receiver pays, for the ingest benchmark's
// floor target (scripts/bench-ingest.sh TARGET=floor). Its gRPC server has
// the ingest's options (ingest.GRPCServerOptions with the default
// ingest.max_request_bytes); its /metrics counts the requests answered.
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
	protobuf "google.golang.org/protobuf/proto"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/ingest"
)

var requests atomic.Int64

func main() {
	grpcAddr := flag.String("grpc", "127.0.0.1:14317", "OTLP/gRPC address")
	httpAddr := flag.String("http", "127.0.0.1:14318", "OTLP/HTTP address")
	adminAddr := flag.String("admin", "127.0.0.1:18888", "address of /metrics")
	flag.Parse()

	srv := grpc.NewServer(ingest.GRPCServerOptions(config.Default().Ingest.MaxRequestBytes)...)
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
		var raw ingest.RawRequest
		if err := dec(&raw); err != nil {
			return nil, err
		}
		raw.Free()
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
