package cbad

import (
	"runtime"
	"testing"

	"github.com/driftlock/driftlock/internal/event"
)

// BenchmarkStreamHeap measures what streams hold at default settings: 100
// streams of one kind each fed the same number of events (different events
// per stream), either window, baseline and a hop ("full") or 16 ("young").
// It reports SizeBytes and the heap in use per stream (after GC, less the
// heap before the streams were made, so that buffers the streams share are
// spread over them).
func BenchmarkStreamHeap(b *testing.B) {
	cfg := DefaultConfig()
	full := cfg.WindowSize + cfg.baselineSize() + cfg.HopSize
	logs, metrics := benchLogs(full+100), benchMetrics(full+100)
	kinds := []struct {
		name, key string
		evs       []event.Event
		n         int
	}{
		{"logs/full", "svc|log", logs, full},
		{"metrics/full", "svc|metric|latency", metrics, full},
		{"logs/young", "svc|log", logs, 16},
		{"metrics/young", "svc|metric|latency", metrics, 16},
	}
	for _, k := range kinds {
		n := k.n
		evs := make([]event.Decoded, len(k.evs))
		for i, ev := range k.evs {
			evs[i] = dec(ev)
		}
		b.Run(k.name, func(b *testing.B) {
			const streams = 100
			var size int
			for range b.N {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				ss := make([]*Stream, streams)
				for j := range ss {
					s, err := NewStream(k.key, cfg)
					if err != nil {
						b.Fatal(err)
					}
					for i := range n {
						if _, err := s.Push(evs[i+j], int64(i)); err != nil {
							b.Fatal(err)
						}
					}
					ss[j] = s
				}
				size = 0
				for _, s := range ss {
					size += s.SizeBytes()
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/streams, "heap-B/stream")
				runtime.KeepAlive(ss)
			}
			b.ReportMetric(float64(size)/streams, "SizeBytes/stream")
		})
	}
}
