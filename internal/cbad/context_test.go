package cbad

import (
	"bytes"
	"math"
	"math/rand/v2"
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
	}{{"dense", 1, 7}, {"spread", 0x9e3779b97f4a7c15, 14}} {
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

// TestGramCountsWiden checks counts stay exact as one passes uint16, and
// uint32, in the stream's scores and through a snapshot.
func TestGramCountsWiden(t *testing.T) {
	cases := []struct {
		name string
		set  func(g *gramCounts) // brings the first count to its type's maximum
		want float64             // the first count after two more
		wide func(g *gramCounts) bool
	}{
		{"uint16", func(g *gramCounts) { g.counts[0] = math.MaxUint16 }, math.MaxUint16 + 2,
			func(g *gramCounts) bool { return g.counts == nil && g.counts32 != nil }},
		{"uint32", func(g *gramCounts) {
			g.counts[0] = math.MaxUint16
			g.incr(0)
			g.counts32[0] = math.MaxUint32
		}, math.MaxUint32 + 2, func(g *gramCounts) bool { return g.counts32 == nil && g.wide != nil }},
	}
	for _, c := range cases {
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
		if g.len() < 2 || g.counts == nil {
			t.Fatalf("%s: %d n-grams counted, as uint16: %v", c.name, g.len(), g.counts != nil)
		}
		second := g.at(1)
		c.set(g)
		g.incr(0)
		g.incr(0)
		if !c.wide(g) || g.at(0) != c.want || g.at(1) != second {
			t.Fatalf("%s: counts %v and %v after widening, want %v and %v", c.name, g.at(0), g.at(1), c.want, second)
		}
		i, found := g.find(0)
		if found || i != 0 {
			t.Fatalf("%s: key 0 found %v at %d", c.name, found, i)
		}
		g.insert(i, 0, 1)
		if g.at(0) != 1 || g.at(1) != c.want || g.at(2) != second {
			t.Fatalf("%s: counts %v, %v, %v after an insert", c.name, g.at(0), g.at(1), g.at(2))
		}
		snap := s.AppendSnapshot(nil)
		r, err := RestoreStream("svc|metric|m", DefaultConfig(), snap)
		if err != nil {
			t.Fatal(err)
		}
		if !c.wide(&r.ctx.grams) || r.ctx.grams.at(1) != c.want || !bytes.Equal(r.AppendSnapshot(nil), snap) {
			t.Fatalf("%s: the widened counts restored as %v", c.name, r.ctx.grams.at(1))
		}
		for i := 3000; i < 3100; i++ {
			a, errA := s.Push(dec(metricEvent(i, 50+float64(i%5))), int64(i))
			b, errB := r.Push(dec(metricEvent(i, 50+float64(i%5))), int64(i))
			if errA != nil || errB != nil || a.Score != b.Score {
				t.Fatalf("%s: event %d: scores %v and %v (%v, %v)", c.name, i, a.Score, b.Score, errA, errB)
			}
		}
	}
}
