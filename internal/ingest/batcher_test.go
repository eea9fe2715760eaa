package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/otlpconv"
	"github.com/driftlock/driftlock/internal/testkit"
)

// producerHarness is a producer on an in-memory broker whose events
// topic has three partitions.
type producerHarness struct {
	t       testing.TB
	p       *producer
	m       *metrics
	cluster *kfake.Cluster
	cfg     config.Config
}

func startProducer(t testing.TB, tweak func(*producerConfig)) *producerHarness {
	t.Helper()
	return startProducerAuth(t, config.SASL{}, tweak)
}

// startProducerAuth starts a producer on a broker that wants SASL with
// the mechanism and user of auth, unless auth.Mechanism is empty.
func startProducerAuth(t testing.TB, auth config.SASL, tweak func(*producerConfig)) *producerHarness {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.SeedTopics(3, testTopic)}
	if auth.Mechanism != "" {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser(auth.Mechanism, auth.Username, auth.Password))
	}
	c, _ := testkit.NewCluster(t, opts...)
	return startProducerOn(t, c, auth, tweak)
}

// startProducerOn starts a producer on the running cluster c, with the
// SASL settings of auth.
func startProducerOn(t testing.TB, c *kfake.Cluster, auth config.SASL, tweak func(*producerConfig)) *producerHarness {
	t.Helper()
	cfg := config.Default()
	cfg.Kafka.Brokers = c.ListenAddrs()
	cfg.Kafka.SASL = auth
	bus, err := kafkabus.New(cfg.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	pc := producerConfig{topic: testTopic, batchRecords: 100, linger: 5 * time.Millisecond, compression: "none",
		writeTimeout: 5 * time.Second, maxBytes: 1_000_000, inflight: 64 << 20, idle: laneIdle}
	if tweak != nil {
		tweak(&pc)
	}
	client := bus.Client()
	client.Timeout = pc.writeTimeout
	m := newMetrics(prometheus.NewRegistry())
	p, err := newProducer(pc, client, bus.DialBroker, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if clock, ok := pc.clock.(*testkit.ManualClock); ok {
			// Batches still retrying wait on the clock: it runs while
			// the producer closes.
			defer runClock(clock)()
		}
		if err := p.close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		bus.Close()
	})
	return &producerHarness{t: t, p: p, m: m, cluster: c, cfg: cfg}
}

// observe reports the records of each produce request the broker gets, by
// partition, and the compression of its batch.
func (h *producerHarness) observe() <-chan producedBatch {
	ch := make(chan producedBatch, 1000)
	h.cluster.ControlKey(int16(kmsg.Produce), func(req kmsg.Request) (kmsg.Response, error, bool) {
		h.cluster.KeepControl()
		for _, tp := range req.(*kmsg.ProduceRequest).Topics {
			for _, pp := range tp.Partitions {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(pp.Records); err == nil {
					ch <- producedBatch{partition: int(pp.Partition), records: int(rb.NumRecords), compression: rb.Attributes & 7}
				}
			}
		}
		return nil, nil, false
	})
	return ch
}

type producedBatch struct {
	partition, records int
	compression        int16
}

// consume reads the whole events topic.
func (h *producerHarness) consume() []*kgo.Record {
	return (&harness{t: h.t, cfg: h.cfg}).consumeAll()
}

// runClock moves clock on by 100ms every millisecond until the returned
// function is called.
func runClock(clock *testkit.ManualClock) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				clock.Advance(100 * time.Millisecond)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// produceAsync produces recs on a goroutine of its own and sends the
// outcome on the returned channel.
func (h *producerHarness) produceAsync(recs []otlpconv.Record) <-chan produced {
	ch := make(chan produced, 1)
	go func() {
		rej, err := h.p.produce(context.Background(), recs)
		ch <- produced{rej, err}
	}()
	return ch
}

type produced struct {
	rej []otlpconv.Rejection
	err error
}

// waitProduced waits for the outcome of produceAsync, failing the test if it
// does not come within 10 seconds (what stands in its way waits on a
// clock that did not move).
func waitProduced(t *testing.T, ch <-chan produced, what string) produced {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no answer within 10s", what)
		return produced{}
	}
}

func logRecords(key string, n int, valueSize int) []otlpconv.Record {
	recs := make([]otlpconv.Record, n)
	for i := range recs {
		v := fmt.Sprintf(`{"key":%q,"i":%d}`, key, i)
		v += strings.Repeat(" ", max(0, valueSize-len(v)))
		service, _, _ := strings.Cut(key, "|")
		recs[i] = otlpconv.Record{Key: key, Value: []byte(v), Type: event.TypeLog, Service: service, Source: sourceGRPC}
	}
	return recs
}

func batchesSeen(ch <-chan producedBatch, want int) []producedBatch {
	var got []producedBatch
	for n := 0; n < want; {
		select {
		case b := <-ch:
			got = append(got, b)
			n += b.records
		case <-time.After(10 * time.Second):
			return got
		}
	}
	return got
}

// TestProducerBatchSize: a request larger than kafka.batch_size is sent as
// full batches and a rest, on the key's partition, in order.
func TestProducerBatchSize(t *testing.T) {
	h := startProducer(t, func(c *producerConfig) { c.batchRecords = 10 })
	seen := h.observe()
	recs := logRecords("checkout|log", 25, 0)
	if rej, err := h.p.produce(context.Background(), recs); err != nil || rej != nil {
		t.Fatalf("produce: %v %v", rej, err)
	}
	part := partitionOf("checkout|log", 3)
	got := batchesSeen(seen, 25)
	if fmt.Sprint(got) != fmt.Sprint([]producedBatch{{part, 10, 0}, {part, 10, 0}, {part, 5, 0}}) {
		t.Errorf("produce requests %v, want 10, 10, 5 records on partition %d", got, part)
	}
	for i, r := range h.consume() {
		if want := fmt.Sprintf(`"i":%d}`, i); !strings.HasSuffix(string(r.Value), want) || int(r.Partition) != part {
			t.Errorf("record %d: %s on partition %d, want %s on %d", i, r.Value, r.Partition, want, part)
		}
	}
}

// TestProducerSharesBatches: records of concurrent requests share a batch,
// and each request is answered when that batch is acknowledged.
func TestProducerSharesBatches(t *testing.T) {
	h := startProducer(t, func(c *producerConfig) { c.batchRecords = 3; c.linger = time.Hour })
	seen := h.observe()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.p.produce(context.Background(), logRecords("checkout|log", 1, 10*i))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := batchesSeen(seen, 3); len(got) != 1 || got[0].records != 3 {
		t.Errorf("produce requests %v, want one of 3 records", got)
	}
	if n := testutil.CollectAndCount(h.m.kafkaBatchRecords); n != 1 {
		t.Errorf("batch records histogram has %d series", n)
	}
}

// TestProducerLinger: a batch that does not fill waits
// kafka.batch_timeout_ms on the producer's clock, gathering the records of
// the requests that come meanwhile, then goes with what it holds.
func TestProducerLinger(t *testing.T) {
	clock := testkit.NewManualClock(time.Now())
	h := startProducer(t, func(c *producerConfig) { c.clock, c.linger, c.writeTimeout = clock, time.Hour, 2*time.Hour })
	seen := h.observe()
	var answers []<-chan produced
	for i := range 2 {
		answers = append(answers, h.produceAsync(logRecords("checkout|log", 1, 10*i)))
	}
	waitOpen(t, h.p.lane(partitionOf("checkout|log", 3)), 2)
	clock.Advance(time.Hour - time.Millisecond)
	for _, a := range answers {
		select {
		case a := <-a:
			t.Fatalf("answered %v before the batch waited its linger", a.err)
		default:
		}
	}
	clock.Advance(time.Millisecond)
	for _, a := range answers {
		if a := waitProduced(t, a, "request once the linger passed"); a.err != nil {
			t.Error(a.err)
		}
	}
	if got := batchesSeen(seen, 2); len(got) != 1 || got[0].records != 2 {
		t.Errorf("produce requests %v, want one of 2 records", got)
	}
}

// TestProducerBatchBytes: a batch stays below the byte cap derived from
// the record limit.
func TestProducerBatchBytes(t *testing.T) {
	h := startProducer(t, func(c *producerConfig) { c.maxBytes = 1000 })
	seen := h.observe()
	if rej, err := h.p.produce(context.Background(), logRecords("checkout|log", 5, 400)); err != nil || rej != nil {
		t.Fatalf("produce: %v %v", rej, err)
	}
	got := batchesSeen(seen, 5)
	if fmt.Sprint(got) != fmt.Sprint([]producedBatch{{got[0].partition, 2, 0}, {got[0].partition, 2, 0}, {got[0].partition, 1, 0}}) {
		t.Errorf("produce requests %v, want 2, 2, 1 records", got)
	}
	rej, err := h.p.produce(context.Background(), logRecords("checkout|log", 1, 1000))
	if err != nil || len(rej) != 1 || !strings.Contains(rej[0].Message, "over the limit of 1000 bytes") {
		t.Errorf("record over the limit: %v %v", rej, err)
	}
}

// TestProducerCompression: every codec's batches read back through a
// consumer with keys, values, headers and partitions intact.
func TestProducerCompression(t *testing.T) {
	for code, name := range codecNames {
		t.Run(name, func(t *testing.T) {
			h := startProducer(t, func(c *producerConfig) { c.compression = name })
			seen := h.observe()
			var recs []otlpconv.Record
			for _, key := range []string{"checkout|log", "cart|log", "pay|log", "auth|log"} {
				recs = append(recs, logRecords(key, 30, 200)...)
			}
			if rej, err := h.p.produce(context.Background(), recs); err != nil || rej != nil {
				t.Fatalf("produce: %v %v", rej, err)
			}
			for _, b := range batchesSeen(seen, len(recs)) {
				if b.compression != int16(code) {
					t.Errorf("batch compression %d, want %d", b.compression, code)
				}
			}
			got := h.consume()
			if len(got) != len(recs) {
				t.Fatalf("%d records on the topic, want %d", len(got), len(recs))
			}
			values := map[string]bool{}
			for _, r := range got {
				values[string(r.Value)] = true
				service, _, _ := strings.Cut(string(r.Key), "|")
				checkHeaders(t, r, event.TypeLog, service, sourceGRPC)
				if int(r.Partition) != partitionOf(string(r.Key), 3) {
					t.Errorf("key %s on partition %d", r.Key, r.Partition)
				}
			}
			for _, r := range recs {
				if !values[string(r.Value)] {
					t.Errorf("record %s missing", r.Value)
				}
			}
		})
	}
}

// TestProducerCloseFlushes: close sends what waits in open batches and
// answers their requests; later requests are refused.
func TestProducerCloseFlushes(t *testing.T) {
	h := startProducer(t, func(c *producerConfig) { c.linger = time.Hour })
	errc := make(chan error, 1)
	go func() {
		_, err := h.p.produce(context.Background(), logRecords("checkout|log", 2, 0))
		errc <- err
	}()
	waitOpen(t, h.p.lane(partitionOf("checkout|log", 3)), 2)
	if err := h.p.close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Errorf("request waiting at close: %v", err)
	}
	if n := len(h.consume()); n != 2 {
		t.Errorf("%d records on the topic, want 2", n)
	}
	if _, err := h.p.produce(context.Background(), logRecords("checkout|log", 1, 0)); reasonOf(err) != reasonNotReady {
		t.Errorf("produce after close: %v, want a retryable not-ready error", err)
	}
}

// TestProducerRetries: retriable errors are retried after a backoff
// within the write timeout; a permanent one fails the request at once as
// unavailable.
func TestProducerRetries(t *testing.T) {
	clock := testkit.NewManualClock(time.Now())
	h := startProducer(t, func(c *producerConfig) { c.clock, c.linger = clock, 0 })
	h.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.NotLeaderForPartition, Count: 2})
	answered := h.produceAsync(logRecords("checkout|log", 3, 0))
	for _, backoff := range []time.Duration{retryBackoffMin, 2 * retryBackoffMin} {
		clock.WaitForTimer(t, 10*time.Second, retryBackoffMin) // the batch's backoff
		clock.Advance(backoff)
	}
	if a := waitProduced(t, answered, "produce through two NOT_LEADER answers"); a.err != nil {
		t.Fatalf("produce through two NOT_LEADER answers: %v", a.err)
	}
	if n := len(h.consume()); n != 3 {
		t.Errorf("%d records on the topic, want 3", n)
	}
	fault := h.cluster.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Err: kerr.InvalidRecord, Count: -1})
	defer fault.Remove()
	// Answered while the clock stands: neither retried nor left to time out.
	err := waitProduced(t, h.produceAsync(logRecords("checkout|log", 1, 0)), "permanent error").err
	if reasonOf(err) != reasonKafkaUnavailable || !errors.Is(err, kafka.InvalidRecord) || !strings.Contains(err.Error(), "Invalid Record") {
		t.Errorf("permanent error: %v, want kafka unavailable naming it", err)
	}
	if v := testutil.ToFloat64(h.m.kafkaErrors.WithLabelValues("kafka_unavailable")); v != 1 {
		t.Errorf("kafka errors counted %v, want 1", v)
	}
}

// TestProducerSplitsRefusedBatch: when Kafka refuses a batch shared by two
// requests as too large, its records are sent one by one; only the record
// refused alone is rejected, to the request it came from.
func TestProducerSplitsRefusedBatch(t *testing.T) {
	h := startProducer(t, func(c *producerConfig) { c.batchRecords = 3; c.linger = time.Hour })
	setMaxMessageBytes(t, h.cfg.Kafka.Brokers, "3000")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	big := logRecords("checkout|log", 1, 4000)[0]
	type answer struct {
		rej []otlpconv.Rejection
		err error
	}
	first := make(chan answer, 1)
	go func() {
		rej, err := h.p.produce(ctx, append(logRecords("checkout|log", 1, 0), big))
		first <- answer{rej, err}
	}()
	waitOpen(t, h.p.lane(partitionOf("checkout|log", 3)), 2)
	rej, err := h.p.produce(ctx, logRecords("checkout|log", 1, 10))
	if err != nil || rej != nil {
		t.Errorf("request sharing the batch: %v %v, want success", rej, err)
	}
	a := <-first
	if a.err != nil || len(a.rej) != 1 || !strings.Contains(a.rej[0].Message, "refused by kafka as too large") {
		t.Errorf("request with the large record: %v %v, want it rejected alone", a.rej, a.err)
	}
	if n := len(h.consume()); n != 2 {
		t.Errorf("%d records on the topic, want the 2 small ones", n)
	}
	// A batch of the large record alone, sent by close, is not split.
	go func() {
		rej, err := h.p.produce(ctx, []otlpconv.Record{big})
		first <- answer{rej, err}
	}()
	waitOpen(t, h.p.lane(partitionOf("checkout|log", 3)), 1)
	if err := h.p.close(ctx); err != nil {
		t.Fatal(err)
	}
	if a := <-first; a.err != nil || len(a.rej) != 1 || !strings.Contains(a.rej[0].Message, `log record of stream "checkout|log"`) {
		t.Errorf("large record alone: %v %v, want it rejected", a.rej, a.err)
	}
}

// waitOpen waits until l's open batch holds n records.
func waitOpen(t *testing.T, l *lane, n int) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, fmt.Sprintf("the open batch to hold %d records", n), func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.open != nil && l.open.records == n
	})
}

// TestProducerSASL: batches go to a broker that wants SASL on the lanes'
// own connections, authenticated as configured.
func TestProducerSASL(t *testing.T) {
	h := startProducerAuth(t, config.SASL{Mechanism: "SCRAM-SHA-256", Username: "ingest", Password: "s3cret"}, nil)
	seen := h.observe()
	if rej, err := h.p.produce(context.Background(), logRecords("checkout|log", 5, 0)); err != nil || rej != nil {
		t.Fatalf("produce: %v %v", rej, err)
	}
	if got := batchesSeen(seen, 5); len(got) != 1 || got[0].records != 5 {
		t.Errorf("produce requests %v, want one of 5 records", got)
	}
}

// TestProducerIdleLane: a lane's sender and connection go once the lane
// was idle for the idle time, and come back with the next batch.
func TestProducerIdleLane(t *testing.T) {
	clock := testkit.NewManualClock(time.Now())
	h := startProducer(t, func(c *producerConfig) { c.clock, c.linger = clock, 0 })
	l := h.p.lane(partitionOf("checkout|log", 3))
	served := func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.serving || l.conn.pc != nil
	}
	for round := range 2 {
		if _, err := h.p.produce(context.Background(), logRecords("checkout|log", 2, 0)); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		clock.WaitForTimer(t, 10*time.Second, h.p.cfg.idle) // the lane's idle time
		if !served() {
			t.Fatalf("round %d: the lane let go before its idle time", round)
		}
		clock.Advance(h.p.cfg.idle)
		testkit.WaitFor(t, 10*time.Second, fmt.Sprintf("round %d: the lane unserved and disconnected", round), func() bool {
			return !served()
		})
	}
	if n := len(h.consume()); n != 4 {
		t.Errorf("%d records on the topic, want 4", n)
	}
}

// TestProducerLeaderMoves: after a partition's leader moves to another
// broker, the old leader's refusal makes the lane ask it for the leaders
// at once, and the batch goes to the new leader on the next attempt
// (kafka-go's transport, asked otherwise, learns of the move seconds
// later).
func TestProducerLeaderMoves(t *testing.T) {
	c, _ := testkit.NewCluster(t, kfake.NumBrokers(2), kfake.SeedTopics(3, testTopic))
	clock := testkit.NewManualClock(time.Now())
	h := startProducerOn(t, c, config.SASL{}, func(c *producerConfig) { c.clock, c.linger = clock, 0 })
	p := h.p
	if _, err := p.produce(context.Background(), logRecords("checkout|log", 2, 0)); err != nil {
		t.Fatal(err)
	}
	from, to := moveLeader(t, c, "checkout|log")
	attempts := countProduce(c)
	moved := h.produceAsync(logRecords("checkout|log", 2, 0))
	clock.WaitForTimer(t, 10*time.Second, retryBackoffMin) // the refused batch's backoff
	clock.Advance(retryBackoffMin)
	if a := waitProduced(t, moved, "produce after the leader moved"); a.err != nil {
		t.Fatalf("produce after the leader moved from %d to %d: %v", from, to, a.err)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("%d produce requests after the move, want 2 (the old leader's refusal, then the new leader)", n)
	}
	// Past the partition count's usual cache time, the leaders learnt from
	// the old leader still hold: the next batch goes straight to the new one.
	clock.Advance(metadataTTL + 200*time.Millisecond)
	if _, err := p.produce(context.Background(), logRecords("checkout|log", 2, 0)); err != nil {
		t.Fatal(err)
	}
	if n := attempts.Load(); n != 3 {
		t.Errorf("%d produce requests after the move and a second batch, want 3", n)
	}
}

// moveLeader moves the leader of key's partition of the test topic to the
// other broker of the two of c, and returns the old and the new leader.
func moveLeader(t testing.TB, c *kfake.Cluster, key string) (from, to int32) {
	t.Helper()
	part := int32(partitionOf(key, 3))
	from = c.LeaderFor(testTopic, part)
	to = (from + 1) % 2
	if err := c.MoveTopicPartition(testTopic, part, to); err != nil {
		t.Fatal(err)
	}
	return from, to
}

// countProduce counts the produce requests c gets from now on.
func countProduce(c *kfake.Cluster) *atomic.Int32 {
	var n atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		n.Add(1)
		return nil, nil, false
	})
	return &n
}
