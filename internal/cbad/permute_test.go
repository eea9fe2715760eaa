package cbad

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDrawsMatchRand checks that the permutation test's draws are those of
// rand.Rand.IntN over the same PCG seeds, for window-sized bounds, powers
// of two and bounds near 2^63, where IntN rejects and draws again.
func TestDrawsMatchRand(t *testing.T) {
	bounds := []int{1, 2, 3, 7, 64, 1000, 1024, 2048, 2049, 1<<62 + 1, 3 << 61, math.MaxInt64}
	for seed := uint64(0); seed < 20; seed++ {
		d := newDraws(seed, seed*0x9E3779B97F4A7C15+1)
		r := rand.New(rand.NewPCG(seed, seed*0x9E3779B97F4A7C15+1))
		for i := range 5000 {
			n := bounds[i%len(bounds)]
			if i%3 == 0 {
				n = 1 + i%2048
			}
			if got, want := d.intN(n), r.IntN(n); got != want {
				t.Fatalf("seed %d draw %d: intN(%d) = %d, rand.Rand.IntN = %d", seed, i, n, got, want)
			}
		}
	}
}
