package cbad

import "time"

// Config tunes the scoring core. DefaultConfig gives the documented defaults;
// the fields after Permutations are tuning knobs that the service leaves at
// their defaults and the evaluation may set per data family.
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

	// BaselineSize is the number of events in the baseline. Default WindowSize
	// (0 means WindowSize).
	BaselineSize int
	// BlockSize is the number of consecutive events the permutation test
	// keeps together, so that local order survives a permutation. Default 1.
	BlockSize int
	// MinEffect is the smallest rise of the NCD over the permutations' mean
	// that can raise an anomaly. Default 0.03.
	MinEffect float64
	// StopAfter ends a permutation test after this many permutations scored
	// at least the observed NCD (Besag–Clifford). Default 10.
	StopAfter int
	// AdaptAfter is the number of consecutive anomalous judgements after which
	// the baseline takes in new events anyway, so a lasting change becomes
	// the new normal. Default 8.
	AdaptAfter int
	// EventThreshold is the score an event needs to raise an event anomaly,
	// in (0, 1). A metric value scores d/(1+d) when it lies d interquartile
	// ranges beyond the 1st to 99th percentile of the stream's latest
	// values, so the default 0.75 is 3 interquartile ranges (Tukey's "far
	// out"); a log line or span scores the same way how far the surprisal
	// of its shape lies above the 99th percentile of the surprisals of the
	// stream's latest lines (or the rarity of its severity, if larger).
	// Default 0.75.
	EventThreshold float64
	// EventWarmup is the number of events a stream must have seen before
	// it can raise an event anomaly. Default 256.
	EventWarmup int
	// Memory is the number of events after which the long-memory counts of
	// canonical lines behind Result.Score are halved. Default 65536.
	Memory int
	// MaxAttrValues is how many distinct values an attribute may show and still
	// be kept in a log line's canonical form. Default 8.
	MaxAttrValues int
	// Levels is the number of level symbols a metric value is quantised into
	// against the baseline. Default 8.
	Levels int
	// ContextOrder, when above 0, also scores a metric event by the novelty
	// of the latest ContextOrder symbols (level and direction of change)
	// against the n-grams the stream has shown: Result.Score is the larger
	// of the value's novelty and ContextWeight times this. Default 0 (off).
	ContextOrder int
	// ContextWeight scales the context novelty, in [0, 1].
	ContextWeight float64
	// SeasonCycles, when above 0, also scores a metric event by how far its
	// value departs from the median of the same time of day over this many
	// previous days (the period in events follows from the events' median
	// interval): Result.Score is the larger of that and the other scores.
	// Default 0 (off).
	SeasonCycles int
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
	// given the baseline, highest score first (set when Anomalous). A log
	// or span stream's evidence names each canonical line once, by its
	// first event in the window.
	Evidence []Evidence
	// Incident is the offset of the first event of the incident an
	// anomalous window belongs to (see EventAnomaly.Incident).
	Incident int64
}

// Scores are the measurements behind a judgement.
type Scores struct {
	// NCD is (C(BW) - min(C(B), C(W))) / max(C(B), C(W)) of baseline B and window W.
	NCD float64
	// ExpectedNCD is the mean NCD of the permuted splits: what the NCD would
	// be if the window were like the baseline.
	ExpectedNCD float64
	// PValue is (1 + #{permuted NCD >= NCD}) / (1 + permutations run).
	PValue float64
	// Confidence is 1 - PValue.
	Confidence float64
	// Permutations is the number of permutations the test ran.
	Permutations int
	// BaselineRatio and WindowRatio are raw size / compressed size of the
	// canonical baseline and window.
	BaselineRatio float64
	WindowRatio   float64
	// BaselineEntropy and WindowEntropy are the byte entropies, in bits per
	// byte, of the canonical baseline and window.
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
	// Score is this event's anomaly score in [0, 1]: its novelty given the
	// stream's history.
	Score float64
	// Events are the event anomalies the event raised: the closing record
	// of the incident it ended, then its own onset.
	Events []*EventAnomaly
	// Judgement is set every HopSize events once the window is full.
	Judgement *Judgement
}
