package cbad

import (
	"math"
	"math/bits"
	"slices"
)

// tailSymbols is the number of symbols beyond the quantile levels on each side.
const tailSymbols = 2

// quantizer maps a value to a small alphabet: Levels equal-frequency levels
// of a reference distribution, plus tail symbols for values beyond its 1st
// or 99th percentile by more than 1.5 and 3 interquartile ranges; and a
// change to a direction and a magnitude class of typical changes.
type quantizer struct {
	cuts    []float64
	lo, hi  float64
	spread  float64
	dcuts   [3]float64
	scratch []float64
	// ps and need are fit's quantiles and the positions they read.
	ps   []float64
	need []int
}

// fit sets the quantizer's cut points from the values and changes in vals.
func (q *quantizer) fit(vals []float64, levels int) {
	q.scratch = append(q.scratch[:0], vals...)
	s := q.scratch
	q.ps = q.ps[:0]
	for k := 1; k < levels; k++ {
		q.ps = append(q.ps, float64(k)/float64(levels))
	}
	q.ps = append(q.ps, 0.01, 0.99, 0.25, 0.75)
	q.need = selectQuantiles(s, q.ps, q.need[:0])
	q.cuts = q.cuts[:0]
	for _, p := range q.ps[:levels-1] {
		q.cuts = append(q.cuts, quantileSorted(s, p))
	}
	q.lo, q.hi = quantileSorted(s, 0.01), quantileSorted(s, 0.99)
	q.spread = quantileSorted(s, 0.75) - quantileSorted(s, 0.25)
	if q.spread <= 0 {
		q.spread = max(q.hi-q.lo, math.Abs(q.hi)*1e-3, 1e-9)
	}
	q.scratch = q.scratch[:0]
	for i := 1; i < len(vals); i++ {
		q.scratch = append(q.scratch, math.Abs(vals[i]-vals[i-1]))
	}
	deltaPs := [3]float64{0.5, 0.9, 0.99}
	q.need = selectQuantiles(q.scratch, deltaPs[:], q.need[:0])
	for k, p := range deltaPs {
		q.dcuts[k] = quantileSorted(q.scratch, p)
	}
}

// level returns v's level symbol in [0, Levels+2*tailSymbols).
func (q *quantizer) level(v float64) byte {
	switch {
	case v < q.lo-3*q.spread:
		return 0
	case v < q.lo-1.5*q.spread:
		return 1
	case v > q.hi+3*q.spread:
		return byte(len(q.cuts) + 2*tailSymbols)
	case v > q.hi+1.5*q.spread:
		return byte(len(q.cuts) + 2*tailSymbols - 1)
	}
	l, _ := slices.BinarySearch(q.cuts, v)
	return byte(tailSymbols + l)
}

// delta returns the symbol of a change d: 0 for none, else a direction and
// one of four magnitude classes, in [0, 9).
func (q *quantizer) delta(d float64) byte {
	if d == 0 {
		return 0
	}
	m := byte(3)
	for k, c := range q.dcuts {
		if math.Abs(d) <= c {
			m = byte(k)
			break
		}
	}
	if d < 0 {
		return 1 + m
	}
	return 5 + m
}

// quantileSorted returns the p-quantile of sorted s by linear interpolation.
func quantileSorted(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	pos := p * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	f := pos - float64(i)
	return s[i]*(1-f) + s[i+1]*f
}

// selectQuantiles reorders s so that every position quantileSorted reads for
// the quantiles ps holds the value a full sort would put there, so that
// quantileSorted(s, p) returns what it returns on sorted s, for each p in
// ps. It partitions s only around those positions (a quickselect for
// several ranks, three-way so that repeated values cost nothing), about
// n·log(len(ps)) comparisons against a sort's n·log n; a range that
// partitions badly more than 2·log2(n) times in a row is sorted instead.
// It returns need, the positions, for reuse.
func selectQuantiles(s []float64, ps []float64, need []int) []int {
	n := len(s)
	if n == 0 {
		return need
	}
	for _, p := range ps {
		i := int(p * float64(n-1))
		need = append(need, i, min(i+1, n-1))
	}
	slices.Sort(need)
	need = slices.Compact(need)
	selectRanks(s, 0, need, 2*bits.Len(uint(n)))
	return need
}

// selectRanks puts into each position of need (absolute, within s's range
// [off, off+len(s))) the value a sort of s would put there.
func selectRanks(s []float64, off int, need []int, depth int) {
	for len(need) > 0 {
		if len(s) <= 16 || depth == 0 {
			slices.Sort(s)
			return
		}
		depth--
		lt, gt := partition3(s, median3(s[0], s[len(s)/2], s[len(s)-1]))
		i, _ := slices.BinarySearch(need, off+lt)
		j, _ := slices.BinarySearch(need, off+gt)
		selectRanks(s[:lt], off, need[:i], depth)
		s, off, need = s[gt:], off+gt, need[j:]
	}
}

// partition3 reorders s into the values below p, those equal to it, and
// those above, and returns where the equal ones start and end.
func partition3(s []float64, p float64) (lt, gt int) {
	i, gt := 0, len(s)
	for i < gt {
		switch {
		case s[i] < p:
			s[lt], s[i] = s[i], s[lt]
			lt++
			i++
		case s[i] > p:
			gt--
			s[i], s[gt] = s[gt], s[i]
		default:
			i++
		}
	}
	return lt, gt
}

// median3 returns the middle value of a, b and c.
func median3(a, b, c float64) float64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}
