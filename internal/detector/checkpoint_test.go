package detector

import (
	"context"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

// tornWriter passes the first keep records of the first write of more
// than keep records, then fails that write and every later one: a replica
// that dies while writing a checkpoint's chunks.
type tornWriter struct {
	writeCloser
	keep int
	torn atomic.Bool
}

func (w *tornWriter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if w.torn.Load() {
		return errCutOff
	}
	if len(msgs) <= w.keep {
		return w.writeCloser.WriteMessages(ctx, msgs...)
	}
	if err := w.writeCloser.WriteMessages(ctx, msgs[:w.keep]...); err != nil {
		return err
	}
	w.torn.Store(true)
	return errCutOff
}

// runCheckpoint stops a replica midway (its checkpoints then stand at or
// before the committed offsets), deletes every record before each
// partition's latest checkpoint as retention would, runs a second replica
// that dies while writing its first checkpoint, and a third to the end.
// The second and third must restore from checkpoints: replaying from the
// first retained record would miss the deleted ones and score otherwise.
func runCheckpoint(t *testing.T, brokers []string) []kafka.Message {
	cfg := testConfig(brokers, "anomalies-checkpoint", "group-checkpoint")
	a := startReplica(t, cfg, func(s *Service) { s.newScorer = slowScorer(3 * time.Millisecond) })
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 0.4)
	a.stop(t)

	latest := latestCheckpoints(t, brokers, cfg)
	if len(latest) == 0 {
		t.Fatal("the first replica wrote no checkpoint")
	}
	testkit.DeleteRecords(t, brokers, eventsTopic, latest)

	var torn *tornWriter
	b := startReplica(t, cfg, func(s *Service) {
		torn = &tornWriter{writeCloser: s.state, keep: 1}
		s.state = torn
		s.checkpointChunk = 256 // every checkpoint has several chunks
		s.newScorer = slowScorer(3 * time.Millisecond)
		s.timing.drain = 500 * time.Millisecond
	})
	testkit.WaitFor(t, 60*time.Second, "a torn checkpoint write", torn.torn.Load)
	b.crash(t)

	c := startReplica(t, cfg, nil)
	waitProgress(t, brokers, cfg.Detector.GroupID, eventsTopic, 1)
	c.stop(t)
	for name, r := range map[string]*replica{"second": b, "third": c} {
		restores := func(outcome string) float64 {
			return counter(t, r.svc.reg, "driftlock_detector_checkpoint_restores_total", map[string]string{"outcome": outcome})
		}
		if got := restores("restored"); got != float64(len(latest)) || restores("none") != 0 {
			t.Errorf("%s replica restored %v partitions from checkpoints and %v from none; want all %d restored",
				name, got, restores("none"), len(latest))
		}
	}
	return readTopic(t, brokers, cfg.Kafka.AnomaliesTopic)
}

// latestCheckpoints returns, per partition of the events topic, the
// offset of the latest checkpoint the group cfg wrote.
func latestCheckpoints(t *testing.T, brokers []string, cfg config.Config) map[int32]int64 {
	t.Helper()
	out := map[int32]int64{}
	for _, m := range readTopic(t, brokers, cfg.Detector.StateTopic) {
		k := string(m.Key)
		if !strings.HasPrefix(k, cfg.Detector.GroupID+"/") || !strings.HasSuffix(k, "/manifest") {
			continue
		}
		man, err := decodeManifest(m.Value)
		if err != nil {
			t.Fatalf("manifest %s: %v", k, err)
		}
		parts := strings.Split(k, "/")
		var p int32
		for _, c := range parts[len(parts)-3] {
			p = 10*p + int32(c-'0')
		}
		out[p] = max(out[p], man.offset)
	}
	return out
}

// TestCheckpointSlots writes checkpoints of a real partition state to the
// state topic and checks which one a new owner restores: the latest at or
// before its committed offset, never a slot torn by a write that failed
// midway or whose bytes were altered, and none written under other
// settings.
func TestCheckpointSlots(t *testing.T) {
	_, brokers := testkit.NewCluster(t)
	produce(t, brokers, eventsTopic, scenario(10))
	cfg := testConfig(brokers, "anomalies-slots", "group-slots")
	svc := newSlotService(t, cfg)
	states := map[int64][]byte{}
	write := func(gen uint64, offset int64) error {
		proc := partitionAt(t, svc, offset)
		states[offset] = proc.appendState(nil, offset)
		_, _, err := svc.writeCheckpointInto(context.Background(), checkpointJob{partition: 1, slot: int(gen % 2), gen: gen, offset: offset, state: states[offset]}, 0, nil)
		return err
	}
	load := func(committed, want int64) {
		t.Helper()
		res, err := svc.loadCheckpoint(context.Background(), 1, committed)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case want < 0 && res.proc != nil:
			t.Fatalf("committed %d: restored the checkpoint at %d, want none", committed, res.next)
		case want >= 0 && (res.proc == nil || res.next != want):
			t.Fatalf("committed %d: restored %v at %d, want the checkpoint at %d", committed, res.proc != nil, res.next, want)
		case want >= 0 && string(res.proc.appendState(nil, res.next)) != string(states[want]):
			t.Fatalf("committed %d: the restored state differs from the one written", committed)
		}
	}
	for gen, offset := range []int64{100, 200} {
		if err := write(uint64(gen+1), offset); err != nil {
			t.Fatal(err)
		}
	}
	load(250, 200)
	load(150, 100)
	load(50, -1)

	// Generation 3 goes to slot 1, over the checkpoint at 100, and dies
	// after one chunk: slot 1 is torn.
	real := svc.state
	svc.state = &tornWriter{writeCloser: real, keep: 1}
	if err := write(3, 300); err == nil {
		t.Fatal("the torn write reported success")
	}
	svc.state = real
	load(350, 200)
	load(150, -1)
	if n := counter(t, svc.reg, "driftlock_detector_checkpoint_restores_total", map[string]string{"outcome": "rejected"}); n != 1 {
		t.Fatalf("%v checkpoints rejected, want the torn one", n)
	}
	if err := write(3, 300); err != nil {
		t.Fatal(err)
	}
	load(350, 300)

	// Altered bytes fail the checksum; the other slot is used.
	key := svc.statePrefix(1) + "1/0"
	if err := real.WriteMessages(context.Background(), kafka.Message{Key: []byte(key), Value: []byte(chunkMagic + "\x03\x00garbage")}); err != nil {
		t.Fatal(err)
	}
	load(350, 200)

	// Other scoring settings make every checkpoint unusable.
	other := cfg
	other.Detector.Threshold = 0.95
	load2 := newSlotService(t, other)
	if res, err := load2.loadCheckpoint(context.Background(), 1, 350); err != nil || res.proc != nil {
		t.Fatalf("restored %v (error %v) under other settings", res.proc != nil, err)
	}
}

// newSlotService is a Service whose state topic is ready; Run is not called.
func newSlotService(t *testing.T, cfg config.Config) *Service {
	t.Helper()
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Close)
	svc, err := New(cfg, bus, testkit.QuietLog())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	svc.checkpointChunk = 512
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := svc.prepareStateTopic(ctx); err != nil {
		t.Fatal(err)
	}
	return svc
}

// partitionAt is the state of a processor fed the scenario's records of
// one partition's worth up to offset.
func partitionAt(t *testing.T, svc *Service, offset int64) *Processor {
	t.Helper()
	proc := newProcessor(1, newStreamTable(svc.cfg.Detector.MaxStreams, svc.scoring, svc.newScorer), svc.records)
	msgs := scenario(int(offset/4) + 1)
	for i := int64(0); i < offset; i++ {
		ev, id, err := decodeRecord(msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := proc.push(id, ev, i); err != nil {
			t.Fatal(err)
		}
	}
	return proc
}

// FuzzRestoreState feeds the partition state and manifest decoders bad
// bytes: they must return an error or a state that encodes back.
func FuzzRestoreState(f *testing.F) {
	cfg := testConfig([]string{"127.0.0.1:1"}, "a", "g")
	svc := &Service{cfg: cfg, scoring: cfg.Detector.Scoring(), newScorer: newCBADScorer,
		records: newRecordBuilder(cfg.Detector, "test", fixedClock)}
	proc := newProcessor(0, newStreamTable(cfg.Detector.MaxStreams, svc.scoring, svc.newScorer), svc.records)
	for i, msg := range scenario(40) {
		ev, id, _ := decodeRecord(msg)
		_, _ = proc.push(id, ev, int64(i))
	}
	f.Add(proc.appendState(nil, 160))
	f.Add(manifest{gen: 3, offset: 7, chunks: 2}.encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = decodeManifest(data)
		p, next, err := svc.restoreState(0, data)
		if err != nil {
			return
		}
		if _, _, err := svc.restoreState(0, p.appendState(nil, next)); err != nil {
			t.Fatalf("a restored state does not restore again: %v", err)
		}
	})
}

// TestCheckpointSlotChoice checks which slot a checkpoint replaces: never
// the only complete one at or before the committed offset.
func TestCheckpointSlotChoice(t *testing.T) {
	cases := []struct {
		offsets   [2]int64
		committed int64
		want      int
	}{
		{[2]int64{-1, -1}, 0, 0},               // none written yet
		{[2]int64{100, -1}, 150, 1},            // keep the committed one
		{[2]int64{100, -1}, 50, 0},             // the only one is not usable yet
		{[2]int64{100, 200}, 250, 0},           // both usable: replace the older
		{[2]int64{100, 200}, 150, 1},           // the newer is beyond the commit: keep 100
		{[2]int64{math.MaxInt64, 200}, 250, 0}, // a torn slot is rewritten
		{[2]int64{300, math.MaxInt64}, 350, 1}, // likewise in slot 1
	}
	for _, c := range cases {
		ck := &checkpointer{offsets: c.offsets, committed: func() int64 { return c.committed }}
		if got := ck.slot(); got != c.want {
			t.Errorf("slots at %v, committed %d: wrote slot %d, want %d", c.offsets, c.committed, got, c.want)
		}
	}
}
