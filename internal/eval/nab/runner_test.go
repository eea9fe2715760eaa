package nab

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/event"
)

func TestMetricEvent(t *testing.T) {
	ts := time.Date(2014, 4, 10, 7, 15, 0, 0, time.UTC)
	ev, err := MetricEvent("art_daily_jumpsup", ts, "42")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(ev)
	if _, err := event.Decode(raw); err != nil {
		t.Fatalf("event does not decode: %v", err)
	}
	if !strings.Contains(string(ev.Data), `"value":42,`) || ev.Timestamp != "2014-04-10T07:15:00.000Z" {
		t.Fatalf("event %s", raw)
	}
	var m event.MetricData
	if err := json.Unmarshal(ev.Data, &m); err != nil || m.Name != "art_daily_jumpsup" || m.Type != "gauge" || len(m.Gauge) != 1 ||
		m.Gauge[0].Timestamp != "2014-04-10T07:15:00Z" || m.Gauge[0].Attributes["service.name"] != Service {
		t.Fatalf("metric %+v (%v)", m, err)
	}
	if _, err := MetricEvent("x", ts, "n/a"); err == nil {
		t.Fatal("want an error for a value that is not a number")
	}
}

// echo raises on each row an event record with the row's value divided by
// 100 as confidence, and on the last row also a weaker window record
// ending there; it records the stream key and offsets it saw.
type echo struct {
	key     string
	offsets []int64
}

func (e *echo) Push(ev event.Event, offset int64) ([]anomaly.Anomaly, error) {
	e.offsets = append(e.offsets, offset)
	var m event.MetricData
	if err := json.Unmarshal(ev.Data, &m); err != nil {
		return nil, err
	}
	v, _ := m.Gauge[0].Value.Float64()
	out := []anomaly.Anomaly{{Kind: anomaly.KindEvent, Scores: anomaly.Scores{Confidence: v / 100},
		Evidence: []anomaly.Evidence{{Offset: offset}}}}
	if offset == 2 {
		out = append(out, anomaly.Anomaly{Kind: anomaly.KindWindow, Scores: anomaly.Scores{Confidence: 0.05},
			Window: anomaly.Window{FirstOffset: 0, LastOffset: 2}})
	}
	return out, nil
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/one.csv", "b/two.csv"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		body := "timestamp,value\n2020-01-01 00:00:00,10\n2020-01-01 00:05:00,20\n2020-01-01 00:10:00,30\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	streams := map[string]*echo{}
	calls := 0
	series, err := Run(context.Background(), RunConfig{
		Data:      dir,
		Workers:   1,
		NewStream: func(key string) (Stream, error) { e := &echo{key: key}; streams[key] = e; return e, nil },
		Progress:  func(done, total int) { calls++ },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 2 || series[0].Path != "a/one.csv" || series[1].Path != "b/two.csv" || calls != 2 {
		t.Fatalf("series %+v, progress calls %d", series, calls)
	}
	if got := series[1].Scores; got[0] != 0.1 || got[2] != 0.3 {
		t.Fatalf("scores %v", got)
	}
	if e := streams["nab|metric|two"]; e == nil || len(e.offsets) != 3 || e.offsets[2] != 2 {
		t.Fatalf("streams %v", streams)
	}
}
