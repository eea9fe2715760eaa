package admin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/driftlock/driftlock/internal/testkit"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestEndpoints(t *testing.T) {
	reg := NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "driftlock_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	var down atomic.Bool
	mux := http.NewServeMux()
	Handle(mux, reg, func(context.Context) error {
		if down.Load() {
			return errors.New("kafka metadata: connection refused")
		}
		return nil
	})
	srv, err := Listen("127.0.0.1:0", mux)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.Addr()

	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ready\n" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	down.Store(true)
	if code, body := get(t, base+"/readyz"); code != 503 || body != "not ready: kafka metadata: connection refused\n" {
		t.Errorf("/readyz while down = %d %q", code, body)
	}
	if code, body := get(t, base+"/metrics"); code != 200 || !strings.Contains(body, "driftlock_test_total 3") || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d, missing series:\n%s", code, body)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil after a clean shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestListenBusyPort(t *testing.T) {
	srv, err := Listen("127.0.0.1:0", http.NewServeMux())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.ln.Close()
	if _, err := Listen(srv.Addr(), http.NewServeMux()); err == nil || !strings.Contains(err.Error(), "listen "+srv.Addr()) {
		t.Fatalf("second Listen = %v, want an error naming the address", err)
	}
}

// TestIdleConnectionClosed: a keep-alive connection that sends nothing
// after its request is closed once the idle timeout passed, and one that
// never finishes its headers once the read-header timeout passed.
func TestIdleConnectionClosed(t *testing.T) {
	to := DefaultTimeouts()
	to.Idle, to.ReadHeader = 200*time.Millisecond, 200*time.Millisecond
	srv, err := ListenTimeouts("127.0.0.1:0", http.NewServeMux(), to)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	for _, req := range []string{
		"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", // answered, then idle
		"GET /healthz HTTP/1.1\r\nHost: x\r\n",     // headers never finished
	} {
		testkit.ExpectClosed(t, srv.Addr(), req, 3*time.Second)
	}
}
