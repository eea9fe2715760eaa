package cbad

import (
	"math"
	"testing"
)

// contextScores pushes a daily-like cycle of period 48 with a flat segment of
// in-range values from flatAt on, and returns the highest event score
// before flatAt and after it.
func contextScores(t *testing.T, order int, flatAt int) (before, after float64) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.BaselineSize, cfg.Seed = 8192, 1
	cfg.ContextOrder, cfg.ContextWeight = order, 1
	s, err := NewStream("svc|metric|m", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range flatAt + 200 {
		v := 50 + 40*math.Sin(2*math.Pi*float64(i)/48) + 3*math.Sin(float64(i)*1.7)
		if i >= flatAt && i < flatAt+150 {
			v = 50
		}
		res, err := s.Push(dec(metricEvent(i, v)), int64(i))
		if err != nil {
			t.Fatal(err)
		}
		if i < flatAt {
			before = max(before, res.Score)
		} else {
			after = max(after, res.Score)
		}
	}
	return before, after
}

func TestContextNoveltyFlagsInRangeFlatSegment(t *testing.T) {
	_, offAfter := contextScores(t, 0, 3000)
	_, onAfter := contextScores(t, 8, 3000)
	if offAfter > 0.2 {
		t.Fatalf("without context scoring an in-range flat segment scored %v, want <= 0.2", offAfter)
	}
	if onAfter < 0.5 {
		t.Fatalf("with context scoring the flat segment scored %v, want >= 0.5 (%v without)", onAfter, offAfter)
	}
}
