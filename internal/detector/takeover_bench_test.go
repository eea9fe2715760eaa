package detector

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

// takeoverStreams is the number of streams of the takeover benchmark's
// partition: half log streams, half gauges.
const takeoverStreams = 1000

// BenchmarkTakeover measures how long a replica assigned a partition takes
// to go live: from the assignment to scoring (and publishing) the first
// record after the committed offset, at default settings. The partition
// retains DETECTOR_BENCH_RETAINED events (default 200,000) and, in a
// second run, twice as many, plus 99,999, spread round-robin over 1,000
// streams; a first replica processed them all, writing a checkpoint every
// detector.checkpoint_records (100,000) records, and crashed after
// committing, so that its latest checkpoint stands 99,999 records before
// the committed offset (the worst case). "checkpoint" restores the latest
// checkpoint and replays the records after it; "replay" has checkpoints
// off and replays the whole partition; "handover" follows an owner that
// stopped gracefully, writing a checkpoint at its committed offset.
func BenchmarkTakeover(b *testing.B) {
	retained := 200_000
	if v, err := strconv.Atoi(os.Getenv("DETECTOR_BENCH_RETAINED")); err == nil && v > 0 {
		retained = v
	}
	for _, n := range []int{retained, 2 * retained} {
		b.Run("retained="+strconv.Itoa(n), func(b *testing.B) { benchTakeover(b, n) })
	}
}

// quickCrash keeps the wind-down of a replica that will crash short: its
// publisher and its hand-over checkpoint, which a crash never
// acknowledges, give up after half a second. A replica that stops
// gracefully keeps the tests' bound (testTiming.drain), which a
// checkpoint of 1,000 full streams needs.
func quickCrash(s *Service) { s.timing.drain = 500 * time.Millisecond }

func benchTakeover(b *testing.B, n int) {
	_, brokers := testkit.NewCluster(b)
	cfg := benchConfig(brokers, "takeover")
	cfg.Kafka.TopicPartitions = 1
	// The worst case: the latest checkpoint stands checkpoint_records-1
	// records before the committed offset.
	total := n + cfg.Detector.CheckpointRecords - 1
	next := produceStreams(b, cfg.Kafka, 0, total)
	first := startReplica(b, cfg, quickCrash)
	waitCommitted(b, brokers, cfg)
	waitMetric(b, func() bool {
		return counter(b, first.svc.reg, "driftlock_detector_checkpoints_total", map[string]string{"outcome": "written"}) >=
			float64(total/cfg.Detector.CheckpointRecords)
	})
	first.crash(b)
	size := histogram(b, first, "driftlock_detector_checkpoint_size_bytes")
	write := histogram(b, first, "driftlock_detector_checkpoint_write_duration_seconds")
	for _, mode := range []string{"checkpoint", "replay", "handover"} {
		b.Run(mode, func(b *testing.B) {
			c := cfg
			if mode == "replay" {
				c.Detector.CheckpointRecords = 0
			}
			if mode == "handover" {
				// An owner that stops gracefully, so that the first
				// iteration follows a hand-over too.
				next = produceStreams(b, cfg.Kafka, next, 1)
				takeOver(b, c, true)
			}
			var sum takeover
			for range b.N {
				next = produceStreams(b, cfg.Kafka, next, 1)
				t := takeOver(b, c, mode == "handover")
				sum.live += t.live
				sum.restore += t.restore
				sum.replayed += t.replayed
			}
			b.ReportMetric(sum.live.Seconds()/float64(b.N), "live-s")
			b.ReportMetric(sum.restore.Seconds()/float64(b.N), "restore-s")
			b.ReportMetric(sum.replayed/float64(b.N), "replayed")
			if mode == "checkpoint" {
				b.ReportMetric(size.sum/max(size.count, 1)/1e6, "checkpoint-MB")
				b.ReportMetric(write.sum/max(write.count, 1), "checkpoint-write-s")
			}
		})
	}
}

// takeover is what one replica taking over the partition measured.
type takeover struct {
	live, restore time.Duration
	replayed      float64
}

// takeOver starts a replica of cfg, measures how long it takes from its
// assignment to scoring the one record after the committed offset, and,
// once that is committed, stops it gracefully or crashes it, which leaves
// the latest checkpoint where it was.
func takeOver(b *testing.B, cfg config.Config, graceful bool) takeover {
	tune := quickCrash
	if graceful {
		tune = nil
	}
	r := startReplica(b, cfg, tune)
	m := r.svc.metrics
	waitMetric(b, func() bool { return testutil.ToFloat64(m.rebalances) >= 1 })
	assigned := time.Now()
	waitMetric(b, func() bool { return counter(b, r.svc.reg, "driftlock_detector_events_total", nil) >= 1 })
	live := time.Since(assigned)
	waitCommitted(b, cfg.Kafka.Brokers, cfg)
	if graceful {
		r.stop(b)
	} else {
		r.crash(b)
	}
	restore := histogram(b, r, "driftlock_detector_checkpoint_restore_duration_seconds").sum
	return takeover{live: live, restore: time.Duration(restore * float64(time.Second)), replayed: testutil.ToFloat64(m.replayed)}
}

// waitCommitted waits until cfg's group committed the whole events topic.
func waitCommitted(b *testing.B, brokers []string, cfg config.Config) {
	b.Helper()
	waitMetric(b, func() bool {
		c, end, err := progress(context.Background(), brokers, cfg.Detector.GroupID, eventsTopic)
		return err == nil && end > 0 && c >= end
	})
}

// produceStreams appends n events to the single partition of the events
// topic, round-robin over takeoverStreams streams, continuing the sequence
// at from; it returns the next position.
func produceStreams(b *testing.B, kc config.Kafka, from, n int) int {
	b.Helper()
	rng := rand.New(rand.NewPCG(uint64(from), 5))
	writeEvents(b, kc, n, func(i int) kafka.Message {
		i += from
		return streamEvent(rng, i%takeoverStreams, i/takeoverStreams)
	})
	return from + n
}

// streamEvent is the record of event number round of stream s of the
// benchmarks' streams: two per service, the even one a log stream, the
// odd one a latency gauge.
func streamEvent(rng *rand.Rand, s, round int) kafka.Message {
	service := fmt.Sprintf("svc-%03d", s/2)
	key, ev := service+"|log", logEvent(rng, service, round, false)
	if s%2 == 1 {
		key, ev = service+"|metric|latency", gaugeEvent(service, "latency", round, 100+10*float64(s%7)+rng.NormFloat64()*3)
	}
	value, _ := json.Marshal(ev)
	return kafka.Message{Key: []byte(key), Value: value, Headers: []kafka.Header{
		{Key: event.HeaderEventType, Value: []byte(ev.Type)},
		{Key: event.HeaderContentType, Value: []byte(event.ContentTypeJSON)},
	}}
}

// writeEvents writes the records next yields for 0 to n-1 to the events
// topic (created when missing), in batches.
func writeEvents(b *testing.B, kc config.Kafka, n int, next func(i int) kafka.Message) {
	b.Helper()
	kc.BatchSize = 1000
	bus, err := kafkabus.New(kc)
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := bus.EnsureTopics(ctx, eventsTopic); err != nil {
		b.Fatal(err)
	}
	w, err := bus.NewWriter(eventsTopic, kafkabus.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	batch := make([]kafka.Message, 0, 5000)
	for i := range n {
		batch = append(batch, next(i))
		if len(batch) == cap(batch) || i == n-1 {
			if err := w.WriteMessages(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

func waitMetric(b *testing.B, cond func() bool) {
	b.Helper()
	if !testkit.Poll(30*time.Minute, cond) {
		b.Fatal("not reached within 30 minutes")
	}
}

type histo struct{ sum, count float64 }

// histogram reads the sum and count of a histogram of r's registry.
func histogram(b *testing.B, r *replica, name string) histo {
	b.Helper()
	mfs, err := r.svc.reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	var h histo
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				h.sum += m.GetHistogram().GetSampleSum()
				h.count += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return h
}

// BenchmarkCheckpointCost measures what checkpoints cost while processing:
// a new replica processes a backlog of DETECTOR_BENCH_RETAINED events
// (default 200,000; 1,000 streams as in BenchmarkTakeover) to the end,
// with checkpoints every detector.checkpoint_records (100,000) records and
// with them off, and reports the CPU per event of each (user+system time
// of the process, broker included).
func BenchmarkCheckpointCost(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("DETECTOR_BENCH_RETAINED")); err == nil && v > 0 {
		n = v
	}
	_, brokers := testkit.NewCluster(b)
	base := benchConfig(brokers, "cost")
	base.Kafka.TopicPartitions = 1
	produceStreams(b, base.Kafka, 0, n)
	for _, mode := range []string{"checkpoints", "off"} {
		b.Run(mode, func(b *testing.B) {
			var cpu time.Duration
			for i := range b.N {
				cfg := benchConfig(brokers, "cost-"+mode+"-"+strconv.Itoa(i))
				cfg.Kafka.TopicPartitions = 1
				if mode == "off" {
					cfg.Detector.CheckpointRecords = 0
				}
				before := processCPU()
				r := startReplica(b, cfg, nil)
				waitMetric(b, func() bool {
					c, end, err := progress(context.Background(), brokers, cfg.Detector.GroupID, eventsTopic)
					return err == nil && end > 0 && c >= end
				})
				cpu += processCPU() - before
				r.stop(b)
			}
			b.ReportMetric(float64(cpu.Microseconds())/float64(n*b.N), "cpu-µs/event")
		})
	}
}
