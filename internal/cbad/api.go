// Package cbad is DriftLock's scoring core: compression-based anomaly
// detection over per-stream sliding windows. It is a pure function of its
// input and its seed: no Kafka, HTTP, Prometheus, wall clock or global RNG.
package cbad

import "time"

// Config tunes the scoring core.
type Config struct {
	// WindowSize is the number of events in the window being judged. Default 1024.
	WindowSize int
	// HopSize is the number of events between two judgements. Default 256.
	HopSize int
	// Threshold is the confidence (1 - p-value) needed to raise an anomaly. Default 0.9.
	Threshold float64
	// Seed seeds the permutation test, with the stream key and window position.
	Seed int64
	// Compressor is zstd, gzip or lz4. Default zstd.
	Compressor string
	// Permutations is the most permutations of one significance test. Default 200.
	Permutations int
}

// Judgement is the verdict on one window of a stream.
type Judgement struct {
	// Seq counts the stream's judgements from 0.
	Seq int64
	// Start and End are the timestamps of the window's first and last events.
	Start, End time.Time
	// Events is the number of events in the window.
	Events int
	// FirstOffset and LastOffset are the offsets of the window's first and last events.
	FirstOffset, LastOffset int64
	Scores                  Scores
	// Anomalous is true when the confidence reached the threshold and the
	// effect is large enough to matter.
	Anomalous bool
	// Explanation is sentences a person can act on (set when Anomalous).
	Explanation string
	// Evidence is the events that most raised the window's compressed size
	// given the baseline, highest score first (set when Anomalous).
	Evidence []Evidence
}

// Scores are the measurements behind a judgement.
type Scores struct {
	NCD             float64
	PValue          float64
	Confidence      float64
	BaselineRatio   float64
	WindowRatio     float64
	BaselineEntropy float64
	WindowEntropy   float64
}

// Evidence is one event of the window and how much it raised the window's
// compressed size given the baseline, in [0, 1].
type Evidence struct {
	Offset    int64
	Timestamp time.Time
	Summary   string
	Score     float64
}

// Result is what pushing one event into a stream yields.
type Result struct {
	// Score is this event's anomaly score in [0, 1].
	Score float64
	// Judgement is set every HopSize events once the window is full.
	Judgement *Judgement
}
