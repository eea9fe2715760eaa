package detector

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
)

// ScoringConfig returns the scoring core's settings: its defaults with the
// detector configuration's window, hop, threshold, seed, compressor and
// permutations. The baseline keeps the core's default ratio to the window.
func ScoringConfig(d config.Detector) cbad.Config {
	c := cbad.DefaultConfig()
	if c.BaselineSize > 0 && c.WindowSize > 0 {
		c.BaselineSize = min(1<<20, max(8, c.BaselineSize*d.WindowSize/c.WindowSize))
	}
	c.WindowSize = d.WindowSize
	c.HopSize = d.HopSize
	c.Threshold = d.Threshold
	c.Seed = d.Seed
	c.Compressor = d.Compressor
	c.Permutations = d.Permutations
	c.BlockSize = min(c.BlockSize, d.HopSize)
	return c
}

// ConfigHash identifies the settings that decide which anomalies are found:
// every scoring setting, plus max_streams because evicting a stream restarts
// its windows. It is the first 16 hex digits of a SHA-256.
func ConfigHash(d config.Detector) string {
	s := fmt.Sprintf("%+v\nmax_streams=%d\ndeterminism=%t\n", ScoringConfig(d), d.MaxStreams, d.Determinism)
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// AnomalyID is the id of the detection of the window [first, last] of a
// stream on a partition under the settings configHash: the first 32 hex
// digits of a SHA-256 over them, so every replay yields the same id.
func AnomalyID(streamKey string, partition int, first, last int64, configHash string) string {
	h := sha256.New()
	var buf [8]byte
	h.Write([]byte(streamKey))
	h.Write([]byte{0})
	binary.BigEndian.PutUint64(buf[:], uint64(int64(partition)))
	h.Write(buf[:])
	binary.BigEndian.PutUint64(buf[:], uint64(first))
	h.Write(buf[:])
	binary.BigEndian.PutUint64(buf[:], uint64(last))
	h.Write(buf[:])
	h.Write([]byte(configHash))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// streamID is a stream's key and its parts.
type streamID struct {
	key     string
	service string
	signal  event.Type
	metric  string
}

// buildAnomaly turns an anomalous judgement into an anomaly-events record.
func (s *Service) buildAnomaly(id streamID, partition int, j *cbad.Judgement) anomaly.Anomaly {
	a := anomaly.Anomaly{
		ID:     AnomalyID(id.key, partition, j.FirstOffset, j.LastOffset, s.configHash),
		Stream: anomaly.Stream{Key: id.key, Service: id.service, Signal: string(id.signal), Metric: id.metric},
		Window: anomaly.Window{
			Start:       formatTime(j.Start),
			End:         formatTime(j.End),
			Events:      j.Events,
			Partition:   partition,
			FirstOffset: j.FirstOffset,
			LastOffset:  j.LastOffset,
		},
		Scores: anomaly.Scores{
			NCD:             j.Scores.NCD,
			PValue:          j.Scores.PValue,
			Confidence:      j.Scores.Confidence,
			BaselineRatio:   j.Scores.BaselineRatio,
			WindowRatio:     j.Scores.WindowRatio,
			BaselineEntropy: j.Scores.BaselineEntropy,
			WindowEntropy:   j.Scores.WindowEntropy,
		},
		Threshold:   s.cfg.Detector.Threshold,
		Explanation: j.Explanation,
		Evidence:    make([]anomaly.Evidence, 0, len(j.Evidence)),
		Detector:    anomaly.Detector{Version: s.version, ConfigHash: s.configHash, Seed: s.cfg.Detector.Seed},
		DetectedAt:  formatTime(s.clock()),
	}
	for _, e := range j.Evidence {
		a.Evidence = append(a.Evidence, anomaly.Evidence{
			Offset: e.Offset, Timestamp: formatTime(e.Timestamp), Summary: e.Summary, Score: e.Score,
		})
	}
	return a
}

// formatTime formats t as RFC 3339 with milliseconds in UTC.
func formatTime(t time.Time) string { return event.FormatTimestamp(t) }
