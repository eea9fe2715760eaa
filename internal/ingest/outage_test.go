package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/driftlock/driftlock/internal/config"
)

// ledger records what clients were told about each record they sent.
type ledger struct {
	mu          sync.Mutex
	acked       map[string]bool
	sent        int
	retryable   int
	ackedAfter  int // successes after the outage ended
	outageEnded atomic.Bool
	unexpected  []string
}

func (l *ledger) note(bodies []string, ok bool, retryable bool, detail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent += len(bodies)
	switch {
	case ok:
		for _, b := range bodies {
			l.acked[b] = true
		}
		if l.outageEnded.Load() {
			l.ackedAfter++
		}
	case retryable:
		l.retryable++
	default:
		l.unexpected = append(l.unexpected, detail)
	}
}

// TestBrokerOutage injects a broker outage under load: produce requests
// fail with a retriable error code, then lose their acknowledgement after
// the append, then connections are dropped. Clients see only successes and
// retryable answers, every record of a request that got a success is on
// the topic afterwards, and none twice (each request has bodies of its own,
// so a duplicate is a batch written again after its lost acknowledgement).
// Records of failed requests that were written anyway are counted and logged.
func TestBrokerOutage(t *testing.T) {
	// Requests refused while Kafka refuses batches (for longer than the
	// write timeout) are answered as retryable; those whose batch may have
	// been written wait until Kafka tells.
	h := startHarness(t, func(cfg *config.Config) { cfg.Ingest.WriteTimeoutMS = 500 })
	l := &ledger{acked: map[string]bool{}}
	ctx, stopLoad := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 5 {
		var cl collogspb.LogsServiceClient
		if w >= 3 {
			cl = h.logsClient()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.sendLoop(ctx, w, cl, l)
		}()
	}
	time.Sleep(500 * time.Millisecond)
	injectOutage(h.cluster, time.Second)
	l.outageEnded.Store(true)
	time.Sleep(time.Second)
	stopLoad()
	wg.Wait()

	counts := map[string]int{}
	for _, r := range h.consumeAll() {
		_, data := decodeData(t, r)
		counts[data["body"].(string)]++
	}
	var lost, dup, unacked int
	for b := range l.acked {
		if counts[b] == 0 {
			lost++
		}
	}
	for b, n := range counts {
		if n > 1 {
			dup += n - 1
		}
		if !l.acked[b] {
			unacked++
		}
	}
	t.Logf("sent %d records, %d acknowledged, %d retryable answers, %d successes after the outage; "+
		"on the topic: %d distinct, %d duplicates, %d from requests not acknowledged",
		l.sent, len(l.acked), l.retryable, l.ackedAfter, len(counts), dup, unacked)
	if lost > 0 {
		t.Errorf("%d acknowledged records are not on the topic", lost)
	}
	if dup > 0 {
		t.Errorf("%d records written more than once", dup)
	}
	if len(l.unexpected) > 0 {
		t.Errorf("non-retryable failures during the outage: %v", l.unexpected[:min(3, len(l.unexpected))])
	}
	if m := h.metricsText(); !strings.Contains(m, `outcome="unavailable"`) || !anyCounted(m, "driftlock_ingest_kafka_errors_total") {
		t.Errorf("kafka errors and unavailable answers not counted in metrics")
	}
	if l.retryable == 0 || l.ackedAfter == 0 {
		t.Errorf("outage not observed (%d retryable answers) or no recovery (%d successes after)", l.retryable, l.ackedAfter)
	}
}

// injectOutage fails produce requests with NOT_ENOUGH_REPLICAS for d, then
// answers REQUEST_TIMED_OUT after appending (a lost acknowledgement: the
// batch is sent again, and the broker knows it by its sequence) for d/2, then
// drops every connection that sends a produce request for d.
func injectOutage(c *kfake.Cluster, d time.Duration) {
	for _, phase := range []struct {
		err *kerr.Error
		d   time.Duration
	}{{kerr.NotEnoughReplicas, d}, {kerr.RequestTimedOut, d / 2}} {
		fault := c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: phase.err, Count: -1})
		time.Sleep(phase.d)
		fault.Remove()
	}
	var dropping atomic.Bool
	dropping.Store(true)
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if !dropping.Load() {
			c.DropControl()
			return nil, nil, false
		}
		c.KeepControl()
		return nil, errors.New("injected connection drop"), true
	})
	time.Sleep(d)
	dropping.Store(false)
}

// sendLoop sends requests of 10 uniquely named logs until ctx ends, over
// gRPC (when cl is set) or HTTP, and notes each answer in l.
func (h *harness) sendLoop(ctx context.Context, w int, cl collogspb.LogsServiceClient, l *ledger) {
	for r := 0; ctx.Err() == nil; r++ {
		bodies := make([]string, 10)
		for i := range bodies {
			bodies[i] = fmt.Sprintf("w%d-r%d-i%d", w, r, i)
		}
		req := logsRequest(fmt.Sprintf("svc-%d", w), bodies...)
		if cl != nil {
			rctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			_, err := cl.Export(rctx, req)
			cancel()
			l.note(bodies, err == nil, status.Code(err) == codes.Unavailable, fmt.Sprint(err))
		} else {
			code, detail := h.tryPost(req)
			l.note(bodies, code == http.StatusOK, code == http.StatusServiceUnavailable, detail)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// tryPost posts a logs request without failing the test from a goroutine.
func (h *harness) tryPost(req proto.Message) (int, string) {
	body, err := proto.Marshal(req)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := h.client.Post("http://"+h.svc.HTTPAddr()+"/v1/logs", contentTypeProtobuf, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, fmt.Sprintf("%d %q", resp.StatusCode, out)
}

// anyCounted reports whether a series of the counter name is above 0 in
// the metrics text m.
func anyCounted(m, name string) bool {
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, name) && !strings.HasSuffix(line, " 0") {
			return true
		}
	}
	return false
}
