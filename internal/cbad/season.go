package cbad

import (
	"math"
	"slices"
	"sync"
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

	// The values of the latest period*cycles events (on the square-root
	// scale) are those the stream's value history holds and, beyond it,
	// older: a ring of those that left the value history, the next to go
	// at onext. seen counts the values since the period was learnt, up to
	// period*cycles.
	older []float64
	onext int
	seen  int

	resid  []float64 // the latest residuals, a ring
	rnext  int
	since  int
	lo, hi float64 // the 1st and 99th percentiles of resid
	spread float64 // their interquartile range, or a positive stand-in
	ready  bool
}

// residualPool holds buffers for sorting residuals: only their range is
// kept, so streams share the buffers rather than each keeping a sorted
// copy (16 KB).
var residualPool = sync.Pool{New: func() any { return new([]float64) }}

// seasonNovelty adds the value v at time ts and returns how far it departs
// from the stream's daily cycle, in [0, 1]: its residual against the median
// of the same phase over the previous cycles, measured beyond the 1st to
// 99th percentile of recent residuals in their interquartile ranges.
// Residuals are taken on a square-root scale (signed): the noise of a
// count or a rate grows with its level (a Poisson count's variance equals
// its mean, and the square root makes it constant), so on the raw scale
// the ordinary departures of a cycle's busy hours would look large against
// residuals pooled over the whole day. The caller adds v to the value
// history right after (the model reads the latest values there).
func (s *Stream) seasonNovelty(v float64, ts int64) float64 {
	v = signedSqrt(v)
	m := &s.season
	k := s.cfg.SeasonCycles
	if m.period == 0 && !m.learnPeriod(ts, k, s.hist.size) {
		return 0
	}
	if m.period < 0 {
		return 0
	}
	score := 0.0
	if m.seen == m.period*k {
		r := v - s.samePhaseMedian(k)
		score = m.residualNovelty(r)
		m.addResidual(r)
	} else {
		m.seen++
	}
	if h := &s.hist; len(m.older) > 0 && h.n() == h.size {
		// The value history forgets its oldest value when v joins it,
		// right after this.
		m.older[m.onext] = signedSqrt(h.ago(h.size))
		m.onext = (m.onext + 1) % len(m.older)
	}
	return score
}

// samePhaseMedian returns the median of the values at the same phase of
// the previous cycles.
func (s *Stream) samePhaseMedian(cycles int) float64 {
	var buf [16]float64 // Config.SeasonCycles is at most 16
	same := buf[:0]
	for c := 1; c <= cycles; c++ {
		same = append(same, s.season.ago(&s.hist, c*s.season.period))
	}
	slices.Sort(same)
	h := len(same) / 2
	if len(same)%2 == 0 {
		return (same[h-1] + same[h]) / 2
	}
	return same[h]
}

// ago returns the value (on the square-root scale) of the event j events
// before the one being scored, j at most period*cycles, from the value
// history h or, beyond it, from older.
func (m *seasonModel) ago(h *valueHistory, j int) float64 {
	if j <= h.n() {
		return signedSqrt(h.ago(j))
	}
	return m.older[(m.onext-(j-h.n())+len(m.older))%len(m.older)]
}

// learnPeriod collects the first events' intervals and, once it has enough,
// sets the period to one day in events (at the median interval) and sizes
// older for the values of cycles days a value history of held values does
// not hold. It reports whether the period is known.
func (m *seasonModel) learnPeriod(ts int64, cycles, held int) bool {
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
			if p*cycles > held {
				m.older = make([]float64, p*cycles-held)
			}
		}
	}
	return m.period > 0
}

// addResidual keeps r among the latest residuals and, every seasonRefresh
// of them, recomputes their range.
func (m *seasonModel) addResidual(r float64) {
	if len(m.resid) < seasonResiduals {
		if len(m.resid) == cap(m.resid) {
			m.resid = append(make([]float64, 0, min(max(2*len(m.resid), 64), seasonResiduals)), m.resid...)
		}
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
	buf := residualPool.Get().(*[]float64)
	sorted := append((*buf)[:0], m.resid...)
	var need [8]int
	selectQuantiles(sorted, residualQuantiles[:], need[:0])
	m.lo, m.hi = quantileSorted(sorted, 0.01), quantileSorted(sorted, 0.99)
	m.spread = quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)
	if m.spread <= 0 {
		m.spread = max(m.hi-m.lo, 1e-9)
	}
	m.ready = true
	*buf = sorted
	residualPool.Put(buf)
}

// residualQuantiles are the quantiles of the residuals addResidual reads.
var residualQuantiles = [4]float64{0.01, 0.99, 0.25, 0.75}

func (m *seasonModel) sizeBytes() int { return 8 * (cap(m.older) + cap(m.resid) + cap(m.intervals)) }

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
