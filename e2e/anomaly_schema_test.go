package e2e

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/driftlock/driftlock/internal/anomaly"
)

// windowRecord is a window anomaly as the detector writes it.
func windowRecord() anomaly.Anomaly {
	return anomaly.Anomaly{
		ID:       "3d166319d6bac807f9dac9140d4002e4",
		Kind:     anomaly.KindWindow,
		Incident: "3d166319d6bac807f9dac9140d4002e4",
		Stream:   anomaly.Stream{Key: "checkout|log", Service: "checkout", Signal: "log"},
		Window: anomaly.Window{Start: "2026-01-01T00:00:00.000Z", End: "2026-01-01T00:01:00.000Z",
			Events: 1024, Partition: 2, FirstOffset: 10, LastOffset: 1033},
		Scores: anomaly.Scores{NCD: 0.3, PValue: 0.005, Confidence: 0.995, BaselineRatio: 0.2,
			WindowRatio: 0.3, BaselineEntropy: 4.1, WindowEntropy: 5.2},
		Threshold:   0.9,
		Explanation: "Logs of checkout compress 30% worse than their baseline.",
		Evidence:    []anomaly.Evidence{{Offset: 1000, Timestamp: "2026-01-01T00:00:59.000Z", Summary: "ERROR timeout", Score: 0.8}},
		Detector:    anomaly.Detector{Version: "dev", ConfigHash: "0123456789abcdef", Seed: 42},
		DetectedAt:  "2026-01-01T00:01:01.000Z",
	}
}

// metricEventRecord is an event anomaly of a metric stream with its series.
func metricEventRecord(points int) anomaly.Anomaly {
	a := windowRecord()
	a.ID, a.Kind, a.Incident = "5a0f9e1c2b3d4e5f60718293a4b5c6d7", anomaly.KindEvent, "0f9f3c2a6b1e4d5c8a7b6c5d4e3f2a1b"
	a.Stream = anomaly.Stream{Key: "checkout|metric|latency", Service: "checkout", Signal: "metric", Metric: "latency"}
	a.Window.Events, a.Window.FirstOffset = 64, 970
	a.Scores = anomaly.Scores{Confidence: 0.97, Event: 0.97}
	a.Explanation = "latency of checkout jumped to 950, far above its recent range of 10 to 14."
	for i := range points {
		p := anomaly.Point{Offset: int64(1000 - points + 1 + i), Timestamp: fmt.Sprintf("2026-01-01T00:%02d:%02d.000Z", i/60%60, i%60), Value: 12}
		if i == points-1 {
			p.Value, p.Anomalous = 950, true
		}
		a.Series = append(a.Series, p)
	}
	return a
}

// recordJSON returns a as a JSON object, changed by edit.
func recordJSON(t *testing.T, a anomaly.Anomaly, edit func(m map[string]any)) []byte {
	t.Helper()
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(m)
	}
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return b
}

func scoresOf(m map[string]any) map[string]any { return m["scores"].(map[string]any) }

// TestAnomalySchema checks api/anomaly-event.schema.json against the
// records the detector writes, records written before kinds existed, and
// records that break the contract.
func TestAnomalySchema(t *testing.T) {
	s := loadSchema(t, "anomaly-event.schema.json")
	if s == nil {
		t.Fatal("api/anomaly-event.schema.json not present")
	}
	logEvent := windowRecord()
	logEvent.Kind, logEvent.Scores = anomaly.KindEvent, anomaly.Scores{Confidence: 0.96, Event: 0.91}
	for _, tc := range []struct {
		name string
		doc  []byte
		want string // "" when valid
	}{
		{"window record", recordJSON(t, windowRecord(), nil), ""},
		{"record without kind and incident", recordJSON(t, windowRecord(), func(m map[string]any) { delete(m, "kind"); delete(m, "incident") }), ""},
		{"metric event record", recordJSON(t, metricEventRecord(512), nil), ""},
		{"log event record", recordJSON(t, logEvent, nil), ""},
		{"event record without series", recordJSON(t, metricEventRecord(0), nil), ""},
		{"kind without incident", recordJSON(t, metricEventRecord(3), func(m map[string]any) { delete(m, "incident") }),
			`$: required key "incident" missing`},
		{"unknown kind", recordJSON(t, windowRecord(), func(m map[string]any) { m["kind"] = "spike" }),
			`$.kind: spike is not one of [window event]`},
		{"incident not an id", recordJSON(t, windowRecord(), func(m map[string]any) { m["incident"] = "INC-1" }),
			`$.incident: "INC-1" does not match ^[0-9a-f]{32}$`},
		{"window record without ncd", recordJSON(t, windowRecord(), func(m map[string]any) { delete(scoresOf(m), "ncd") }),
			`$.scores: required key "ncd" missing`},
		{"record without kind and without ncd", recordJSON(t, windowRecord(), func(m map[string]any) { delete(m, "kind"); delete(scoresOf(m), "ncd") }),
			`$.scores: required key "ncd" missing`},
		{"event record without confidence", recordJSON(t, logEvent, func(m map[string]any) { delete(scoresOf(m), "confidence") }),
			`$.scores: required key "confidence" missing`},
		{"event score above 1", recordJSON(t, logEvent, func(m map[string]any) { scoresOf(m)["event"] = 1.5 }),
			`$.scores.event: 1.5 breaks maximum 1`},
		{"window record with series", recordJSON(t, metricEventRecord(3), func(m map[string]any) {
			m["kind"], m["scores"] = "window", scoresOf(recordJSONMap(t, windowRecord()))
		}), `$: matches a schema it must not match`},
		{"log event record with series", recordJSON(t, logEvent, func(m map[string]any) { m["series"] = recordJSONMap(t, metricEventRecord(2))["series"] }),
			`$: matches a schema it must not match`},
		{"series longer than 512", recordJSON(t, metricEventRecord(513), nil), `$.series: 513 items, want at most 512`},
		{"point without value", recordJSON(t, metricEventRecord(2), func(m map[string]any) { delete(m["series"].([]any)[0].(map[string]any), "value") }),
			`$.series[0]: required key "value" missing`},
	} {
		err := s.Validate(tc.doc)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v\n%s", tc.name, err, tc.doc)
		case tc.want != "" && (err == nil || err.Error() != tc.want):
			t.Errorf("%s: error %v, want %s", tc.name, err, tc.want)
		}
	}
}

func recordJSONMap(t *testing.T, a anomaly.Anomaly) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(recordJSON(t, a, nil), &m); err != nil {
		t.Fatal(err)
	}
	return m
}
