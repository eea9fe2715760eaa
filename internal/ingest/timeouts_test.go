package ingest

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/driftlock/driftlock/internal/admin"
	"github.com/driftlock/driftlock/internal/testkit"
)

// TestIdleConnectionsClosed: idle keep-alive connections to OTLP/HTTP and
// to the admin endpoint are closed after the idle timeout, and one that
// never finishes its headers after the read-header timeout.
func TestIdleConnectionsClosed(t *testing.T) {
	c, _ := testkit.NewCluster(t, kfake.NumBrokers(1))
	short := admin.DefaultTimeouts()
	short.Idle, short.ReadHeader = 200*time.Millisecond, 200*time.Millisecond
	h := runHarness(t, c.ListenAddrs(), nil, WithHTTPTimeouts(short), WithAdminTimeouts(short))
	h.cluster = c
	h.waitReady()
	for _, addr := range []string{h.svc.HTTPAddr(), h.svc.AdminAddr()} {
		for _, req := range []string{
			"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n",
			"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
			"GET /readyz HTTP/1.1\r\nHost: x\r\n",
		} {
			testkit.ExpectClosed(t, addr, req, 3*time.Second)
		}
	}
}

// TestIdleGRPCConnectionClosed: an OTLP/gRPC connection without an RPC
// for the idle timeout is closed by the server (the client's channel falls
// back to idle), and the next export reconnects.
func TestIdleGRPCConnectionClosed(t *testing.T) {
	c, _ := testkit.NewCluster(t, kfake.NumBrokers(1))
	short := admin.DefaultTimeouts()
	short.Idle = 300 * time.Millisecond
	h := runHarness(t, c.ListenAddrs(), nil, WithHTTPTimeouts(short))
	h.cluster = c
	h.waitReady()
	conn, err := grpc.NewClient(h.svc.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	cl := collogspb.NewLogsServiceClient(conn)
	if _, err := cl.Export(exportCtx(t), logsRequest("checkout", "first")); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 5*time.Second, fmt.Sprintf("the connection closed after the idle timeout %v", short.Idle), func() bool {
		return conn.GetState() == connectivity.Idle
	})
	if _, err := cl.Export(exportCtx(t), logsRequest("checkout", "after the idle close")); err != nil {
		t.Fatalf("export after the idle close: %v", err)
	}
}

// TestDefaultTimeouts: the OTLP/HTTP server's write timeout leaves room
// for the Kafka write timeout, and every timeout is set.
func TestDefaultTimeouts(t *testing.T) {
	h := startHarness(t, nil)
	srv := h.svc.http
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.IdleTimeout <= 0 ||
		srv.WriteTimeout < time.Duration(h.cfg.Ingest.WriteTimeoutMS)*time.Millisecond+30*time.Second {
		t.Errorf("OTLP/HTTP timeouts: header %v read %v write %v idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
}
