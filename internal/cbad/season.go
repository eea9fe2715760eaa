package cbad

import (
	"math"
	"slices"
	"time"
)

// Bounds of the daily cycle, in events, that the season model follows.
const (
	minSeasonPeriod = 8
	maxSeasonPeriod = 4096
)

// seasonResiduals is how many recent residuals describe what a normal
// departure from the cycle looks like; seasonRefresh is how often, in
// events, their range is recomputed.
const (
	seasonResiduals = 2048
	seasonRefresh   = 64
)

// seasonModel follows a metric stream's daily cycle: it compares each value
// with the median of the values at the same time of day on the previous
// Config.SeasonCycles days, so that a day whose shape departs from the
// cycle (a level jump, a missing rise, a flat stretch) shows even when every
// value lies within the range the baseline has seen.
type seasonModel struct {
	// period is the cycle length in events, from the first events' interval;
	// -1 when the stream has no usable daily cycle.
	period    int
	started   bool // prevTS holds the first event's time or a later one
	prevTS    int64
	intervals []int64

	history []float64 // the latest period*cycles values, a ring
	next    int
	filled  bool

	resid  []float64 // the latest residuals, a ring
	rnext  int
	since  int
	sorted []float64
	lo, hi float64
	spread float64
	ready  bool
	same   []float64 // scratch for the same-phase values
}

// seasonNovelty adds the value v at time ts and returns how far it departs
// from the stream's daily cycle, in [0, 1]: its residual against the median
// of the same phase over the previous cycles, measured beyond the 1st to
// 99th percentile of recent residuals in their interquartile ranges.
// Residuals are taken on a square-root scale (signed): the noise of a
// count or a rate grows with its level (a Poisson count's variance equals
// its mean, and the square root makes it constant), so on the raw scale
// the ordinary departures of a cycle's busy hours would look large against
// residuals pooled over the whole day.
func (s *Stream) seasonNovelty(v float64, ts int64) float64 {
	v = signedSqrt(v)
	m := &s.season
	k := s.cfg.SeasonCycles
	if m.period == 0 && !m.learnPeriod(ts, k) {
		return 0
	}
	if m.period < 0 {
		return 0
	}
	score := 0.0
	if m.filled {
		m.same = m.same[:0]
		for c := 1; c <= k; c++ {
			m.same = append(m.same, m.history[(m.next-c*m.period+len(m.history))%len(m.history)])
		}
		slices.Sort(m.same)
		h := len(m.same) / 2
		mid := m.same[h]
		if len(m.same)%2 == 0 {
			mid = (m.same[h-1] + mid) / 2
		}
		r := v - mid
		score = m.residualNovelty(r)
		m.addResidual(r)
	}
	m.history[m.next] = v
	m.next = (m.next + 1) % len(m.history)
	m.filled = m.filled || m.next == 0
	return score
}

// learnPeriod collects the first events' intervals and, once it has enough,
// sets the period to one day in events (at the median interval) and sizes
// the history for cycles days. It reports whether the period is known.
func (m *seasonModel) learnPeriod(ts int64, cycles int) bool {
	if m.started {
		m.intervals = append(m.intervals, ts-m.prevTS)
	}
	m.prevTS, m.started = ts, true
	if len(m.intervals) < 32 {
		return false
	}
	slices.Sort(m.intervals)
	dt := m.intervals[len(m.intervals)/2]
	m.intervals = nil
	m.period = -1
	if dt > 0 {
		if p := int((int64(24*time.Hour) + dt/2) / dt); p >= minSeasonPeriod && p <= maxSeasonPeriod {
			m.period = p
			m.history = make([]float64, p*cycles)
		}
	}
	return m.period > 0
}

// addResidual keeps r among the latest residuals and, every seasonRefresh
// of them, recomputes their range.
func (m *seasonModel) addResidual(r float64) {
	if len(m.resid) < seasonResiduals {
		m.resid = append(m.resid, r)
	} else {
		m.resid[m.rnext] = r
		m.rnext = (m.rnext + 1) % seasonResiduals
	}
	m.since++
	if m.since < seasonRefresh || len(m.resid) < seasonResiduals/8 {
		return
	}
	m.since = 0
	m.sorted = append(m.sorted[:0], m.resid...)
	slices.Sort(m.sorted)
	m.lo, m.hi = quantileSorted(m.sorted, 0.01), quantileSorted(m.sorted, 0.99)
	m.spread = quantileSorted(m.sorted, 0.75) - quantileSorted(m.sorted, 0.25)
	if m.spread <= 0 {
		m.spread = max(m.hi-m.lo, 1e-9)
	}
	m.ready = true
}

// residualNovelty scores a residual against the latest residuals' range,
// 0 until enough of them were seen.
func (m *seasonModel) residualNovelty(r float64) float64 {
	if !m.ready {
		return 0
	}
	return beyond(r, m.lo, m.hi, m.spread)
}

// signedSqrt is the square root of |v| with v's sign: monotone, and the
// variance-stabilising transform of a count.
func signedSqrt(v float64) float64 {
	if v < 0 {
		return -math.Sqrt(-v)
	}
	return math.Sqrt(v)
}
