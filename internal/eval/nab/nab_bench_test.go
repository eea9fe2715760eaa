package nab

import (
	"math/rand/v2"
	"testing"
	"time"
)

// benchCorpus is 40 files of 5,000 rows with two windows each and random scores.
func benchCorpus(b *testing.B) *Corpus {
	rng := rand.New(rand.NewPCG(7, 8))
	t0 := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	var series []Series
	labels := Labels{}
	for f := range 40 {
		s := Series{Path: "b/" + string(rune('a'+f%26)) + string(rune('a'+f/26)) + ".csv"}
		for i := range 5000 {
			s.Timestamps = append(s.Timestamps, t0.Add(time.Duration(i)*time.Minute))
			s.Scores = append(s.Scores, rng.Float64())
		}
		labels[s.Path] = []Window{
			{Start: s.Timestamps[1500], End: s.Timestamps[1750]},
			{Start: s.Timestamps[3500], End: s.Timestamps[3750]},
		}
		series = append(series, s)
	}
	c, err := NewCorpus(series, labels)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func BenchmarkSweep(b *testing.B) {
	c := benchCorpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Sweep(DefaultProfiles()[0])
	}
}
