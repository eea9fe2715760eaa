package cbad

import (
	"math"
	"slices"
)

// valueHistory is the latest values of a stream (a metric's values, or the
// surprisals of a log stream's lines), kept both in arrival order and sorted, so that a new value is scored against their
// distribution from the stream's first events on, independently of the
// window and baseline of the window judgements. Adding a value costs one
// binary search and one copy of at most its capacity.
type valueHistory struct {
	ring   []float64
	next   int
	full   bool
	sorted []float64
}

func newValueHistory(capacity int) valueHistory {
	return valueHistory{ring: make([]float64, 0, capacity)}
}

// add keeps v among the latest values, forgetting the oldest when full.
func (h *valueHistory) add(v float64) {
	if len(h.ring) < cap(h.ring) {
		h.ring = append(h.ring, v)
	} else {
		old := h.ring[h.next]
		h.ring[h.next] = v
		h.next = (h.next + 1) % len(h.ring)
		i, _ := slices.BinarySearch(h.sorted, old)
		h.sorted = slices.Delete(h.sorted, i, i+1)
	}
	i, _ := slices.BinarySearch(h.sorted, v)
	h.sorted = slices.Insert(h.sorted, i, v)
}

// n is the number of values held.
func (h *valueHistory) n() int { return len(h.sorted) }

// rangeOf returns the 1st and 99th percentiles of the values held and
// their spread (interquartile range, or a small positive stand-in when the
// values hardly vary).
func (h *valueHistory) rangeOf() (lo, hi, spread float64) {
	lo, hi = quantileSorted(h.sorted, 0.01), quantileSorted(h.sorted, 0.99)
	spread = quantileSorted(h.sorted, 0.75) - quantileSorted(h.sorted, 0.25)
	if spread <= 0 {
		spread = max(hi-lo, math.Abs(hi)*1e-3, 1e-9)
	}
	return lo, hi, spread
}

func (h *valueHistory) sizeBytes() int { return 8 * (cap(h.ring) + cap(h.sorted)) }
