package cbad

import (
	"testing"

	"github.com/driftlock/driftlock/internal/event"
)

// benchSnapshot measures AppendSnapshot and RestoreStream of one stream at
// the default configuration whose window and baseline are full (evs
// pushed once), and reports the snapshot's size.
func benchSnapshot(b *testing.B, key string, evs []event.Event) {
	s, err := NewStream(key, DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	for i, ev := range evs {
		if _, err := s.Push(dec(ev), int64(i)); err != nil {
			b.Fatal(err)
		}
	}
	snap := s.AppendSnapshot(nil)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]byte, 0, len(snap))
		for range b.N {
			buf = s.AppendSnapshot(buf[:0])
		}
		b.ReportMetric(float64(len(snap)), "snapshot-bytes")
	})
	b.Run("restore", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := RestoreStream(key, DefaultConfig(), snap); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSnapshotLogs(b *testing.B) { benchSnapshot(b, "svc|log", benchLogs(4096)) }
func BenchmarkSnapshotMetrics(b *testing.B) {
	benchSnapshot(b, "svc|metric|latency", benchMetrics(4096))
}
