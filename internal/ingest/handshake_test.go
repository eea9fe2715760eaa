package ingest

import (
	"bytes"
	"context"
	"crypto/tls"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

// recordLog keeps every log record.
type recordLog struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recordLog) WithGroup(string) slog.Handler            { return h }
func (h *recordLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}

// lines returns the records of message msg at level, each as its
// attributes "key=value" joined by spaces.
func (h *recordLog) lines(level slog.Level, msg string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		if r.Level != level || r.Message != msg {
			continue
		}
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(a.String() + " ")
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// TestTLSHandshakeErrorsLogged: failed handshakes on both OTLP servers (no
// client certificate, one of an unknown CA, a TLS version below
// min_version, a client closing at once) are counted by server and logged through the service's logger, at
// most one line per serverLogEvery, the next line telling how many were
// held back; nothing reaches the standard library's logger.
func TestTLSHandshakeErrorsLogged(t *testing.T) {
	var std bytes.Buffer
	defer log.SetOutput(log.Writer())
	log.SetOutput(&std)
	pki := testkit.NewPKI(t)
	cluster, _ := testkit.NewCluster(t, kfake.NumBrokers(1))
	rec := &recordLog{}
	clock := testkit.NewManualClock(time.Now())
	h := runHarnessLog(t, cluster.ListenAddrs(), func(c *config.Config) {
		c.Ingest.TLS = serverTLS(pki, true)
		c.Ingest.TLS.MinVersion = "1.3"
		c.Kafka.BatchTimeoutMS = 0 // batches go without the clock moving
	}, slog.New(rec), WithClock(clock))
	h.cluster = cluster
	h.waitReady()

	noCert := pki.ClientTLS(false)
	stranger := pki.ClientTLS(false) // a certificate of a CA the server does not trust
	stranger.Certificates = []tls.Certificate{testkit.NewPKI(t).Client}
	old := pki.ClientTLS(true)
	old.MaxVersion = tls.VersionTLS12
	for _, server := range []string{transportGRPC, transportHTTP} {
		addr := otlpAddr(h, "otlp-"+server)
		for _, cfg := range []*tls.Config{noCert, stranger, old} {
			failHandshake(t, addr, cfg)
		}
		conn, err := net.Dial("tcp", addr) // a TCP health check: connects, closes
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	want := []string{
		`driftlock_ingest_tls_handshake_errors_total{server="grpc"} 4`,
		`driftlock_ingest_tls_handshake_errors_total{server="http"} 4`,
	}
	testkit.WaitFor(t, 10*time.Second, "8 handshake failures counted", func() bool {
		text := h.metricsText()
		return containsLine(text, want[0]) && containsLine(text, want[1])
	})
	if got := rec.lines(slog.LevelWarn, "TLS handshake failed"); len(got) != 1 {
		t.Errorf("%d warnings before the clock moved, want 1: %q", len(got), got)
	}

	clock.Advance(serverLogEvery)
	failHandshake(t, h.svc.HTTPAddr(), noCert)
	testkit.WaitFor(t, 10*time.Second, "a second warning", func() bool {
		return len(rec.lines(slog.LevelWarn, "TLS handshake failed")) == 2
	})
	got := rec.lines(slog.LevelWarn, "TLS handshake failed")
	if !strings.Contains(got[0], "tls: ") || !strings.Contains(got[0], "remote=127.0.0.1:") {
		t.Errorf("first warning %q does not name the TLS error and the client", got[0])
	}
	// 6 warnings and 2 debug lines held back: the 7 after the first.
	if !strings.Contains(got[1], "server=http") || !strings.Contains(got[1], "lines_held_back=7") ||
		!strings.Contains(got[1], "certificate") {
		t.Errorf("second warning %q, want the missing certificate on http and 5 lines held back", got[1])
	}
	if std.Len() > 0 {
		t.Errorf("the standard logger got %q", std.String())
	}
}

// failHandshake connects to addr with cfg and reads until the server ends
// the connection; the handshake must fail on the server's side.
func failHandshake(t *testing.T, addr string, cfg *tls.Config) {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return // refused during the client's part of the handshake
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Errorf("%s: a handshake that should fail got data", addr)
	}
}
