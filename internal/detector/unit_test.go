package detector

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

func TestTrackerCommitsHighestContiguousAckedOffset(t *testing.T) {
	tr := newTracker(-1)
	check := func(want int64, wantIdle bool) {
		t.Helper()
		if got, idle := tr.committable(); got != want || idle != wantIdle {
			t.Fatalf("committable = %d, %v; want %d, %v", got, idle, want, wantIdle)
		}
	}
	check(-1, true)
	tr.processed(10)
	check(11, true)
	tr.enqueued(11) // record 11 yields an anomaly
	tr.processed(11)
	tr.processed(12)
	tr.enqueued(13)
	tr.processed(13)
	tr.processed(14)
	check(11, false) // 11's anomaly is not acknowledged: records from 11 on must be re-read
	tr.acked(1)
	check(13, false)
	tr.acked(1)
	check(15, true)
}

func TestStreamTableEvictsLeastRecentlySeen(t *testing.T) {
	created := map[string]int{}
	f := func(key string, _ cbad.Config) (scorer, error) { created[key]++; return nopScorer{}, nil }
	tab := newStreamTable(2, cbad.Config{}, f)
	id := func(k string) streamID { return streamID{key: k} }
	steps := []struct {
		key     string
		evicted bool
	}{{"a", false}, {"b", false}, {"a", false}, {"c", true}, {"a", false}, {"b", true}}
	for i, s := range steps {
		if _, ev, err := tab.get(id(s.key)); err != nil || ev != s.evicted {
			t.Fatalf("step %d get(%s): evicted %v err %v; want evicted %v", i, s.key, ev, err, s.evicted)
		}
	}
	// b was least recently seen when c came, and c when b came back.
	if created["b"] != 2 || created["a"] != 1 || created["c"] != 1 || tab.len() != 2 {
		t.Fatalf("created %v, len %d", created, tab.len())
	}
	if _, ok := tab.byKey["c"]; ok {
		t.Fatal("c should have been evicted")
	}
}

type nopScorer struct{}

func (nopScorer) Push(event.Decoded, int64) (cbad.Result, error) { return cbad.Result{}, nil }
func (nopScorer) SizeBytes() int                                 { return 1 }
func (nopScorer) AppendSnapshot(dst []byte) []byte               { return dst }

func TestIDsAndConfigHashAreStable(t *testing.T) {
	d := config.Default().Detector
	h := ConfigHash(d)
	if len(h) != 16 || h != ConfigHash(d) {
		t.Fatalf("config hash %q not stable", h)
	}
	d2 := d
	d2.AdminEndpoint = "127.0.0.1:1"
	d2.GroupID = "other"
	if ConfigHash(d2) != h {
		t.Fatal("settings that do not change results changed the config hash")
	}
	for _, change := range []func(*config.Detector){
		func(d *config.Detector) { d.WindowSize++ },
		func(d *config.Detector) { d.Seed++ },
		func(d *config.Detector) { d.Threshold = 0.95 },
		func(d *config.Detector) { d.MaxStreams++ },
		func(d *config.Detector) { d.Compressor = "gzip" },
	} {
		d3 := d
		change(&d3)
		if ConfigHash(d3) == h {
			t.Errorf("changed scoring setting kept hash %s", h)
		}
	}
	id := AnomalyID("window", "checkout|log", 2, 100, 163, h)
	if len(id) != 32 || id != AnomalyID("window", "checkout|log", 2, 100, 163, h) {
		t.Fatalf("id %q not stable", id)
	}
	for _, other := range []string{
		AnomalyID("window", "checkout|log", 1, 100, 163, h), AnomalyID("window", "checkout|log", 2, 101, 163, h),
		AnomalyID("window", "checkout|log", 2, 100, 164, h), AnomalyID("window", "cart|log", 2, 100, 163, h),
		AnomalyID("window", "checkout|log", 2, 100, 163, "0000000000000000"),
		AnomalyID("event", "checkout|log", 2, 100, 163, h), IncidentID("checkout|log", 2, 100, h),
	} {
		if other == id {
			t.Errorf("distinct detections share id %s", id)
		}
	}
}

func TestDecodeRecord(t *testing.T) {
	logValue, _ := json.Marshal(event.Event{Type: event.TypeLog, Timestamp: "2026-03-01T12:00:00.000Z",
		Data: json.RawMessage(`{"body":"hi","attributes":{"service.name":"cart"}}`)})
	metricValue, _ := json.Marshal(event.Event{Type: event.TypeMetric, Timestamp: "2026-03-01T12:00:00.000Z",
		Data: json.RawMessage(`{"name":"queue.depth","type":"gauge","gauge":[{"value":1,"attributes":{"service.name":"search"}}]}`)})
	cases := []struct {
		name    string
		msg     kafka.Message
		key     string
		reason  string
		service string
	}{
		{"keyed", kafka.Message{Key: []byte("cart|log"), Value: logValue}, "cart|log", "", "cart"},
		{"derived from attributes", kafka.Message{Value: logValue}, "cart|log", "", "cart"},
		{"derived from header", kafka.Message{Value: logValue, Headers: []kafka.Header{{Key: "service.name", Value: []byte("web")}}}, "web|log", "", "web"},
		{"metric derived from point", kafka.Message{Value: metricValue}, "search|metric|queue.depth", "", "search"},
		{"not json", kafka.Message{Key: []byte("cart|log"), Value: []byte("{")}, "", reasonNotJSON, ""},
		{"bad key", kafka.Message{Key: []byte("|log"), Value: logValue}, "", reasonBadKey, ""},
		{"key of another signal", kafka.Message{Key: []byte("cart|metric|x"), Value: logValue}, "", reasonKeyMismatch, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, id, err := decodeRecord(c.msg)
			var ie *invalidError
			switch {
			case c.reason == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.reason != "" && (!errors.As(err, &ie) || ie.reason != c.reason):
				t.Fatalf("err = %v, want reason %s", err, c.reason)
			case c.reason == "" && (id.key != c.key || id.service != c.service):
				t.Fatalf("stream = %+v, want key %s service %s", id, c.key, c.service)
			}
		})
	}
}

func TestNewRejectsBadConfigAndClosesUnused(t *testing.T) {
	bus, err := kafkabus.New(config.Default().Kafka)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	cfg := config.Default()
	cfg.Detector.HopSize = 0
	if _, err := New(cfg, bus, testkit.QuietLog()); err == nil || err.Error() != "invalid value 0 for detector.hop_size: must be between 1 and detector.window_size" {
		t.Fatalf("err = %v", err)
	}
	cfg = config.Default()
	cfg.Detector.AdminEndpoint = "127.0.0.1:0"
	s, err := New(cfg, bus, testkit.QuietLog())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Detector.AdminEndpoint = s.AdminAddr()
	if _, err := New(cfg, bus, testkit.QuietLog()); err == nil || !strings.Contains(err.Error(), "detector.admin_endpoint") {
		t.Fatalf("second New on a bound address: err = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Fatal("Run after Close succeeded")
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte("cart|log"), []byte(`{"type":"log","data":{"body":"x"},"timestamp":"2026-03-01T12:00:00.000Z"}`))
	f.Add([]byte(""), []byte(`{"type":"metric","data":{"name":"m","gauge":[{"attributes":{"service.name":"s"}}]},"timestamp":"2026-03-01T12:00:00Z"}`))
	f.Add([]byte("a|metric|"), []byte(`{"type":"span","data":{},"timestamp":"x"}`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		ev, id, err := decodeRecord(kafka.Message{Key: key, Value: value})
		if err != nil {
			var ie *invalidError
			if !errors.As(err, &ie) || ie.reason == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if _, signal, _, perr := event.ParseStreamKey(id.key); perr != nil || signal != ev.Type {
			t.Fatalf("accepted record with stream %q for a %s event: %v", id.key, ev.Type, perr)
		}
	})
}
