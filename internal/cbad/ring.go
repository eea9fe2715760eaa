package cbad

import "unsafe"

// item is one event as the scoring core keeps it. It holds no pointers:
// a log record's or span's canonical line is an id into the stream's line
// table, a metric event's further features (after its primary value) a
// slot in the stream's extras.
type item struct {
	offset int64
	// ts is the event time in Unix nanoseconds.
	ts int64
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

// line returns the id of the item's canonical line; 0 for a metric event.
func (it *item) line() uint32 {
	if it.nv == 0 {
		return it.ref
	}
	return 0
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

// sizeBytes returns the memory the ring retains.
func (r *ring) sizeBytes() int { return cap(r.buf) * int(unsafe.Sizeof(item{})) }
