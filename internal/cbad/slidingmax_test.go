package cbad

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSlidingMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 7
	m := newSlidingMax(n)
	var all []float64
	for i := range 500 {
		v := math.Floor(rng.Float64() * 10)
		all = append(all, v)
		m.push(v)
		want := math.Inf(-1)
		for _, x := range all[max(0, len(all)-n):] {
			want = math.Max(want, x)
		}
		if got, ok := m.max(); !ok || got != want {
			t.Fatalf("step %d: max %v, want %v", i, got, want)
		}
	}
}
