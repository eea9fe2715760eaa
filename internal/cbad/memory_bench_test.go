package cbad

import (
	"runtime"
	"testing"

	"github.com/driftlock/driftlock/internal/event"
)

// BenchmarkStreamHeap measures what full streams hold: 100 streams of one
// kind each fed window, baseline and a hop of events (different events per
// stream), at default settings; it reports SizeBytes and the heap in use
// per stream (after GC, less the heap before the streams were made, so
// that buffers the streams share are spread over them).
func BenchmarkStreamHeap(b *testing.B) {
	cfg := DefaultConfig()
	n := cfg.WindowSize + cfg.baselineSize() + cfg.HopSize
	kinds := []struct {
		name, key string
		evs       []event.Event
	}{
		{"logs", "svc|log", benchLogs(n + 100)},
		{"metrics", "svc|metric|latency", benchMetrics(n + 100)},
	}
	for _, k := range kinds {
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
