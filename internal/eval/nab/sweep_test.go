package nab

import (
	"math"
	"testing"
	"time"
)

var std = Profile{Name: Standard, TP: 1, FP: 0.11, FN: 1}

// series builds n five-minute rows with the given scores (zero elsewhere)
// and one window over rows [l, r].
func series(n int, hot map[int]float64, l, r int) ([]Series, Labels) {
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Series{Path: "f/x.csv", Timestamps: make([]time.Time, n), Scores: make([]float64, n)}
	for i := range n {
		s.Timestamps[i] = t0.Add(time.Duration(i) * 5 * time.Minute)
		s.Scores[i] = hot[i]
	}
	labels := Labels{"f/x.csv": nil}
	if l >= 0 {
		labels["f/x.csv"] = []Window{{Start: s.Timestamps[l], End: s.Timestamps[r]}}
	}
	return []Series{s}, labels
}

func score(t *testing.T, n int, hot map[int]float64, l, r int) Result {
	t.Helper()
	ss, labels := series(n, hot, l, r)
	c, err := NewCorpus(ss, labels)
	if err != nil {
		t.Fatal(err)
	}
	return c.ScoreAt(std, 0.5)
}

func TestScoreRules(t *testing.T) {
	// 1000 rows: probation is 150 rows; the window is rows 500..509 (w = 10).
	tests := []struct {
		name string
		hot  map[int]float64
		want float64
	}{
		{"miss costs A_FN", nil, -1},
		{"first row of window earns A_TP", map[int]float64{500: 1}, 1},
		{"earliest detection counts", map[int]float64{505: 1, 500: 1}, 1},
		{"later detection earns less", map[int]float64{505: 1}, scaledSigmoid(-0.5) / maxTP},
		{"detection in probation is ignored", map[int]float64{10: 1}, -1},
		{"false positive before any window costs A_FP", map[int]float64{200: 1}, -1 - 0.11},
		{"false positive right after a window", map[int]float64{510: 1}, -1 + 0.11*scaledSigmoid(1.0/9)},
		{"false positive far after a window", map[int]float64{900: 1}, -1 - 0.11},
		{"below threshold is no detection", map[int]float64{500: 0.4}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := score(t, 1000, tt.hot, 500, 509)
			if math.Abs(r.Files[0].Score-tt.want) > 1e-12 {
				t.Fatalf("score %.6f, want %.6f", r.Files[0].Score, tt.want)
			}
		})
	}
}

func TestCountsAndNormalisation(t *testing.T) {
	r := score(t, 1000, map[int]float64{502: 1, 503: 1, 700: 1}, 500, 509)
	f := r.Files[0]
	if f.TP != 2 || f.FN != 8 || f.FP != 1 || f.TN != 1000-150-10-1 || f.WindowsHit != 1 {
		t.Fatalf("counts %+v", f)
	}
	if r.Null != -1 || r.Perfect != 1 {
		t.Fatalf("null %v perfect %v, want -1 and 1", r.Null, r.Perfect)
	}
	want := 100 * (f.Score + 1) / 2
	if math.Abs(r.Normalized-want) > 1e-9 {
		t.Fatalf("normalised %v, want %v", r.Normalized, want)
	}
}

func TestProbation(t *testing.T) {
	for n, want := range map[int]int{0: 0, 100: 15, 4032: 604, 5000: 750, 22695: 750} {
		if got := Probation(n); got != want {
			t.Errorf("Probation(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestSweepPicksBestThreshold: a 0.9 score in the window and a 0.7 score
// far outside it; the sweep must stop at 0.9 rather than take the false
// positive too, and must prefer no detection at all to a lone false positive.
func TestSweepPicksBestThreshold(t *testing.T) {
	ss, labels := series(1000, map[int]float64{505: 0.9, 900: 0.7}, 500, 509)
	c, err := NewCorpus(ss, labels)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Sweep(std); r.Threshold != 0.9 || r.Files[0].FP != 0 || r.Files[0].WindowsHit != 1 {
		t.Fatalf("sweep chose %v (%+v), want 0.9", r.Threshold, r.Files[0])
	}
	ss, labels = series(1000, map[int]float64{900: 0.7}, -1, -1)
	if c, err = NewCorpus(ss, labels); err != nil {
		t.Fatal(err)
	}
	if r := c.Sweep(std); r.Threshold <= 0.7 || r.Raw != 0 {
		t.Fatalf("sweep chose %v with raw %v, want above 0.7 and 0", r.Threshold, r.Raw)
	}
}

func TestMissingLabels(t *testing.T) {
	ss, _ := series(10, nil, -1, -1)
	if _, err := NewCorpus(ss, Labels{}); err == nil {
		t.Fatal("want an error for a file without labels")
	}
}
