package cbad

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// checkSelect reports where selectQuantiles' quantiles of vals differ from
// those of vals sorted.
func checkSelect(t *testing.T, vals, ps []float64) {
	t.Helper()
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	got := slices.Clone(vals)
	selectQuantiles(got, ps, nil)
	for _, p := range ps {
		if a, b := quantileSorted(got, p), quantileSorted(sorted, p); a != b {
			t.Fatalf("n=%d p=%v: selected %v, sorted %v", len(vals), p, a, b)
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, sorted) {
		t.Fatalf("n=%d: selectQuantiles changed the values, not only their order", len(vals))
	}
}

// TestSelectQuantiles checks the quantiles the quantizer reads against a
// full sort, for the shapes metric values take: spread, repeated, constant,
// sorted either way, and a few values.
func TestSelectQuantiles(t *testing.T) {
	ps := []float64{0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 0.01, 0.99, 0.25, 0.75, 0.9}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 7, 16, 17, 100, 1000, 2048} {
		spread, repeated, constant, asc, desc := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
		for i := range n {
			spread[i] = rng.NormFloat64() * 100
			repeated[i] = float64(rng.IntN(3))
			constant[i] = 7
			asc[i] = float64(i)
			desc[i] = float64(n - i)
		}
		for _, vals := range [][]float64{spread, repeated, constant, asc, desc} {
			checkSelect(t, vals, ps)
		}
	}
}

// FuzzSelectQuantiles checks selectQuantiles against a full sort on any
// finite values.
func FuzzSelectQuantiles(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0}, 0.5)
	f.Fuzz(func(t *testing.T, b []byte, p float64) {
		var vals []float64
		for ; len(b) >= 8; b = b[8:] {
			v := math.Float64frombits(binary.LittleEndian.Uint64(b))
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 || !(p >= 0 && p <= 1) {
			return
		}
		checkSelect(t, vals, []float64{p, 0.01, 0.99})
	})
}
