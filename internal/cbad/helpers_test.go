package cbad

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func logEvent(i int, sev, body string, attrs map[string]any) event.Event {
	ts := t0.Add(time.Duration(i) * 10 * time.Millisecond)
	d, _ := json.Marshal(event.LogData{Timestamp: event.FormatNanos(ts), Severity: sev, Body: body, Attributes: attrs})
	return event.Event{Type: event.TypeLog, Data: d, Timestamp: event.FormatTimestamp(ts), Source: "test"}
}

func metricEvent(i int, v float64) event.Event {
	ts := t0.Add(time.Duration(i) * time.Second)
	d, _ := json.Marshal(event.MetricData{Name: "latency", Type: "gauge",
		Gauge: []event.NumberPoint{{Timestamp: event.FormatNanos(ts), Value: json.Number(fmt.Sprint(v))}}})
	return event.Event{Type: event.TypeMetric, Data: d, Timestamp: event.FormatTimestamp(ts), Source: "test"}
}

// steadyLine returns a realistic line of a steady service.
func steadyLine(r *rand.Rand) (string, string) {
	switch r.IntN(10) {
	case 0, 1, 2:
		return "INFO", fmt.Sprintf("GET /api/v1/orders/%d 200 %dms", r.IntN(100000), r.IntN(80))
	case 3, 4:
		return "INFO", fmt.Sprintf("user %x logged in from 10.0.%d.%d", r.Uint32(), r.IntN(255), r.IntN(255))
	case 5, 6:
		return "DEBUG", fmt.Sprintf("cache hit ratio %.2f for shard %d", r.Float64(), r.IntN(16))
	case 7:
		return "INFO", fmt.Sprintf("POST /api/v1/checkout 201 %dms", 20+r.IntN(200))
	case 8:
		return "WARN", fmt.Sprintf("slow query took %dms on table orders", 500+r.IntN(500))
	default:
		return "INFO", fmt.Sprintf("request_id=%08x completed", r.Uint32())
	}
}

// dec decodes a test event's data as the detector does before scoring.
func dec(ev event.Event) event.Decoded {
	d, err := event.DecodeData(ev)
	if err != nil {
		panic(err)
	}
	return d
}

// pushAll pushes events with offsets 0.. and returns all results.
func pushAll(t testing.TB, s *Stream, evs []event.Event) []Result {
	t.Helper()
	out := make([]Result, 0, len(evs))
	for i, ev := range evs {
		r, err := s.Push(dec(ev), int64(i))
		if err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
		out = append(out, r)
	}
	return out
}

func judgements(rs []Result) []*Judgement {
	var out []*Judgement
	for _, r := range rs {
		if r.Judgement != nil {
			out = append(out, r.Judgement)
		}
	}
	return out
}

func anomalies(rs []Result) []*Judgement {
	var out []*Judgement
	for _, j := range judgements(rs) {
		if j.Anomalous {
			out = append(out, j)
		}
	}
	return out
}

// datasets locates ../../../shared/datasets or DRIFTLOCK_DATASETS.
func datasets(t testing.TB) string {
	dir := os.Getenv("DRIFTLOCK_DATASETS")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("datasets folder %s is absent (set DRIFTLOCK_DATASETS to run this test)", dir)
	}
	return dir
}
