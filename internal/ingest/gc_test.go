package ingest

import "testing"

func TestGCMemoryLimit(t *testing.T) {
	if got, want := gcMemoryLimit(64<<20), int64(3*64<<20+128<<20); got != want {
		t.Errorf("gcMemoryLimit(64 MiB) = %d, want %d", got, want)
	}
	if got := gcMemoryLimit(int(^uint(0) >> 1)); got <= 0 {
		t.Errorf("gcMemoryLimit(max int) = %d, want no overflow", got)
	}
}
