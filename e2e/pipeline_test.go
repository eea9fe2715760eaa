package e2e

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// TestPipelineFindsInjectedBurst runs ingest, one detector and the console:
// steady logs, then a burst of new error lines in one service, yields an
// anomaly for that stream whose evidence points at the injected records,
// and an event anomaly at one of the burst's first lines.
func TestPipelineFindsInjectedBurst(t *testing.T) {
	needKafka(t)
	n := newNames(t, newAdmin(t), nil)
	in := startIngest(t, n)
	startDetector(t, "detector", n)
	console := startConsole(t, n)

	checkout := "checkout-" + runID
	sc := scenario{
		Services:  []string{checkout, "payments-" + runID, "cart-" + runID},
		PerStream: 480,
		Bursts:    map[string]burst{checkout: {From: 320, To: 370}},
	}
	started := time.Now()
	acked := sendAll(t, in, sc.requests(16), 0, nil)
	recs := checkAcked(t, n.Events, acked)

	injected := map[int64]bool{}
	partition := int32(-1)
	for _, r := range recs {
		if strings.Contains(r.Value(), injectedMarker) {
			injected[r.Offset] = true
			partition = r.Partition
		}
	}
	if len(injected) != 50 {
		t.Fatalf("found %d injected records on the events topic, want 50", len(injected))
	}

	a, all := waitAnomaly(t, n.Anomalies, checkout+"|log", 120*time.Second)
	t.Logf("anomaly %s after %s: window %d-%d, confidence %.3f; %d anomalies in all",
		a.ID, time.Since(started).Round(time.Millisecond), a.Window.FirstOffset, a.Window.LastOffset, a.Scores.Confidence, len(all))
	if int32(a.Window.Partition) != partition {
		t.Errorf("anomaly window on partition %d, injected records on %d", a.Window.Partition, partition)
	}
	hits := 0
	for _, e := range a.Evidence {
		if injected[e.Offset] {
			hits++
		}
	}
	if len(a.Evidence) == 0 || 2*hits < len(a.Evidence) {
		t.Errorf("%d of %d evidence offsets point at injected records: %+v", hits, len(a.Evidence), a.Evidence)
	}
	for _, other := range all {
		if other.Stream.Key != checkout+"|log" {
			t.Logf("anomaly on a steady stream: %s %s (confidence %.3f)", other.Stream.Key, other.ID, other.Scores.Confidence)
		}
	}
	checkConsoleLists(t, console.admin, a.ID)
	checkEventAnomaly(t, n.Anomalies, checkout+"|log", injected)
}

// checkEventAnomaly waits for the event anomaly of stream key and checks
// that the event that raised it is one of the burst's first 32 injected
// records, and that every record of the stream that names an injected
// record shares its incident.
func checkEventAnomaly(t *testing.T, topic, key string, injected map[int64]bool) {
	t.Helper()
	offsets := make([]int64, 0, len(injected))
	for off := range injected {
		offsets = append(offsets, off)
	}
	slices.Sort(offsets)
	firstLines := map[int64]bool{}
	for _, off := range offsets[:min(32, len(offsets))] {
		firstLines[off] = true
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, all := waitAnomaly(t, topic, key, time.Second)
		var ev *anomaly.Anomaly
		for i := range all {
			if all[i].Stream.Key == key && all[i].Kind == anomaly.KindEvent && ev == nil {
				ev = &all[i]
			}
		}
		if ev != nil {
			if !firstLines[ev.Evidence[0].Offset] {
				t.Errorf("event anomaly %s raised at offset %d, not one of the burst's first 32 lines: %s", ev.ID, ev.Evidence[0].Offset, ev.Explanation)
			}
			for _, a := range all {
				if a.Stream.Key == key && injected[a.Named()] && a.Incident != ev.Incident {
					t.Errorf("%s record %s (evidence at %d) is not in the burst's incident %s", a.Kind, a.ID, a.Named(), ev.Incident)
				}
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event anomaly for %s within 60 s (%d records)", key, len(all))
		}
		time.Sleep(time.Second)
	}
}

// waitAnomaly reads the anomalies topic until it holds an anomaly of stream
// key, and returns the first one and all decoded so far.
func waitAnomaly(t *testing.T, topic, key string, timeout time.Duration) (anomaly.Anomaly, []anomaly.Anomaly) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var all []anomaly.Anomaly
		for _, r := range readTopic(t, topic) {
			checkAnomalySchema(t, r)
			a, err := anomaly.Decode([]byte(r.Value()))
			if err != nil {
				t.Fatalf("anomalies offset %d: %v", r.Offset, err)
			}
			if r.KeyString() != a.Stream.Key {
				t.Errorf("anomaly %s keyed %q, its stream is %q", a.ID, r.KeyString(), a.Stream.Key)
			}
			all = append(all, a)
		}
		for _, a := range all {
			if a.Stream.Key == key {
				return a, all
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no anomaly for %s on %s within %s (%d others)", key, topic, timeout, len(all))
		}
		time.Sleep(time.Second)
	}
}

// checkConsoleLists checks that the console's API lists the anomaly.
func checkConsoleLists(t *testing.T, addr, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body, err := httpGet(context.Background(), "http://"+addr+"/api/v1/anomalies")
		if err == nil && code == http.StatusOK && strings.Contains(body, id) {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("console /api/v1/anomalies does not list %s: %d %v %.300s", id, code, err, body)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkAnomalySchema checks an anomaly-events record against its JSON Schema.
func checkAnomalySchema(t *testing.T, r record) {
	t.Helper()
	if s := loadSchema(t, "anomaly-event.schema.json"); s != nil {
		if err := s.Validate([]byte(r.Value())); err != nil {
			t.Errorf("%s offset %d: not valid against api/anomaly-event.schema.json: %v: %s", r.Topic, r.Offset, err, r.Value())
		}
	}
}
