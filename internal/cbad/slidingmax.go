package cbad

// slidingMax is the maximum of the last n values pushed, in amortised O(1)
// per value (a monotonic deque of indices).
type slidingMax struct {
	n    int
	seen int
	vals []float64
	idx  []int
}

func newSlidingMax(n int) *slidingMax { return &slidingMax{n: n} }

// push adds v and forgets values older than the last n.
func (m *slidingMax) push(v float64) {
	for len(m.vals) > 0 && m.vals[len(m.vals)-1] <= v {
		m.vals, m.idx = m.vals[:len(m.vals)-1], m.idx[:len(m.idx)-1]
	}
	m.vals, m.idx = append(m.vals, v), append(m.idx, m.seen)
	m.seen++
	if m.idx[0] <= m.seen-1-m.n {
		m.vals, m.idx = m.vals[1:], m.idx[1:]
	}
}

// max returns the maximum of the last n values, false when none was pushed.
func (m *slidingMax) max() (float64, bool) {
	if len(m.vals) == 0 {
		return 0, false
	}
	return m.vals[0], true
}
