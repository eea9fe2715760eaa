package console

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/testkit"
)

// sseEvent is one parsed Server-Sent Event or comment.
type sseEvent struct {
	name, id, data, comment string
}

// sseConn reads events from a live-stream response.
type sseConn struct {
	resp   *http.Response
	events chan sseEvent
	done   chan struct{}
}

func openSSE(t *testing.T, url string, header ...string) (*sseConn, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	c := &sseConn{resp: resp, events: make(chan sseEvent, 100), done: make(chan struct{})}
	go c.read()
	t.Cleanup(c.close)
	return c, resp.StatusCode
}

func (c *sseConn) read() {
	defer close(c.done)
	defer close(c.events)
	sc := bufio.NewScanner(c.resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev != (sseEvent{}) {
				c.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			ev.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			ev.name = line[7:]
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

func (c *sseConn) close() {
	c.resp.Body.Close()
	<-c.done
}

// nextAnomaly returns the next anomaly event, skipping comments.
func (c *sseConn) nextAnomaly(t *testing.T) (Item, string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				t.Fatal("live stream ended")
			}
			if ev.name == "" {
				continue
			}
			if ev.name != "anomaly" {
				t.Fatalf("event name %q, want anomaly", ev.name)
			}
			var it Item
			if err := json.Unmarshal([]byte(ev.data), &it); err != nil {
				t.Fatal(err)
			}
			if ev.id != fmt.Sprint(it.Sequence) {
				t.Fatalf("event id %q for sequence %d", ev.id, it.Sequence)
			}
			return it, ev.id
		case <-timeout:
			t.Fatal("no anomaly event within 20s")
		}
	}
}

// nextHeartbeat waits for a heartbeat comment and fails on any event first.
func (c *sseConn) nextHeartbeat(t *testing.T) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-c.events:
			if ev.name != "" {
				t.Fatalf("unexpected event %s id %s", ev.name, ev.id)
			}
			if ev.comment == "heartbeat" {
				return
			}
		case <-timeout:
			t.Fatal("no heartbeat within 20s")
		}
	}
}

func TestSSELiveAndResume(t *testing.T) {
	cfg := testConfig(t)
	r := startConsole(t, cfg, WithHeartbeat(150*time.Millisecond))
	c, _ := openSSE(t, r.url+"/api/v1/stream")
	publish(t, cfg, sample("a1", "checkout", "log", 0.97, 1))
	it, id := c.nextAnomaly(t)
	if it.ID != "a1" || it.Explanation == "" || len(it.Evidence) != 2 {
		t.Fatalf("live event = %+v", it)
	}
	c.nextHeartbeat(t)
	c.close()

	// While disconnected, three more arrive; resume gets exactly those.
	publish(t, cfg, sample("a2", "checkout", "log", 0.97, 2), sample("a3", "payments", "span", 0.99, 3), sample("a4", "checkout", "log", 0.91, 4))
	testkit.WaitFor(t, 20*time.Second, "4 anomalies", func() bool { return r.retained(t) == 4 })
	c2, _ := openSSE(t, r.url+"/api/v1/stream", "Last-Event-ID", id)
	var got []string
	var last uint64
	for range 3 {
		it, _ := c2.nextAnomaly(t)
		if it.Sequence <= last {
			t.Fatalf("sequence %d after %d", it.Sequence, last)
		}
		last = it.Sequence
		got = append(got, it.ID)
	}
	sort.Strings(got) // records of different streams may arrive in any order
	if strings.Join(got, ",") != "a2,a3,a4" {
		t.Fatalf("resumed events = %v, want a2, a3 and a4", got)
	}
	c2.nextHeartbeat(t) // and nothing more

	// The query parameter works like the header, for a first connection.
	c3, _ := openSSE(t, r.url+"/api/v1/stream?last_event_id=3")
	if it, _ := c3.nextAnomaly(t); it.Sequence != 4 {
		t.Fatalf("last_event_id=3 replayed sequence %d, want 4", it.Sequence)
	}
	c3.nextHeartbeat(t)
}

func TestSSEClientCap(t *testing.T) {
	cfg := testConfig(t)
	cfg.Console.MaxSSEClients = 2
	r := startConsole(t, cfg)
	c1, _ := openSSE(t, r.url+"/api/v1/stream")
	openSSE(t, r.url+"/api/v1/stream")
	if got := r.metric(t, "driftlock_console_sse_clients"); got != 2 {
		t.Fatalf("sse clients gauge = %v", got)
	}
	var e errorBody
	if code := getJSON(t, r.url+"/api/v1/stream", &e); code != http.StatusServiceUnavailable ||
		e.Error != "too many live-stream clients (console.max_sse_clients=2)" {
		t.Fatalf("third client: %d %q", code, e.Error)
	}
	c1.close()
	testkit.WaitFor(t, 10*time.Second, "a free slot", func() bool { return r.metric(t, "driftlock_console_sse_clients") == 1 })
	if _, code := openSSE(t, r.url+"/api/v1/stream"); code != http.StatusOK {
		t.Fatalf("client after a slot freed: %d", code)
	}
}

// TestSSEResumeAcrossRestart: sequences keep growing across restarts, so a
// client resuming with an id from the previous run gets the new run's view
// rather than a slice of it.
func TestSSEResumeAcrossRestart(t *testing.T) {
	cfg := testConfig(t)
	first := startConsole(t, cfg, withSequenceBase(-1))
	c, _ := openSSE(t, first.url+"/api/v1/stream")
	publish(t, cfg, sample("r1", "checkout", "log", 0.95, 1), sample("r2", "checkout", "log", 0.95, 2))
	c.nextAnomaly(t)
	_, lastID := c.nextAnomaly(t)
	c.close()
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	second := startConsole(t, cfg, withSequenceBase(-1), WithHeartbeat(150*time.Millisecond))
	c2, _ := openSSE(t, second.url+"/api/v1/stream", "Last-Event-ID", lastID)
	a, id1 := c2.nextAnomaly(t)
	b, id2 := c2.nextAnomaly(t)
	if a.ID != "r1" || b.ID != "r2" || id1 <= lastID || id2 <= id1 {
		t.Fatalf("after restart got %s (%s), %s (%s); previous run ended at %s", a.ID, id1, b.ID, id2, lastID)
	}
	c2.nextHeartbeat(t)
}
