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

// ring is a FIFO of at most size items. Its buffer grows as items arrive,
// up to size, so that a stream that has seen few events holds little; until
// the ring is full, head is 0 and buf holds the items oldest first.
type ring struct {
	buf  []item
	head int
	size int
}

// minRingAlloc is the fewest items a ring's buffer is allocated for.
const minRingAlloc = 16

func newRing(size int) ring { return ring{size: size} }

// len returns the number of items held.
func (r *ring) len() int { return len(r.buf) }

// push appends it; when the ring was full, the oldest item is returned.
func (r *ring) push(it item) (old item, evicted bool) {
	if len(r.buf) < r.size {
		if len(r.buf) == cap(r.buf) {
			grown := make([]item, len(r.buf), min(max(2*cap(r.buf), minRingAlloc), r.size))
			copy(grown, r.buf)
			r.buf = grown
		}
		r.buf = append(r.buf, it)
		return item{}, false
	}
	old = r.buf[r.head]
	r.buf[r.head] = it
	r.head = (r.head + 1) % len(r.buf)
	return old, true
}

// at returns the i-th item, the oldest being 0.
func (r *ring) at(i int) *item { return &r.buf[(r.head+i)%len(r.buf)] }

func (r *ring) full() bool { return len(r.buf) == r.size }

// sizeBytes approximates the memory the ring retains, strings included
// except the interned canonical lines.
func (r *ring) sizeBytes() int {
	n := cap(r.buf) * int(unsafe.Sizeof(item{}))
	for i := 0; i < r.len(); i++ {
		n += len(r.at(i).summary)
	}
	return n
}
