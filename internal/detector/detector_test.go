package detector

import (
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/testkit"
)

const eventsTopic = "otlp-events"

// TestExactAcrossReplicasRebalancesCrashesAndOutages processes one input
// topic several ways and checks that each publishes the same anomaly-events
// records, byte for byte, with no duplicates:
//   - one replica from start to finish (the reference);
//   - one replica, joined by two more midway (a rebalance mid-stream);
//   - a replica crashed midway after committing, a second crashed after
//     publishing but before committing, then a third to the end;
//   - one replica through a broker outage midway;
//   - a replica stopped midway, whose successor dies while writing a
//     checkpoint, then a third after retention deleted the records before
//     the latest checkpoint: it must restore from that checkpoint;
//   - a replica stopped midway and a second to the end, which restores the
//     checkpoints the first wrote at its committed offsets as it stopped
//     and replays nothing;
//   - a replica joined by a second, which leaves again midway: each takes
//     over partitions from the other's hand-over checkpoints, and neither
//     replays.
//
// Every run writes checkpoints of partition state (every 50 records).
func TestExactAcrossReplicasRebalancesCrashesAndOutages(t *testing.T) {
	_, brokers := testkit.NewCluster(t)
	input := scenario(300)
	produce(t, brokers, eventsTopic, input)

	ref := runSingle(t, brokers)
	checkReference(t, brokers, ref)

	// The runs mostly wait, so they run in parallel; the outage gets its own
	// broker holding the same input.
	t.Run("rebalance", func(t *testing.T) {
		t.Parallel()
		sameRecords(t, ref, runRebalance(t, brokers))
	})
	t.Run("crash", func(t *testing.T) {
		t.Parallel()
		sameRecords(t, ref, runCrashes(t, brokers))
	})
	t.Run("outage", func(t *testing.T) {
		t.Parallel()
		c, brokers := testkit.NewCluster(t)
		produce(t, brokers, eventsTopic, input)
		sameRecords(t, ref, runOutage(t, c, brokers))
	})
	t.Run("checkpoint", func(t *testing.T) {
		t.Parallel()
		_, brokers := testkit.NewCluster(t)
		produce(t, brokers, eventsTopic, input)
		sameRecords(t, ref, runCheckpoint(t, brokers))
	})
	t.Run("handover", func(t *testing.T) {
		t.Parallel()
		sameRecords(t, ref, runHandOver(t, brokers))
	})
	t.Run("handover-rebalance", func(t *testing.T) {
		t.Parallel()
		sameRecords(t, ref, runHandOverRebalance(t, brokers))
	})
}

func runSingle(t *testing.T, brokers []string) []kafka.Message {
	cfg := testConfig(brokers, "anomalies-single", "group-single")
	r := startReplica(t, cfg, nil)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	r.stop(t)
	if n := counter(t, r.svc.reg, "driftlock_detector_replayed_records_total", nil); n != 0 {
		t.Errorf("a lone first replica replayed %v records", n)
	}
	return readTopic(t, brokers, cfg.Kafka.AnomaliesTopic)
}

// runRebalance starts one slow replica and adds two more once it published
// anomalies on two partitions, so that a new owner must not publish them
// again when it replays.
func runRebalance(t *testing.T, brokers []string) []kafka.Message {
	cfg := testConfig(brokers, "anomalies-rebalance", "group-rebalance")
	first := startReplica(t, cfg, func(s *Service) { s.newScorer = slowScorer(8 * time.Millisecond) })
	waitAnomalies(t, brokers, cfg.Kafka.AnomaliesTopic, func(as []anomaly.Anomaly) bool {
		parts := map[int]bool{}
		for _, a := range as {
			parts[a.Window.Partition] = true
		}
		return len(parts) >= 2
	})
	more := []*replica{startReplica(t, cfg, nil), startReplica(t, cfg, nil)}
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	for _, r := range append(more, first) {
		r.stop(t)
	}
	// It kept one of its partitions, committed at revoke: that partition's
	// state is reused, not rebuilt.
	if n := counter(t, first.svc.reg, "driftlock_detector_replayed_records_total", nil); n != 0 {
		t.Errorf("first replica replayed %v records of the partition it kept", n)
	}
	if n := counter(t, first.svc.reg, "driftlock_detector_rebalances_total", nil); n < 2 {
		t.Errorf("first replica saw %v generations, want a rebalance", n)
	}
	joined := counter(t, more[0].svc.reg, "driftlock_detector_events_total", nil) +
		counter(t, more[1].svc.reg, "driftlock_detector_events_total", nil)
	if joined == 0 {
		t.Error("the replicas that joined midway scored no events")
	}
	return readTopic(t, brokers, cfg.Kafka.AnomaliesTopic)
}

// runCrashes crashes a replica once it committed past an anomaly it
// published, then a second one after it published an anomaly it never
// committed, then runs a third to the end. The third must rebuild state by
// replay and must publish neither one's anomalies again.
func runCrashes(t *testing.T, brokers []string) []kafka.Message {
	cfg := testConfig(brokers, "anomalies-crash", "group-crash")
	// A crashed replica's publishers wait out the drain with nothing
	// acknowledged; keep that short.
	a := startReplica(t, cfg, func(s *Service) {
		s.newScorer = slowScorer(8 * time.Millisecond)
		s.timing.drain = 500 * time.Millisecond
	})
	waitAnomalies(t, brokers, cfg.Kafka.AnomaliesTopic, func(as []anomaly.Anomaly) bool {
		committed, err := committedOffsets(brokers, cfg.Detector.GroupID, eventsTopic)
		if err != nil {
			return false
		}
		for _, a := range as {
			if committed[a.Window.Partition] > a.Window.LastOffset {
				return true
			}
		}
		return false
	})
	a.crash(t)

	b := startReplica(t, cfg, func(s *Service) {
		s.newScorer = slowScorer(4 * time.Millisecond)
		s.timing.commitInterval = time.Hour
		s.timing.drain = 500 * time.Millisecond
	})
	waitPublished(t, b, 1)
	b.crash(t)

	c := startReplica(t, cfg, nil)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	c.stop(t)
	restored := counter(t, c.svc.reg, "driftlock_detector_checkpoint_restores_total", map[string]string{"outcome": "restored"})
	if n := counter(t, c.svc.reg, "driftlock_detector_replayed_records_total", nil); n == 0 && restored == 0 {
		t.Error("restarted replica neither restored a checkpoint nor replayed")
	}
	if n := counter(t, c.svc.reg, "driftlock_detector_anomalies_suppressed_total", nil); n == 0 {
		t.Error("restarted replica suppressed no anomaly published before the crash")
	}
	return readTopic(t, brokers, cfg.Kafka.AnomaliesTopic)
}

// runOutage cuts every connection to the broker for three seconds once a
// third of the input is committed.
func runOutage(t *testing.T, c *kfake.Cluster, brokers []string) []kafka.Message {
	cfg := testConfig(brokers, "anomalies-outage", "group-outage")
	r := startReplica(t, cfg, func(s *Service) { s.newScorer = slowScorer(3 * time.Millisecond) })
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 0.3)
	var down atomic.Bool
	var refused atomic.Int64
	down.Store(true)
	c.Control(func(kmsg.Request) (kmsg.Response, error, bool) {
		if !down.Load() {
			return nil, nil, false
		}
		c.KeepControl()
		refused.Add(1)
		return nil, errors.New("broker unreachable"), true
	})
	time.Sleep(3 * time.Second)
	down.Store(false)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	r.stop(t)
	if refused.Load() == 0 {
		t.Error("the outage refused no request")
	}
	return readTopic(t, brokers, cfg.Kafka.AnomaliesTopic)
}

// waitPublished waits until r had n anomalies acknowledged.
func waitPublished(t *testing.T, r *replica, n float64) {
	t.Helper()
	if !testkit.Poll(90*time.Second, func() bool {
		return counter(t, r.svc.reg, "driftlock_detector_anomalies_published_total", nil) >= n
	}) {
		t.Fatalf("replica published fewer than %v anomalies in 90 s", n)
	}
}

// waitAnomalies waits until the anomalies published on topic satisfy ok.
func waitAnomalies(t *testing.T, brokers []string, topic string, ok func([]anomaly.Anomaly) bool) {
	t.Helper()
	found := testkit.Poll(90*time.Second, func() bool {
		msgs, err := tryReadTopic(brokers, topic)
		return err == nil && ok(decodeAll(t, msgs))
	})
	if !found {
		t.Fatal("the anomalies awaited were not published within 90 s")
	}
}

// checkReference checks the reference run found the injected burst, with
// evidence pointing at injected records, and published each id once.
func checkReference(t *testing.T, brokers []string, ref []kafka.Message) {
	t.Helper()
	injected := map[[2]int64]bool{}
	for _, m := range readTopic(t, brokers, eventsTopic) {
		if isInjected(m.Value) {
			injected[[2]int64{int64(m.Partition), m.Offset}] = true
		}
	}
	if len(injected) == 0 {
		t.Fatal("scenario has no injected records")
	}
	hits := 0
	kinds := map[string]int{}
	for _, a := range decodeAll(t, ref) {
		kinds[a.Kind]++
		if a.Stream.Key != "checkout|log" {
			continue
		}
		for _, e := range a.Evidence {
			if injected[[2]int64{int64(a.Window.Partition), e.Offset}] {
				hits++
				break
			}
		}
	}
	if hits == 0 {
		t.Fatalf("no checkout|log anomaly has evidence at an injected offset (%d anomalies)", len(ref))
	}
	// The exactness checks hold for both kinds only if both are published.
	if kinds[anomaly.KindEvent] == 0 || kinds[anomaly.KindWindow] == 0 {
		t.Fatalf("reference records by kind %v, want event and window records", kinds)
	}
}

// sameRecords checks got holds exactly the records of want, byte for byte.
func sameRecords(t *testing.T, want, got []kafka.Message) {
	t.Helper()
	decodeAll(t, got) // checks ids are unique
	w, g := sortedValues(want), sortedValues(got)
	if !slices.Equal(w, g) {
		t.Fatalf("published %d records, reference %d; they differ:\nfirst got:  %.300s\nfirst want: %.300s",
			len(g), len(w), first(g), first(w))
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// decodeAll decodes anomaly records and fails on a duplicate id.
func decodeAll(t *testing.T, msgs []kafka.Message) []anomaly.Anomaly {
	t.Helper()
	seen := map[string]bool{}
	out := make([]anomaly.Anomaly, 0, len(msgs))
	for _, m := range msgs {
		a, err := anomaly.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		if seen[a.ID] {
			t.Fatalf("anomaly %s published twice", a.ID)
		}
		seen[a.ID] = true
		if string(m.Key) != a.Stream.Key {
			t.Fatalf("record key %q, stream key %q", m.Key, a.Stream.Key)
		}
		out = append(out, a)
	}
	return out
}
