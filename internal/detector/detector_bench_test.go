package detector

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus/testutil"
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

// BenchmarkEndToEndThroughput measures events per second from a backlog on
// otlp-events (40,000 events) to every event scored and every anomaly
// acknowledged by anomaly-events, at default settings, from the start of a
// new replica (group join included). Each iteration also measures the
// floor, the least any detector of these records does: decode each record
// and pass its bytes once through zstd (see floorCPU); cpu-µs/event and
// floor-cpu-µs/event come from the same run, x-floor is their ratio.
func BenchmarkEndToEndThroughput(b *testing.B) {
	b.ReportAllocs()
	_, brokers := testkit.NewCluster(b)
	input := scenario(2 * benchPerStream)
	produce(b, brokers, eventsTopic, input)
	b.ResetTimer()
	var elapsed, cpu, floor time.Duration
	for i := range b.N {
		cpuBefore := processCPU()
		cfg := benchConfig(brokers, "throughput-"+strconv.Itoa(i))
		began := time.Now()
		r := startReplica(b, cfg, nil)
		waitDone(b, r, len(input))
		elapsed += time.Since(began)
		cpu += processCPU() - cpuBefore
		b.StopTimer()
		r.stop(b)
		if n := len(readTopic(b, brokers, cfg.Kafka.AnomaliesTopic)); i == 0 {
			b.ReportMetric(float64(n), "anomalies")
		}
		floor += floorCPU(b, input)
		b.StartTimer()
	}
	events := float64(len(input) * b.N)
	b.ReportMetric(events/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/events, "cpu-µs/event")
	b.ReportMetric(float64(floor.Microseconds())/events, "floor-cpu-µs/event")
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
		if _, err := event.DecodeRecord(m.Value); err != nil {
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
// and every anomaly it found was acknowledged.
func waitDone(b *testing.B, r *replica, n int) {
	m := r.svc.metrics
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		scored := testutil.ToFloat64(m.events.WithLabelValues("log")) + testutil.ToFloat64(m.events.WithLabelValues("metric"))
		found := counter(b, r.svc.reg, "driftlock_detector_anomalies_total", nil)
		if int(scored) >= n && testutil.ToFloat64(m.publishedAnomalies) >= found {
			return
		}
	}
	b.Fatal("not done within 5 minutes")
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
