package detector

import (
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

// handOverConfig is testConfig with checkpoints due only after more
// records than the input holds: every checkpoint written is a hand-over.
func handOverConfig(brokers []string, name string) config.Config {
	cfg := testConfig(brokers, "anomalies-"+name, "group-"+name)
	cfg.Detector.CheckpointRecords = 1_000_000
	return cfg
}

// runHandOver stops a replica midway and runs a second to the end. The
// first writes, as it stops, a checkpoint of each partition at the offset
// it committed; the second restores them and replays nothing.
func runHandOver(t *testing.T, brokers []string) []kafka.Message {
	cfg := handOverConfig(brokers, "handover")
	a := startReplica(t, cfg, func(s *Service) { s.newScorer = slowScorer(3 * time.Millisecond) })
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 0.4)
	a.stop(t)

	committed, err := committedOffsets(brokers, cfg.Detector.GroupID, eventsTopic)
	if err != nil {
		t.Fatal(err)
	}
	latest := latestCheckpoints(t, brokers, cfg)
	if len(latest) != 3 {
		t.Fatalf("checkpoints of %d partitions after a graceful stop, want 3", len(latest))
	}
	for p, off := range latest {
		if committed[int(p)] != off {
			t.Errorf("partition %d: checkpoint at %d, committed offset %d", p, off, committed[int(p)])
		}
	}

	b := startReplica(t, cfg, nil)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	b.stop(t)
	if n := counter(t, b.svc.reg, "driftlock_detector_replayed_records_total", nil); n != 0 {
		t.Errorf("the successor of a graceful stop replayed %v records", n)
	}
	if n := counter(t, b.svc.reg, "driftlock_detector_checkpoint_restores_total", map[string]string{"outcome": "restored"}); n != 3 {
		t.Errorf("the successor restored %v partitions from checkpoints, want 3", n)
	}
	return readTopic(t, brokers, cfg.Kafka.AnomaliesTopic)
}

// runHandOverRebalance starts a replica, adds a second once a quarter of
// the input is committed and stops that one once it scored events: the
// partitions change owner twice in rebalances, and neither owner replays.
func runHandOverRebalance(t *testing.T, brokers []string) []kafka.Message {
	cfg := handOverConfig(brokers, "handover-rebalance")
	slowly := func(s *Service) { s.newScorer = slowScorer(10 * time.Millisecond) }
	a := startReplica(t, cfg, slowly)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 0.25)
	b := startReplica(t, cfg, slowly)
	testkit.WaitFor(t, 60*time.Second, "the second replica to score events", func() bool {
		return counter(t, b.svc.reg, "driftlock_detector_events_total", nil) >= 50
	})
	b.stop(t)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	a.stop(t)
	for name, r := range map[string]*replica{"first": a, "second": b} {
		if n := counter(t, r.svc.reg, "driftlock_detector_replayed_records_total", nil); n != 0 {
			t.Errorf("the %s replica replayed %v records", name, n)
		}
		if n := counter(t, r.svc.reg, "driftlock_detector_checkpoint_restores_total", map[string]string{"outcome": "restored"}); n == 0 {
			t.Errorf("the %s replica restored no partition from the other's checkpoint", name)
		}
	}
	return readTopic(t, brokers, cfg.Kafka.AnomaliesTopic)
}

// TestHandOverIsBounded stops a replica whose state topic never
// acknowledges: Run still returns, each partition's hand-over checkpoint
// is counted as failed, and the next owner falls back to replaying.
func TestHandOverIsBounded(t *testing.T) {
	if 2*defaultTiming.drain >= defaultTiming.rebalance {
		t.Fatalf("draining (%v) and the hand-over (as long again) exceed the rebalance timeout %v",
			defaultTiming.drain, defaultTiming.rebalance)
	}
	_, brokers := testkit.NewCluster(t)
	produce(t, brokers, eventsTopic, scenario(100))
	cfg := handOverConfig(brokers, "handover-bounded")
	a := startReplica(t, cfg, func(s *Service) {
		stuck := &faults{}
		stuck.down.Store(true)
		s.state = faultyWriter{s.state, stuck}
		s.timing.drain = 500 * time.Millisecond
	})
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	a.stop(t)
	if n := counter(t, a.svc.reg, "driftlock_detector_checkpoints_total", map[string]string{"outcome": "failed"}); n != 3 {
		t.Errorf("%v checkpoints failed, want the 3 partitions' hand-overs", n)
	}
	b := startReplica(t, cfg, nil)
	testkit.WaitFor(t, 60*time.Second, "the successor to replay the input", func() bool {
		return counter(t, b.svc.reg, "driftlock_detector_replayed_records_total", nil) == 400
	})
	b.stop(t)
	if n := counter(t, b.svc.reg, "driftlock_detector_checkpoint_restores_total", map[string]string{"outcome": "none"}); n != 3 {
		t.Errorf("the successor found a usable checkpoint for %v of 3 partitions, want none", 3-n)
	}
}
