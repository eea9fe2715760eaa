package cbad

import "unsafe"

// feats is what scoring reads of an event, and all the baseline keeps of
// it. It holds no pointers: a log record's or span's canonical line is an
// id into the stream's line table, a metric event's further features
// (after its primary value) a slot in the stream's extras.
type feats struct {
	// v is a metric event's primary value.
	v float64
	// ref is, for a log record or span (nv 0), the id of its canonical line
	// in the stream's line table; for a metric event with further features
	// (nv above 1), 1 + the index of their values in the stream's extras;
	// else 0.
	ref uint32
	// nv is the number of a metric event's features; 0 for a log record or
	// span.
	nv uint8
	// sev is the severity class of a log record (see sevClass).
	sev uint8
	// flagged is set when the event was part of a window judged anomalous.
	flagged bool
}

// line returns the id of the event's canonical line; 0 for a metric event.
func (f *feats) line() uint32 {
	if f.nv == 0 {
		return f.ref
	}
	return 0
}

// item is an event of the window: where and when it came, and its feats.
type item struct {
	offset int64
	// ts is the event time in Unix nanoseconds.
	ts int64
	feats
}

// ring is a FIFO of at most size events. Its buffer grows as events
// arrive, up to size, so that a stream that has seen few events holds
// little; until the ring is full, head is 0 and buf holds the events
// oldest first.
type ring[T any] struct {
	buf  []T
	head int
	size int
}

// minRingAlloc is the fewest events a ring's buffer is allocated for.
const minRingAlloc = 16

func newRing[T any](size int) ring[T] { return ring[T]{size: size} }

// len returns the number of events held.
func (r *ring[T]) len() int { return len(r.buf) }

// push appends it; when the ring was full, the oldest event is returned.
func (r *ring[T]) push(it T) (old T, evicted bool) {
	if len(r.buf) < r.size {
		if len(r.buf) == cap(r.buf) {
			grown := make([]T, len(r.buf), min(max(2*cap(r.buf), minRingAlloc), r.size))
			copy(grown, r.buf)
			r.buf = grown
		}
		r.buf = append(r.buf, it)
		return old, false
	}
	old = r.buf[r.head]
	r.buf[r.head] = it
	r.head = (r.head + 1) % len(r.buf)
	return old, true
}

// at returns the i-th event, the oldest being 0.
func (r *ring[T]) at(i int) *T { return &r.buf[(r.head+i)%len(r.buf)] }

func (r *ring[T]) full() bool { return len(r.buf) == r.size }

// sizeBytes returns the memory the ring retains.
func (r *ring[T]) sizeBytes() int {
	var zero T
	return cap(r.buf) * int(unsafe.Sizeof(zero))
}
