package console

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

// sseWriter records what a live-stream handler writes; when gate is not
// nil, every write after the first waits for it to close.
type sseWriter struct {
	mu     sync.Mutex
	header http.Header
	buf    bytes.Buffer
	writes int
	gate   chan struct{}
}

func (w *sseWriter) Header() http.Header { return w.header }
func (w *sseWriter) WriteHeader(int)     {}
func (w *sseWriter) Flush()              {}

func (w *sseWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.writes++
	blocked := w.gate != nil && w.writes > 1
	w.mu.Unlock()
	if blocked {
		<-w.gate
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

func (w *sseWriter) events() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Count(w.buf.String(), "event: anomaly\n")
}

// TestSlowClientDoesNotBlockOthers: a client that stops reading is dropped
// once its buffer is full, while another client gets every event.
func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	cfg := config.Default()
	s := &Service{cfg: cfg, log: testkit.QuietLog(), opts: options{heartbeat: time.Hour}, stop: make(chan struct{})}
	s.store = testStore(t, 100, 10, 2)
	s.m = s.store.m

	serve := func(w *sseWriter) (cancel func(), done chan struct{}) {
		ctx, cancel := context.WithCancel(context.Background())
		done = make(chan struct{})
		go func() {
			defer close(done)
			s.serveSSE(w, httptest.NewRequest(http.MethodGet, "/api/v1/stream", nil).WithContext(ctx))
		}()
		return cancel, done
	}
	slow := &sseWriter{header: http.Header{}, gate: make(chan struct{})}
	fast := &sseWriter{header: http.Header{}}
	cancelSlow, slowDone := serve(slow)
	defer cancelSlow()
	cancelFast, fastDone := serve(fast)
	testkit.WaitFor(t, 10*time.Second, "two clients", func() bool { return testutil.ToFloat64(s.m.sseClients) == 2 })

	const n = 20
	for i := range n {
		s.store.add(sample(fmt.Sprintf("s%d", i), "checkout", "log", 0.95, i))
		// The fast client keeps up: it has each event before the next.
		testkit.WaitFor(t, 10*time.Second, "the event at the fast client", func() bool { return fast.events() == i+1 })
	}
	if got := testutil.ToFloat64(s.m.sseDropped); got != 1 {
		t.Errorf("dropped clients = %v, want 1", got)
	}
	close(slow.gate)
	select {
	case <-slowDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the dropped client's handler did not return")
	}
	if slow.events() >= n {
		t.Errorf("the slow client got all %d events", n)
	}
	cancelFast()
	<-fastDone
	if got := testutil.ToFloat64(s.m.sseClients); got != 0 {
		t.Errorf("clients = %v after both left", got)
	}
}
