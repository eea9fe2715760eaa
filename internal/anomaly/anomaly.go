// Package anomaly defines the records of the anomaly-events topic: one per
// anomaly, keyed by stream key. The detector encodes them, the console and
// alerting decode them. api/anomaly-event.schema.json describes the JSON.
package anomaly

import (
	"encoding/json"
	"fmt"
)

// Anomaly is one anomaly-events record.
type Anomaly struct {
	// ID is the same for the same detection on every replay.
	ID     string `json:"id"`
	Stream Stream `json:"stream"`
	Window Window `json:"window"`
	Scores Scores `json:"scores"`
	// Threshold is the confidence the detection had to reach.
	Threshold float64 `json:"threshold"`
	// Explanation is sentences a person can act on.
	Explanation string `json:"explanation"`
	// Evidence lists the events that most raised the window's compressed size.
	Evidence []Evidence `json:"evidence"`
	Detector Detector   `json:"detector"`
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

// Scores are the measurements behind a judgement.
type Scores struct {
	NCD             float64 `json:"ncd"`
	PValue          float64 `json:"p_value"`
	Confidence      float64 `json:"confidence"`
	BaselineRatio   float64 `json:"baseline_ratio"`
	WindowRatio     float64 `json:"window_ratio"`
	BaselineEntropy float64 `json:"baseline_entropy"`
	WindowEntropy   float64 `json:"window_entropy"`
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
	return a, nil
}
