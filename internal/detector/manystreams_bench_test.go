package detector

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"

	"github.com/driftlock/driftlock/internal/config"
	"github.com/driftlock/driftlock/internal/testkit"
)

// BenchmarkManyStreams measures one replica holding many small streams:
// DETECTOR_BENCH_STREAMS streams (default 100,000; half log streams, half
// latency gauges) spread by key over the three partitions of the events
// topic, each with 20 to 50 events (seeded), produced in rounds of one
// event per stream that still has one. A new replica (default settings,
// max_streams raised to the stream count so that none is evicted,
// checkpoints off so that the broker's copy of the state is not counted)
// processes them all. It reports the heap in use per stream
// (runtime.MemStats.HeapInuse after GC, before the replica starts and once
// it scored every event, still holding the streams; the replica's own
// buffers, a few MB, are included), events per second from its start, and
// the CPU per event (user+system of the process, broker included). It
// fails rather than go on once the heap passes 3/4 of the machine's
// memory.
func BenchmarkManyStreams(b *testing.B) {
	streams := 100_000
	if v, err := strconv.Atoi(os.Getenv("DETECTOR_BENCH_STREAMS")); err == nil && v > 0 {
		streams = v
	}
	_, brokers := testkit.NewCluster(b)
	kc := benchConfig(brokers, "many").Kafka
	events := produceManyStreams(b, kc, streams)
	b.ResetTimer()
	var elapsed, cpu time.Duration
	var heap float64
	for i := range b.N {
		cfg := benchConfig(brokers, "many-"+strconv.Itoa(i))
		cfg.Detector.MaxStreams = streams
		cfg.Detector.CheckpointRecords = 0
		before := heapInuse()
		cpuBefore := processCPU()
		began := time.Now()
		r := startReplica(b, cfg, nil)
		m := r.svc.metrics
		limit := heapLimit()
		waitMetric(b, func() bool {
			if h := heapObjects(); h > limit {
				b.Fatalf("the heap passed %d MiB, 3/4 of the machine's memory, at %d streams: set DETECTOR_BENCH_STREAMS lower", h>>20, streams)
			}
			return testutil.ToFloat64(m.events.WithLabelValues("log"))+testutil.ToFloat64(m.events.WithLabelValues("metric")) >= float64(events)
		})
		elapsed += time.Since(began)
		cpu += processCPU() - cpuBefore
		b.StopTimer()
		heap += float64(int64(heapInuse()) - int64(before))
		if n := testutil.ToFloat64(m.streams); n != float64(streams) || testutil.ToFloat64(m.evictions) != 0 {
			b.Fatalf("the replica holds %v streams after %v evictions, want %d and none", n, testutil.ToFloat64(m.evictions), streams)
		}
		r.stop(b)
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(heap/n/float64(streams), "heap-B/stream")
	b.ReportMetric(heap/n/(1<<20), "heap-MiB")
	b.ReportMetric(float64(events)*n/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/(float64(events)*n), "cpu-µs/event")
	b.ReportMetric(float64(events)/float64(streams), "events/stream")
}

// produceManyStreams writes the events of BenchmarkManyStreams' streams
// and returns how many it wrote.
func produceManyStreams(b *testing.B, kc config.Kafka, streams int) int {
	b.Helper()
	rng := rand.New(rand.NewPCG(17, 3))
	counts := make([]int, streams)
	total := 0
	for s := range counts {
		counts[s] = 20 + rng.IntN(31)
		total += counts[s]
	}
	// Each record is the event of stream s in round, walking the streams
	// that still have one in each round.
	round, s := 0, 0
	writeEvents(b, kc, total, func(int) kafka.Message {
		for counts[s] <= round {
			if s++; s == streams {
				round, s = round+1, 0
			}
		}
		msg := streamEvent(rng, s, round)
		if s++; s == streams {
			round, s = round+1, 0
		}
		return msg
	})
	return total
}

// heapLimit is 3/4 of the machine's memory as /proc/meminfo tells it, or
// no limit where it does not.
func heapLimit() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return math.MaxUint64
	}
	var kb uint64
	for line := range strings.Lines(string(data)) {
		if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kb); err == nil {
			return kb << 10 / 4 * 3
		}
	}
	return math.MaxUint64
}

// heapObjects is the heap held by objects, live or not yet collected,
// read without stopping the world.
func heapObjects() uint64 {
	s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	return s[0].Value.Uint64()
}

// heapInuse is the heap in use after a garbage collection.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
