package cbad

import (
	"cmp"
	"math"
	"slices"
)

// valueHistory is the latest values of a stream (a metric's values, or the
// surprisals of a log stream's lines), kept in arrival order with their
// ranks, so that a new value is scored against their distribution from the
// stream's first events on, independently of the window and baseline of
// the window judgements.
//
// The ranks are the values' slots in the ring in ascending order of value
// (negative zero before zero, equal values by slot): two bytes a value
// rather than a sorted copy's eight. Adding a value costs two binary
// searches and moving the slots between its old and new rank.
type valueHistory struct {
	ring []float64 // grows up to size, then the oldest is overwritten
	size int
	next int // the oldest value's slot once the ring is full
	// rank holds the slots when size is at most 1<<16, else rank32 does.
	rank   []uint16
	rank32 []uint32
}

func newValueHistory(size int) valueHistory { return valueHistory{size: size} }

// add keeps v among the latest values, forgetting the oldest when full.
func (h *valueHistory) add(v float64) {
	if h.size > 1<<16 {
		h.rank32 = addRanked(h, h.rank32, v)
	} else {
		h.rank = addRanked(h, h.rank, v)
	}
}

// addRanked adds v to h whose ranks are rank, and returns the ranks.
func addRanked[I uint16 | uint32](h *valueHistory, rank []I, v float64) []I {
	k := orderKey(v)
	if len(h.ring) < h.size {
		slot := len(h.ring)
		if slot == cap(h.ring) {
			c := min(max(2*slot, 64), h.size)
			h.ring = append(make([]float64, 0, c), h.ring...)
			rank = append(make([]I, 0, c), rank...)
		}
		h.ring = append(h.ring, v)
		j := rankOf(rank, h.ring, k, slot)
		return slices.Insert(rank, j, I(slot))
	}
	slot := h.next
	i := rankOf(rank, h.ring, orderKey(h.ring[slot]), slot)
	j := rankOf(rank, h.ring, k, slot) // counts slot's own entry if it ranks below
	if j > i {
		j--
		copy(rank[i:j], rank[i+1:j+1])
	} else {
		copy(rank[j+1:i+1], rank[j:i])
	}
	rank[j] = I(slot)
	h.ring[slot] = v
	h.next = (slot + 1) % h.size
	return rank
}

// rankOf returns how many of the ranked slots hold a value below (k, slot):
// a smaller order key, or the same one in a lower slot.
func rankOf[I uint16 | uint32](rank []I, ring []float64, k uint64, slot int) int {
	lo, hi := 0, len(rank)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		e := int(rank[m])
		if ke := orderKey(ring[e]); ke < k || ke == k && e < slot {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// orderKey maps a float64 to a uint64 of the same order (negative zero
// just below zero), so that values rank by one integer comparison.
func orderKey(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

// ago returns the value added j values ago (1 the latest), j at most n.
func (h *valueHistory) ago(j int) float64 {
	if len(h.ring) < h.size {
		return h.ring[len(h.ring)-j]
	}
	return h.ring[(h.next-j+h.size)%h.size]
}

// n is the number of values held.
func (h *valueHistory) n() int { return len(h.ring) }

// at returns the i-th smallest value held.
func (h *valueHistory) at(i int) float64 {
	if h.rank32 != nil {
		return h.ring[h.rank32[i]]
	}
	return h.ring[h.rank[i]]
}

// quantile is quantileSorted over the values held.
func (h *valueHistory) quantile(p float64) float64 {
	n := h.n()
	if n == 0 {
		return 0
	}
	pos := p * float64(n-1)
	i := int(pos)
	if i >= n-1 {
		return h.at(n - 1)
	}
	f := pos - float64(i)
	return h.at(i)*(1-f) + h.at(i+1)*f
}

// rerank rebuilds the ranks of the values in the ring.
func (h *valueHistory) rerank() {
	h.rank, h.rank32 = nil, nil
	if h.size > 1<<16 {
		h.rank32 = ranked[uint32](h.ring)
	} else {
		h.rank = ranked[uint16](h.ring)
	}
}

// ranked returns the slots of ring in rank order.
func ranked[I uint16 | uint32](ring []float64) []I {
	rank := make([]I, len(ring), cap(ring))
	for i := range rank {
		rank[i] = I(i)
	}
	slices.SortFunc(rank, func(a, b I) int {
		if c := cmp.Compare(orderKey(ring[a]), orderKey(ring[b])); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return rank
}

// rangeOf returns the 1st and 99th percentiles of the values held and
// their spread (interquartile range, or a small positive stand-in when the
// values hardly vary).
func (h *valueHistory) rangeOf() (lo, hi, spread float64) {
	lo, hi = h.quantile(0.01), h.quantile(0.99)
	spread = h.quantile(0.75) - h.quantile(0.25)
	if spread <= 0 {
		spread = max(hi-lo, math.Abs(hi)*1e-3, 1e-9)
	}
	return lo, hi, spread
}

func (h *valueHistory) sizeBytes() int { return 8*cap(h.ring) + 2*cap(h.rank) + 4*cap(h.rank32) }
