package cbad

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestValueHistoryRanks adds values with many ties, both zeros and a
// spread of magnitudes to histories whose ranks are two and four bytes,
// and checks after every value that the ranked values are the latest
// values sorted (negative zero first), that their quantiles are those of
// the sorted values, and that ranks rebuilt from the ring (as on restore)
// are the same.
func TestValueHistoryRanks(t *testing.T) {
	negZero := math.Copysign(0, -1)
	pool := []float64{negZero, 0, 1, 1, -1, 2.5, -1e300, 1e300, 3, 3, 3}
	for _, wide := range []bool{false, true} {
		r := rand.New(rand.NewPCG(1, 2))
		h := newValueHistory(97)
		var all []float64
		for k := range 1000 {
			v := pool[r.IntN(len(pool))]
			if k%3 == 0 {
				v = r.NormFloat64()
			}
			if wide {
				h.rank32 = addRanked(&h, h.rank32, v)
			} else {
				h.add(v)
			}
			all = append(all, v)
			want := slices.Clone(all[max(0, len(all)-97):])
			slices.SortFunc(want, func(a, b float64) int { return cmp.Compare(orderKey(a), orderKey(b)) })
			checkRanked(t, &h, want)
			before := slices.Clone(h.rank)
			before32 := slices.Clone(h.rank32)
			if wide {
				h.rank32 = ranked[uint32](h.ring)
			} else {
				h.rerank()
			}
			if !slices.Equal(before, h.rank) || !slices.Equal(before32, h.rank32) {
				t.Fatalf("wide %v, value %d: ranks rebuilt from the ring differ", wide, k)
			}
		}
		if h.n() != 97 || cap(h.ring) != 97 {
			t.Fatalf("%d values held in a ring of capacity %d, want 97 and 97", h.n(), cap(h.ring))
		}
	}
}

func checkRanked(t *testing.T, h *valueHistory, want []float64) {
	t.Helper()
	if h.n() != len(want) {
		t.Fatalf("%d values held, want %d", h.n(), len(want))
	}
	for i, w := range want {
		if math.Float64bits(h.at(i)) != math.Float64bits(w) {
			t.Fatalf("ranked value %d of %d is %v, want %v", i, len(want), h.at(i), w)
		}
	}
	for _, p := range []float64{0, 0.01, 0.25, 0.5, 0.75, 0.99, 1} {
		if got, w := h.quantile(p), quantileSorted(want, p); math.Float64bits(got) != math.Float64bits(w) {
			t.Fatalf("quantile %v of %d values is %v, want %v", p, len(want), got, w)
		}
	}
}
