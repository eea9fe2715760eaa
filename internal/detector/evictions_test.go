package detector

import (
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/testkit"
)

// TestEvictionsCountedOnce runs the scenario with max_streams 1: on the
// partition holding two of its streams, whose records alternate, every
// record but the first evicts the other stream. A replica stopped midway
// and its successor, which replays what the first processed (checkpoints
// are off), count each eviction once between them, and the successor
// holds one stream per partition.
func TestEvictionsCountedOnce(t *testing.T) {
	_, brokers := testkit.NewCluster(t)
	const perStream = 100
	produce(t, brokers, eventsTopic, scenario(perStream))
	cfg := testConfig(brokers, "anomalies-evictions", "group-evictions")
	cfg.Detector.MaxStreams = 1
	cfg.Detector.CheckpointRecords = 0
	a := startReplica(t, cfg, func(s *Service) { s.newScorer = slowScorer(5 * time.Millisecond) })
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 0.3)
	a.stop(t)
	b := startReplica(t, cfg, nil)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	held := counter(t, b.svc.reg, "driftlock_detector_streams", nil)
	b.stop(t)

	evictions := func(r *replica) float64 {
		return counter(t, r.svc.reg, "driftlock_detector_stream_evictions_total", nil)
	}
	if n := evictions(a) + evictions(b); n != 2*perStream-1 {
		t.Errorf("%v evictions counted (%v and %v), want %d", n, evictions(a), evictions(b), 2*perStream-1)
	}
	if evictions(a) == 0 || counter(t, b.svc.reg, "driftlock_detector_replayed_records_total", nil) == 0 {
		t.Error("the first replica evicted nothing or its successor replayed nothing: the split tests nothing")
	}
	if held != 3 {
		t.Errorf("the successor held %v streams, want one per partition", held)
	}
}
