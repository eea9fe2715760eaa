package console

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/admin"
)

// TestHTTPTimeouts: with short timeouts, an idle keep-alive connection and
// one that never finishes its headers are closed, while the live stream
// keeps running past the read and write timeouts.
func TestHTTPTimeouts(t *testing.T) {
	short := admin.Timeouts{ReadHeader: 200 * time.Millisecond, Read: 300 * time.Millisecond,
		Write: 300 * time.Millisecond, Idle: 200 * time.Millisecond}
	r := startConsole(t, testConfig(t), WithHTTPTimeouts(short), WithHeartbeat(100*time.Millisecond))
	addr := r.svc.Addr()
	for _, req := range []string{
		"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := io.Copy(io.Discard, conn); err != nil {
			t.Errorf("%q: connection still open after 3 s: %v", req, err)
		}
		conn.Close()
	}

	c, code := openSSE(t, r.url+"/api/v1/stream")
	if code != 200 {
		t.Fatalf("SSE: %d", code)
	}
	beats := 0
	deadline := time.After(1500 * time.Millisecond)
	for done := false; !done; {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatalf("live stream closed after %d heartbeats, before 1.5 s", beats)
			}
			if ev.comment == "heartbeat" {
				beats++
			}
		case <-deadline:
			done = true
		}
	}
	if beats < 8 {
		t.Errorf("%d heartbeats in 1.5 s, want about 15", beats)
	}
}
