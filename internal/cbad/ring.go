package cbad

import "unsafe"

// item is one event as the scoring core keeps it.
type item struct {
	offset int64
	// ts is the event time in Unix nanoseconds.
	ts int64
	// line is the canonical line of a log record or span; empty for metrics.
	line string
	// summary is a short human description, kept while the event is in the
	// window and dropped when it moves to the baseline.
	summary string
	// vals are a metric event's features (primary value first).
	vals [maxFeatures]float64
	nv   uint8
	// sev is the severity class of a log record (see sevClass).
	sev uint8
	// flagged is set when the event was part of a window judged anomalous.
	flagged bool
}

// ring is a fixed-capacity FIFO of items.
type ring struct {
	buf  []item
	head int
	n    int
}

func newRing(capacity int) ring { return ring{buf: make([]item, capacity)} }

// push appends it; when the ring was full, the oldest item is returned.
func (r *ring) push(it item) (old item, evicted bool) {
	if r.n == len(r.buf) {
		old = r.buf[r.head]
		r.buf[r.head] = it
		r.head = (r.head + 1) % len(r.buf)
		return old, true
	}
	r.buf[(r.head+r.n)%len(r.buf)] = it
	r.n++
	return item{}, false
}

// at returns the i-th item, the oldest being 0.
func (r *ring) at(i int) *item { return &r.buf[(r.head+i)%len(r.buf)] }

func (r *ring) full() bool { return r.n == len(r.buf) }

// sizeBytes approximates the memory the ring retains, strings included
// except the interned canonical lines.
func (r *ring) sizeBytes() int {
	n := len(r.buf) * int(unsafe.Sizeof(item{}))
	for i := 0; i < r.n; i++ {
		n += len(r.at(i).summary)
	}
	return n
}
