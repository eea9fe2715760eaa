package cbad

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/driftlock/driftlock/internal/event"
)

func benchLogs(n int) []event.Event {
	r := rand.New(rand.NewPCG(1, 2))
	evs := make([]event.Event, n)
	for i := range evs {
		sev, body := steadyLine(r)
		evs[i] = logEvent(i, sev, body, map[string]any{"host": fmt.Sprintf("web-%d", r.IntN(3))})
	}
	return evs
}

func benchMetrics(n int) []event.Event {
	r := rand.New(rand.NewPCG(3, 4))
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i] = metricEvent(i, 50+5*r.NormFloat64())
	}
	return evs
}

// benchStream pushes evs (decoded first, as the detector does before
// scoring) round and round through one stream configured by cfg and
// reports events and judgements per second.
func benchStream(b *testing.B, key string, cfg Config, raw []event.Event) {
	s, err := NewStream(key, cfg)
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]event.Decoded, len(raw))
	for i, ev := range raw {
		evs[i] = dec(ev)
	}
	for i, ev := range evs { // warm up: fill window and baseline
		if _, err := s.Push(ev, int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	judged := 0
	for i := 0; i < b.N; i++ {
		r, err := s.Push(evs[i%len(evs)], int64(len(evs)+i))
		if err != nil {
			b.Fatal(err)
		}
		if r.Judgement != nil {
			judged++
		}
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(b.N)/sec, "events/s")
	b.ReportMetric(float64(judged)/sec, "judgements/s")
	b.ReportMetric(float64(s.SizeBytes()), "stream-bytes")
}

func BenchmarkPushLogs(b *testing.B) { benchStream(b, "svc|log", DefaultConfig(), benchLogs(4096)) }
func BenchmarkPushMetrics(b *testing.B) {
	benchStream(b, "svc|metric|latency", DefaultConfig(), benchMetrics(4096))
}

// BenchmarkPushMetricsDaily is BenchmarkPushMetrics with events five
// minutes apart, so that the daily-cycle model has a day of 288 events.
func BenchmarkPushMetricsDaily(b *testing.B) {
	cfg := DefaultConfig()
	r := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	evs := make([]event.Event, 4096)
	for i := range evs {
		evs[i] = gaugeAt(start.Add(time.Duration(i)*5*time.Minute), 50+5*r.NormFloat64())
	}
	benchStream(b, "svc|metric|latency", cfg, evs)
}

// BenchmarkZstdFloor compresses the canonical lines of one window and its
// baseline (2048 events) once with zstd: the least work a judgement that
// compresses what it judges can do. At the default hop, one judgement is
// due every 256 events, so events/s here is 256 per operation; compare it
// with BenchmarkPushLogs.
func BenchmarkZstdFloor(b *testing.B) {
	s, _ := NewStream("svc|log", DefaultConfig())
	var raw []byte
	for i, ev := range benchLogs(2048) {
		it, _, err := s.itemOf(dec(ev), int64(i))
		if err != nil {
			b.Fatal(err)
		}
		raw = append(append(raw, s.lineText(it.ref)...), '\n')
	}
	c := newCompressor("zstd")
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.size(raw)
	}
	b.ReportMetric(float64(b.N)*256/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "judgements/s")
}
