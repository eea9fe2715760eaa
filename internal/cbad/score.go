package cbad

import (
	"math"
	"slices"
	"strings"
)

// Severity classes of log records.
const (
	sevUnset uint8 = iota
	sevTrace
	sevDebug
	sevInfo
	sevWarn
	sevError
	sevFatal
	numSev
)

var sevNames = [numSev]string{"UNSET", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// sevClass returns the severity class of a record from its number, or from
// its text when the number is unset.
func sevClass(text string, number int32) uint8 {
	if number >= 1 && number <= 24 {
		return uint8(1 + (number-1)/4)
	}
	t := strings.ToUpper(text)
	switch {
	case strings.HasPrefix(t, "FATAL"), strings.HasPrefix(t, "CRIT"), strings.HasPrefix(t, "EMERG"),
		strings.HasPrefix(t, "ALERT"), strings.HasPrefix(t, "SEVERE"), strings.HasPrefix(t, "PANIC"):
		return sevFatal
	case strings.HasPrefix(t, "ERR"), strings.HasPrefix(t, "FAIL"):
		return sevError
	case strings.HasPrefix(t, "WARN"):
		return sevWarn
	case strings.HasPrefix(t, "INFO"), strings.HasPrefix(t, "NOTICE"):
		return sevInfo
	case strings.HasPrefix(t, "DEBUG"):
		return sevDebug
	case strings.HasPrefix(t, "TRACE"):
		return sevTrace
	}
	return sevUnset
}

// refStats summarises the baseline for scoring single events: the sorted
// primary values of a metric baseline and their robust range.
type refStats struct {
	stale  bool
	sorted []float64
	lo, hi float64
	spread float64
}

func (r *refStats) sizeBytes() int { return 8 * cap(r.sorted) }

// refresh rebuilds the statistics from the baseline when it changed.
func (s *Stream) refresh() {
	r := &s.ref
	if !r.stale && len(r.sorted) == s.base.n {
		return
	}
	r.stale = false
	r.sorted = r.sorted[:0]
	for i := 0; i < s.base.n; i++ {
		r.sorted = append(r.sorted, s.base.at(i).vals[0])
	}
	slices.Sort(r.sorted)
	r.lo, r.hi = quantileSorted(r.sorted, 0.01), quantileSorted(r.sorted, 0.99)
	r.spread = quantileSorted(r.sorted, 0.75) - quantileSorted(r.sorted, 0.25)
	if r.spread <= 0 {
		r.spread = max(r.hi-r.lo, math.Abs(r.hi)*1e-3, 1e-9)
	}
}

// eventScore is the novelty of one event given the baseline, in [0, 1]:
// for logs the surprisal of its canonical line under the baseline's line
// counts, for metrics the rarity of its value's rank in the baseline plus
// its distance beyond the baseline's range.
func (s *Stream) eventScore(it *item) float64 {
	n := s.base.n
	if n == 0 {
		return 0
	}
	if s.kind != "metric" {
		var c int32
		if ls := s.lines[it.line]; ls != nil {
			c = ls.base
		}
		return lineNovelty(int(c), n)
	}
	s.refresh()
	return s.valueNovelty(it.vals[0])
}

// lineNovelty maps a line's count c among n baseline lines to [0, 1].
func lineNovelty(c, n int) float64 {
	bits := math.Log2(float64(n+1) / (float64(c) + 0.5))
	return clamp01(bits / math.Log2(2*float64(n+1)))
}

// valueNovelty maps a value to [0, 1] against the baseline statistics.
func (s *Stream) valueNovelty(v float64) float64 {
	r := &s.ref
	n := len(r.sorted)
	below, _ := slices.BinarySearch(r.sorted, v)
	above := n - below
	for above > 0 && r.sorted[n-above] == v {
		above--
	}
	tail := (float64(min(below, above)) + 0.5) / float64(n+1)
	rank := clamp01(math.Log(0.5/tail) / math.Log(float64(n+1)))
	dist := 0.0
	if v > r.hi {
		dist = (v - r.hi) / r.spread
	} else if v < r.lo {
		dist = (r.lo - v) / r.spread
	}
	return 0.5*rank + 0.5*(1-math.Exp(-dist))
}

func clamp01(x float64) float64 {
	return min(max(x, 0), 1)
}
