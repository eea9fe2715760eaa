package detector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/driftlock/driftlock/internal/cbad"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var testTiming = timing{
	heartbeat: 250 * time.Millisecond, session: 6 * time.Second, rebalance: 8 * time.Second,
	joinBackoff: 200 * time.Millisecond, maxWait: 100 * time.Millisecond,
	commitInterval: 200 * time.Millisecond, drain: 5 * time.Second, partitionWatch: 5 * time.Second,
}

var fixedClock = func() time.Time { return time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) }

// testConfig is a small, fast configuration: window 64, hop 16.
func testConfig(brokers []string, anomalies, group string) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.AnomaliesTopic = anomalies
	cfg.Kafka.BatchTimeoutMS = 1
	cfg.Detector.GroupID = group
	cfg.Detector.WindowSize = 64
	cfg.Detector.HopSize = 16
	cfg.Detector.EventWarmup = 64
	cfg.Detector.Permutations = 19
	cfg.Detector.CheckpointRecords = 50
	cfg.Detector.AdminEndpoint = "127.0.0.1:0"
	return cfg
}

// replica is one running detector.
type replica struct {
	svc    *Service
	bus    *kafkabus.Bus
	faults *faults
	cancel context.CancelFunc
	done   chan error
}

var errCutOff = errors.New("replica cut off")

// faults sits between a replica and Kafka at its edges, so that a test can
// cut it off as a crash would: once down, nothing it writes is
// acknowledged (a write waits until the writer gives it up, unwritten) and
// every offset commit fails.
type faults struct{ down atomic.Bool }

// wrap puts f between s and its writers and committer.
func (f *faults) wrap(s *Service) {
	s.anomalies = faultyWriter{s.anomalies, f}
	if s.dead != nil {
		s.dead = faultyWriter{s.dead, f}
	}
	if s.state != nil {
		s.state = faultyWriter{s.state, f}
	}
	commits := s.commits
	s.commits = func(gen *kafka.Generation, offsets map[string]map[int]int64) error {
		if f.down.Load() {
			return errCutOff
		}
		return commits(gen, offsets)
	}
}

// faultyWriter stops acknowledging once its faults are down.
type faultyWriter struct {
	writeCloser
	f *faults
}

func (w faultyWriter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if w.f.down.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return w.writeCloser.WriteMessages(ctx, msgs...)
}

// startReplica runs a detector; tune adjusts it before Run.
func startReplica(t testing.TB, cfg config.Config, tune func(*Service)) *replica {
	t.Helper()
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := New(cfg, bus, testkit.QuietLog(), WithClock(fixedClock), WithVersion("test"))
	if err != nil {
		t.Fatal(err)
	}
	svc.timing = testTiming
	svc.checkpointChunk = 4 << 10 // several chunks per checkpoint
	f := &faults{}
	f.wrap(svc)
	if tune != nil {
		tune(svc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{svc: svc, bus: bus, faults: f, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	return r
}

// stop shuts the replica down gracefully and checks Run returned nil.
func (r *replica) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return within 60 s of cancel")
	}
	r.bus.Close()
}

// crash stops the replica as a crash would: nothing queued is published
// and nothing more is committed. Only the writes and commits in flight when
// it is cut off may still complete.
func (r *replica) crash(t testing.TB) {
	t.Helper()
	r.faults.down.Store(true)
	r.stop(t)
}

// slowScorer delays every push so a test can act while a replica is mid-stream.
func slowScorer(d time.Duration) scorerFactory {
	return func(key string, cfg cbad.Config) (scorer, error) {
		s, err := newCBADScorer(key, cfg)
		return slow{s, d}, err
	}
}

type slow struct {
	scorer
	d time.Duration
}

func (s slow) Push(ev event.Decoded, offset int64) (cbad.Result, error) {
	time.Sleep(s.d)
	return s.scorer.Push(ev, offset)
}

// produce writes msgs to topic (created with 3 partitions if missing).
func produce(t testing.TB, brokers []string, topic string, msgs []kafka.Message) {
	t.Helper()
	cfg := config.Default().Kafka
	cfg.Brokers = brokers
	cfg.BatchSize = 500
	bus, err := kafkabus.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := bus.EnsureTopics(ctx, topic); err != nil {
		t.Fatal(err)
	}
	w, err := bus.NewWriter(topic, kafkabus.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for len(msgs) > 0 {
		n := min(len(msgs), 500)
		if err := w.WriteMessages(ctx, msgs[:n]...); err != nil {
			t.Fatal(err)
		}
		msgs = msgs[n:]
	}
}

// progress returns the group's committed offsets summed over the topic's
// partitions and the sum of the partitions' high watermarks.
func progress(ctx context.Context, brokers []string, group, topic string) (committed, end int64, err error) {
	client, done := testClient(brokers)
	defer done()
	parts := []int{0, 1, 2}
	reqs := []kafka.OffsetRequest{kafka.LastOffsetOf(0), kafka.LastOffsetOf(1), kafka.LastOffsetOf(2)}
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return 0, 0, err
	}
	for _, po := range lo.Topics[topic] {
		end += po.LastOffset
	}
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return 0, 0, err
	}
	for _, p := range of.Topics[topic] {
		if p.CommittedOffset > 0 {
			committed += p.CommittedOffset
		}
	}
	return committed, end, nil
}

// committedOffsets returns the group's committed offset of each partition
// of topic that has one.
func committedOffsets(brokers []string, group, topic string) (map[int]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, done := testClient(brokers)
	defer done()
	of, err := client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0, 1, 2}}})
	if err != nil {
		return nil, err
	}
	out := map[int]int64{}
	for _, p := range of.Topics[topic] {
		if p.CommittedOffset >= 0 {
			out[p.Partition] = p.CommittedOffset
		}
	}
	return out, nil
}

// testClient returns a client with its own transport, so that no metadata
// cached by an earlier test is used, and a function releasing it.
func testClient(brokers []string) (*kafka.Client, func()) {
	tr := &kafka.Transport{}
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second, Transport: tr}, tr.CloseIdleConnections
}

// waitProgress waits until the group committed at least frac of the topic.
func waitProgress(t testing.TB, brokers []string, group, topic string, frac float64) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, end, err := progress(ctx, brokers, group, topic)
		cancel()
		if err == nil && end > 0 && float64(c) >= frac*float64(end) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("group %s did not commit %.0f%% of %s within 90 s", group, 100*frac, topic)
}

// readTopic returns every record of topic up to its high watermarks.
func readTopic(t testing.TB, brokers []string, topic string) []kafka.Message {
	t.Helper()
	msgs, err := tryReadTopic(brokers, topic)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func tryReadTopic(brokers []string, topic string) ([]kafka.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, done := testClient(brokers)
	defer done()
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, err
	}
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil {
		return nil, fmt.Errorf("metadata of %s: %+v", topic, meta.Topics)
	}
	var out []kafka.Message
	for _, p := range meta.Topics[0].Partitions {
		msgs, err := readPartition(ctx, client, brokers, topic, p.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

func readPartition(ctx context.Context, client *kafka.Client, brokers []string, topic string, p int) ([]kafka.Message, error) {
	lo, err := client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: {kafka.LastOffsetOf(p)}}})
	if err != nil {
		return nil, err
	}
	end := lo.Topics[topic][0].LastOffset
	if end <= 0 {
		return nil, nil
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	var out []kafka.Message
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return nil, fmt.Errorf("read %s/%d: %w", topic, p, err)
		}
		out = append(out, m)
		if m.Offset >= end-1 {
			return out, nil
		}
	}
}

// values returns the record values sorted, for comparisons across runs.
func sortedValues(msgs []kafka.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Value)
	}
	sort.Strings(out)
	return out
}

// counter reads a counter (summed over label values matching labels) from reg.
func counter(t testing.TB, reg prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matches(m, labels) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func matches(m *dto.Metric, labels map[string]string) bool {
	for k, v := range labels {
		found := false
		for _, lp := range m.GetLabel() {
			if lp.GetName() == k && lp.GetValue() == v {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
