package cbad

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
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

// TestGramCountsMatchMap checks the compact counts against a map, for
// keys of 8 symbols among 24 (a handful of groups) and for keys spread over
// the whole range (a group each): every count found equals the map's, the
// keys stay ascending, and the memory held grows with the keys.
func TestGramCountsMatchMap(t *testing.T) {
	for _, c := range []struct {
		name    string
		spread  uint64
		perGram int
	}{{"dense", 1, 9}, {"spread", 0x9e3779b97f4a7c15, 16}} {
		r := rand.New(rand.NewPCG(5, 6))
		pool := make([]uint64, maxContextGrams)
		for i := range pool {
			pool[i] = r.Uint64N(110075314176) * c.spread // 24^8
		}
		var g gramCounts
		want := map[uint64]float64{}
		for range 30000 {
			key := pool[r.IntN(len(pool))]
			i, found := g.find(key)
			if n, ok := want[key]; ok != found || (found && g.at(i) != n) {
				t.Fatalf("%s: key %x: found %v, want %v with count %v", c.name, key, found, ok, n)
			}
			if found {
				g.incr(i)
			} else {
				g.insert(i, key, 1)
			}
			want[key]++
		}
		var keys []uint64
		for k := range g.his {
			from, to := g.bounds(k)
			for i := from; i < to; i++ {
				keys = append(keys, g.key(k, i))
				if g.at(i) != want[g.key(k, i)] {
					t.Fatalf("%s: key %x counted %v, want %v", c.name, g.key(k, i), g.at(i), want[g.key(k, i)])
				}
			}
		}
		if len(keys) != len(want) {
			t.Fatalf("%s: %d keys, want %d", c.name, len(keys), len(want))
		}
		for i := 1; i < len(keys); i++ {
			if keys[i] <= keys[i-1] {
				t.Fatalf("%s: key %x after %x", c.name, keys[i], keys[i-1])
			}
		}
		if g.sizeBytes() > c.perGram*len(want) {
			t.Fatalf("%s: %d keys hold %d bytes, more than %d each", c.name, len(want), g.sizeBytes(), c.perGram)
		}
	}
}

// TestGramCountsWiden checks a count that passes uint32 stays exact, in the
// stream's scores and through a snapshot.
func TestGramCountsWiden(t *testing.T) {
	s, err := NewStream("svc|metric|m", DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		if _, err := s.Push(dec(metricEvent(i, 50+float64(i%7))), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	g := &s.ctx.grams
	if g.len() < 2 {
		t.Fatalf("%d n-grams counted", g.len())
	}
	before := g.at(1)
	g.counts[0] = math.MaxUint32
	g.incr(0)
	g.incr(0)
	if g.wide == nil || g.at(0) != math.MaxUint32+2 || g.at(1) != before {
		t.Fatalf("counts %v and %v after passing uint32, want %v and %v", g.at(0), g.at(1), float64(math.MaxUint32+2), before)
	}
	if i, found := g.find(0); found || i != 0 {
		t.Fatalf("key 0 found %v at %d", found, i)
	}
	g.insert(0, 0, 1)
	if g.at(0) != 1 || g.at(1) != math.MaxUint32+2 {
		t.Fatalf("counts %v, %v after an insert", g.at(0), g.at(1))
	}
	snap := s.AppendSnapshot(nil)
	r, err := RestoreStream("svc|metric|m", DefaultConfig(), snap)
	if err != nil {
		t.Fatal(err)
	}
	if r.ctx.grams.wide == nil || !slices.Equal(r.ctx.grams.wide, g.wide) || !bytes.Equal(r.AppendSnapshot(nil), snap) {
		t.Fatal("the widened counts did not restore")
	}
	for i := 3000; i < 3100; i++ {
		a, errA := s.Push(dec(metricEvent(i, 50+float64(i%5))), int64(i))
		b, errB := r.Push(dec(metricEvent(i, 50+float64(i%5))), int64(i))
		if errA != nil || errB != nil || a.Score != b.Score {
			t.Fatalf("event %d: scores %v and %v (%v, %v)", i, a.Score, b.Score, errA, errB)
		}
	}
}
