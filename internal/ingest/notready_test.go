package ingest

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/driftlock/driftlock/internal/testkit"
)

// closedPort returns a loopback address on which nothing listens.
func closedPort(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, ln.Addr().(*net.TCPAddr).Port
}

// TestKafkaUnreachableAtStart: an ingest started while its broker is down
// answers every export at once with 503 + Retry-After (HTTP) or
// UNAVAILABLE (gRPC), is not ready, and serves once the broker appears.
func TestKafkaUnreachableAtStart(t *testing.T) {
	addr, port := closedPort(t)
	h := runHarness(t, []string{addr}, nil)
	body := mustMarshal(t, logsRequest("checkout", "before the broker"))
	cl := h.logsClient()
	for range 3 {
		start := time.Now()
		code, _, hdr := h.post("/v1/logs", contentTypeProtobuf, body, nil)
		if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
			t.Fatalf("POST while kafka is down = %d (Retry-After %q), want 503 with Retry-After", code, hdr.Get("Retry-After"))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := cl.Export(ctx, logsRequest("checkout", "before the broker"))
		cancel()
		if status.Code(err) != codes.Unavailable {
			t.Fatalf("gRPC export while kafka is down = %v, want UNAVAILABLE", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("answers while kafka is down took %v, want them at once", d)
		}
		if code := h.readyz(); code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz while kafka is down = %d, want 503", code)
		}
		time.Sleep(100 * time.Millisecond)
	}

	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.Ports(port))
	if err != nil {
		t.Fatalf("start broker on %s: %v", addr, err)
	}
	h.cluster = c
	h.waitReady()
	if code, out, _ := h.post("/v1/logs", contentTypeProtobuf, body, nil); code != http.StatusOK {
		t.Fatalf("POST once kafka is up = %d %s, want 200", code, out)
	}
	if _, err := cl.Export(exportCtx(t), logsRequest("checkout", "after the broker")); err != nil {
		t.Fatalf("gRPC export once kafka is up: %v", err)
	}
	got := h.metricsText()
	if !containsLine(got, `driftlock_ingest_requests_total{outcome="unavailable",signal="logs",transport="http"} 3`) {
		t.Errorf("metrics do not count the 3 unavailable HTTP requests:\n%s", got)
	}
	// Every answered request is timed, whatever its outcome: 3 + 1 of each transport.
	for _, line := range []string{
		`driftlock_ingest_request_duration_seconds_count{signal="logs",transport="http"} 4`,
		`driftlock_ingest_request_duration_seconds_count{signal="logs",transport="grpc"} 4`,
	} {
		if !containsLine(got, line) {
			t.Errorf("metrics lack %s:\n%s", line, got)
		}
	}
}

func (h *harness) readyz() int {
	h.t.Helper()
	resp, err := h.client.Get("http://" + h.svc.AdminAddr() + "/readyz")
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func containsLine(text, line string) bool {
	return slices.Contains(strings.Split(text, "\n"), line)
}

// TestReadyzFollowsTheBroker: /readyz answers 503 within a few seconds of
// the broker going away.
func TestReadyzFollowsTheBroker(t *testing.T) {
	h := startHarness(t, nil)
	if code, _, _ := h.post("/v1/logs", contentTypeProtobuf, mustMarshal(t, logsRequest("checkout", "one")), nil); code != http.StatusOK {
		t.Fatalf("POST = %d, want 200", code)
	}
	h.cluster.Close()
	testkit.WaitFor(t, 5*time.Second, "/readyz 503 after the broker went away", func() bool {
		return h.readyz() == http.StatusServiceUnavailable
	})
}
