package cbad

import (
	"math"
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
}

// fit sets the quantizer's cut points from the values and changes in vals.
func (q *quantizer) fit(vals []float64, levels int) {
	q.scratch = append(q.scratch[:0], vals...)
	slices.Sort(q.scratch)
	s := q.scratch
	q.cuts = q.cuts[:0]
	for k := 1; k < levels; k++ {
		q.cuts = append(q.cuts, quantileSorted(s, float64(k)/float64(levels)))
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
	slices.Sort(q.scratch)
	for k, p := range [3]float64{0.5, 0.9, 0.99} {
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
