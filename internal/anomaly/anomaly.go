// Package anomaly defines the records of the anomaly-events topic: one per
// anomaly, keyed by stream key. The detector encodes them, the console and
// alerting decode them. api/anomaly-event.schema.json describes the JSON.
package anomaly

import (
	"encoding/json"
	"fmt"
)

// Kinds of anomaly.
const (
	// KindWindow is a window of window_size events that compresses unlike
	// its baseline.
	KindWindow = "window"
	// KindEvent is one event, or the onset of a burst or shift, raised from
	// per-event scores.
	KindEvent = "event"
)

// Anomaly is one anomaly-events record.
type Anomaly struct {
	// ID is the same for the same detection on every replay.
	ID string `json:"id"`
	// Kind is KindWindow or KindEvent; a record without it is a window record.
	Kind string `json:"kind"`
	// Incident is shared by the records that describe one incident of a
	// stream (an event anomaly and the windows that overlap it, consecutive
	// anomalous windows); deterministic like ID.
	Incident string `json:"incident"`
	Stream   Stream `json:"stream"`
	// Window spans the events the decision looked at: the judged window, or
	// for an event anomaly the recent events its onset rule compared.
	Window Window `json:"window"`
	Scores Scores `json:"scores"`
	// Threshold is what the detection had to reach: detector.threshold for a
	// window's confidence, detector.event_threshold for an event's score.
	Threshold float64 `json:"threshold"`
	// Explanation is sentences a person can act on.
	Explanation string `json:"explanation"`
	// Evidence lists the events that most raised the window's compressed
	// size; for an event anomaly it starts at the event that triggered it.
	Evidence []Evidence `json:"evidence"`
	// Series is the recent values of a metric stream up to the event that
	// triggered an event anomaly, for a chart; absent otherwise.
	Series   []Point  `json:"series,omitempty"`
	Detector Detector `json:"detector"`
	// DetectedAt is the wall clock at detection (RFC 3339 ms UTC), the only
	// field allowed to differ between replays.
	DetectedAt string `json:"detected_at"`
}

// Stream identifies the stream an anomaly was found in.
type Stream struct {
	Key     string `json:"key"`
	Service string `json:"service"`
	Signal  string `json:"signal"`
	Metric  string `json:"metric,omitempty"`
}

// Window is the span of events that was judged.
type Window struct {
	Start       string `json:"start"`
	End         string `json:"end"`
	Events      int    `json:"events"`
	Partition   int    `json:"partition"`
	FirstOffset int64  `json:"first_offset"`
	LastOffset  int64  `json:"last_offset"`
}

// Scores are the measurements behind a detection. Window records carry
// every field but Event; event records carry Confidence and Event.
type Scores struct {
	NCD        float64 `json:"ncd,omitempty"`
	PValue     float64 `json:"p_value,omitempty"`
	Confidence float64 `json:"confidence"`
	// Event is the triggering event's own anomaly score in [0, 1] (event
	// records only).
	Event           float64 `json:"event,omitempty"`
	BaselineRatio   float64 `json:"baseline_ratio,omitempty"`
	WindowRatio     float64 `json:"window_ratio,omitempty"`
	BaselineEntropy float64 `json:"baseline_entropy,omitempty"`
	WindowEntropy   float64 `json:"window_entropy,omitempty"`
}

// Point is one value of a metric stream's recent series.
type Point struct {
	Offset    int64   `json:"offset"`
	Timestamp string  `json:"timestamp"`
	Value     float64 `json:"value"`
	// Anomalous marks the points the detection flagged.
	Anomalous bool `json:"anomalous,omitempty"`
}

// Evidence is one event that made the window unlike its baseline.
type Evidence struct {
	Offset    int64   `json:"offset"`
	Timestamp string  `json:"timestamp"`
	Summary   string  `json:"summary"`
	Score     float64 `json:"score"`
}

// Detector names the detector build and settings that produced an anomaly.
type Detector struct {
	Version    string `json:"version"`
	ConfigHash string `json:"config_hash"`
	Seed       int64  `json:"seed"`
}

// Decode parses one anomaly-events record value.
func Decode(value []byte) (Anomaly, error) {
	var a Anomaly
	if err := json.Unmarshal(value, &a); err != nil {
		return Anomaly{}, fmt.Errorf("decode anomaly: %w", err)
	}
	if a.ID == "" || a.Stream.Key == "" {
		return Anomaly{}, fmt.Errorf("decode anomaly: id and stream.key are required")
	}
	switch a.Kind {
	case "":
		a.Kind = KindWindow
	case KindWindow, KindEvent:
	default:
		return Anomaly{}, fmt.Errorf("decode anomaly: unknown kind %q", a.Kind)
	}
	if a.Incident == "" {
		a.Incident = a.ID
	}
	return a, nil
}

// Named is the offset of the event a record names: its first evidence
// event (the event that triggered an event record, the event that most
// raised a window's compressed size), or the last event of the window when
// it has no evidence.
func (a Anomaly) Named() int64 {
	if len(a.Evidence) > 0 {
		return a.Evidence[0].Offset
	}
	return a.Window.LastOffset
}
