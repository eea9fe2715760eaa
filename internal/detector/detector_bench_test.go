package detector

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/anomaly"
	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/event"
	"github.com/driftlock/driftlock/internal/kafkabus"
	"github.com/driftlock/driftlock/internal/testkit"
)

// benchConfig is the default configuration (window 1024, hop 256, 200
// permutations) on the test broker.
func benchConfig(brokers []string, name string) config.Config {
	cfg := config.Default()
	cfg.Kafka.Brokers = brokers
	cfg.Kafka.AnomaliesTopic = "anomalies-" + name
	cfg.Kafka.BatchTimeoutMS = 1
	cfg.Detector.GroupID = "group-" + name
	cfg.Detector.AdminEndpoint = "127.0.0.1:0"
	return cfg
}

// benchPerStream events per stream of the scenario's four streams.
const benchPerStream = 5000

// throughputScenarios are the backlogs of BenchmarkEndToEndThroughput, about
// 40,000 events each: the scenario's three log streams alone, its gauge
// alone, and all four.
var throughputScenarios = []struct {
	name  string
	input func() []kafka.Message
}{
	{"logs", func() []kafka.Message { return scenarioOf(8*benchPerStream/3+1, isLogKey) }},
	{"metrics", func() []kafka.Message { return scenarioOf(8*benchPerStream, isMetricKey) }},
	{"mixed", func() []kafka.Message { return scenario(2 * benchPerStream) }},
}

func isLogKey(key string) bool    { return strings.HasSuffix(key, "|log") }
func isMetricKey(key string) bool { return !isLogKey(key) }

// BenchmarkEndToEndThroughput measures, for each of throughputScenarios,
// events per second and CPU per event from a backlog on the events topic to
// every event scored and every anomaly acknowledged by anomaly-events, at
// default settings, from the start of a new replica (group join included).
// The broker runs in its own process (testkit.StartBroker), so the CPU
// time of this process over a run is the replica's. Each iteration also
// measures the floor, the least any detector of these records does: decode
// each record and pass its bytes once through zstd (see floorCPU);
// cpu-µs/event and floor-cpu-µs/event come from the same run, x-floor is
// their ratio.
func BenchmarkEndToEndThroughput(b *testing.B) {
	brokers := testkit.StartBroker(b)
	for _, sc := range throughputScenarios {
		topic := eventsTopic + "-" + sc.name
		events := 0 // produced on the first call
		b.Run(sc.name, func(b *testing.B) {
			if events == 0 {
				input := sc.input()
				produce(b, brokers, topic, input)
				events = len(input)
			}
			throughput(b, brokers, topic, events)
		})
	}
}

// throughputRuns numbers the replicas of throughput, whose groups and
// anomalies topics must be new.
var throughputRuns atomic.Int64

// throughput runs b.N replicas, one after the other, over the backlog of
// events on topic. Outside the timed CPU window: stopping the replica,
// reading the anomalies and the backlog back, and the floor (on its own
// CPU count). The backlog is not held in memory while a replica runs, as
// it would not be in the detector's process.
func throughput(b *testing.B, brokers []string, topic string, events int) {
	b.ReportAllocs()
	var elapsed, cpu, floor time.Duration
	anomalies := 0
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		cfg := benchConfig(brokers, "throughput-"+strconv.FormatInt(throughputRuns.Add(1), 10))
		cfg.Kafka.EventsTopic = topic
		runtime.GC() // the garbage of the previous iteration is not this one's
		b.StartTimer()
		cpuBefore := processCPU()
		began := time.Now()
		var r *replica
		// Profiles tell the replica's goroutines by the label replica.
		pprof.Do(context.Background(), pprof.Labels("replica", cfg.Detector.GroupID), func(context.Context) {
			r = startReplica(b, cfg, nil)
		})
		waitDone(b, r, events)
		elapsed += time.Since(began)
		cpu += processCPU() - cpuBefore
		b.StopTimer()
		r.stop(b)
		anomalies = len(readTopic(b, brokers, cfg.Kafka.AnomaliesTopic))
		floor += floorCPU(b, readTopic(b, brokers, topic))
		b.StartTimer()
	}
	n := float64(events * b.N)
	b.ReportMetric(float64(anomalies), "anomalies")
	b.ReportMetric(n/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/event")
	b.ReportMetric(float64(floor.Microseconds())/n, "floor-cpu-µs/event")
	b.ReportMetric(float64(cpu)/float64(floor), "x-floor")
}

// floorCPU is the CPU time of decoding every record of msgs as the
// detector does and passing all their bytes once through a zstd encoder.
func floorCPU(b *testing.B, msgs []kafka.Message) time.Duration {
	enc, err := zstd.NewWriter(io.Discard, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
	if err != nil {
		b.Fatal(err)
	}
	began := processCPU()
	for _, m := range msgs {
		if _, err := event.DecodeRecordNoCopy(m.Value); err != nil {
			b.Fatal(err)
		}
		if _, err := enc.Write(m.Value); err != nil {
			b.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		b.Fatal(err)
	}
	return processCPU() - began
}

// processCPU is the user and system CPU time the process has used, which
// unlike wall time does not depend on what else runs on the machine.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitDone polls the replica's counters every 5 ms until it scored n events
// and every anomaly it found was acknowledged. It reads the counters
// themselves rather than gathering the registry, which would cost the
// replica's CPU count more than the polling needs.
func waitDone(b *testing.B, r *replica, n int) {
	m := r.svc.metrics
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if int(counterSum(b, m.events)) >= n && testutil.ToFloat64(m.publishedAnomalies) >= counterSum(b, m.anomalies) {
			return
		}
	}
	b.Fatal("not done within 5 minutes")
}

// counterSum sums the counters of c over their label values.
func counterSum(b *testing.B, c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 8)
	go func() { c.Collect(ch); close(ch) }()
	var sum float64
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			b.Error(err)
		}
		sum += pb.GetCounter().GetValue()
	}
	return sum
}

// BenchmarkEndToEndLatency produces events at a steady rate
// (DETECTOR_BENCH_RATE events/s, default 2000) to a running replica and
// measures, for each anomaly, the time from the append on otlp-events of
// the event that triggered it (window.last_offset: the event that raised
// an event record, or the last event of a judged window) to the append of
// the anomaly on anomaly-events; event and window records separately, as
// both kinds are raised in the same run.
func BenchmarkEndToEndLatency(b *testing.B) {
	b.ReportAllocs()
	rate := 2000
	if v, err := strconv.Atoi(os.Getenv("DETECTOR_BENCH_RATE")); err == nil && v > 0 {
		rate = v
	}
	lat := map[string][]time.Duration{}
	for i := range b.N {
		_, brokers := testkit.NewCluster(b)
		cfg := benchConfig(brokers, "latency-"+strconv.Itoa(i))
		r := startReplica(b, cfg, nil)
		producePaced(b, brokers, scenario(benchPerStream), rate)
		waitProgress(b, brokers, cfg.Detector.GroupID, eventsTopic, 1)
		r.stop(b)
		for kind, ds := range latencies(b, brokers, cfg.Kafka.AnomaliesTopic) {
			lat[kind] = append(lat[kind], ds...)
		}
	}
	for _, kind := range []string{anomaly.KindEvent, anomaly.KindWindow} {
		ds := lat[kind]
		if len(ds) == 0 {
			b.Fatalf("no %s anomalies", kind)
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Milliseconds()), kind+"-p50-ms")
		b.ReportMetric(float64(ds[(len(ds)*99)/100].Milliseconds()), kind+"-p99-ms")
		b.ReportMetric(float64(len(ds))/float64(b.N), kind+"-anomalies")
	}
}

// producePaced writes msgs in 10 ms ticks at rate records per second.
func producePaced(b *testing.B, brokers []string, msgs []kafka.Message, rate int) {
	produce(b, brokers, eventsTopic, nil) // creates the topic
	kcfg := config.Default().Kafka
	kcfg.Brokers, kcfg.BatchSize, kcfg.BatchTimeoutMS = brokers, 1000, 1
	bus, err := kafkabus.New(kcfg)
	if err != nil {
		b.Fatal(err)
	}
	defer bus.Close()
	w, err := bus.NewWriter(eventsTopic, kafkabus.WriterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	per := max(1, rate/100)
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for len(msgs) > 0 {
		n := min(per, len(msgs))
		if err := w.WriteMessages(context.Background(), msgs[:n]...); err != nil {
			b.Fatal(err)
		}
		msgs = msgs[n:]
		<-t.C
	}
}

// latencies pairs each anomaly with the record at its window's last
// offset, by kind.
func latencies(b *testing.B, brokers []string, topic string) map[string][]time.Duration {
	events := map[[2]int64]time.Time{}
	for _, m := range readTopic(b, brokers, eventsTopic) {
		events[[2]int64{int64(m.Partition), m.Offset}] = m.Time
	}
	out := map[string][]time.Duration{}
	for _, m := range readTopic(b, brokers, topic) {
		a, err := anomaly.Decode(m.Value)
		if err != nil {
			b.Fatal(err)
		}
		arrived, ok := events[[2]int64{int64(a.Window.Partition), a.Window.LastOffset}]
		if !ok {
			b.Fatalf("anomaly %s names offset %d/%d not on %s", a.ID, a.Window.Partition, a.Window.LastOffset, eventsTopic)
		}
		out[a.Kind] = append(out[a.Kind], m.Time.Sub(arrived))
	}
	return out
}

// BenchmarkStreamMemory reports the state of one stream with full windows at
// default settings: SizeBytes and the heap it holds.
func BenchmarkStreamMemory(b *testing.B) {
	b.ReportAllocs()
	const streams = 20
	msgs := scenario(2*1024 + 256)
	var size int
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tab := newStreamTable(streams, config.Default().Detector.Scoring(), newCBADScorer)
		for c := range streams / 4 { // copies of the scenario's four streams
			for i, m := range msgs {
				d, id, err := decodeRecord(m)
				if err != nil {
					b.Fatal(err)
				}
				id.key = fmt.Sprintf("%s#%d", id.key, c)
				st, _, err := tab.get(id)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := st.scorer.Push(d, int64(i)); err != nil {
					b.Fatal(err)
				}
			}
		}
		size = tab.sizeBytes() / tab.len()
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/float64(tab.len()), "heap-B/stream")
		runtime.KeepAlive(tab)
	}
	b.ReportMetric(float64(size), "SizeBytes/stream")
}
