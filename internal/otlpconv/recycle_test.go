package otlpconv

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
)

// TestRecycle: conversions after Recycle give the same records as a fresh
// converter, records that were not recycled stay intact while later
// conversions reuse memory, and recycling twice or an empty result does
// nothing.
func TestRecycle(t *testing.T) {
	var bodies [][]byte
	for _, m := range []proto.Message{benchLogs(), smallLogs(), benchMetricsOf(2), smallMetrics(), smallLogs()} {
		bodies = append(bodies, mustMarshal(t, m))
	}
	convert := func(c *Converter, i int) ([]Record, []Rejection) {
		conv := c.LogsProto
		if i == 2 || i == 3 {
			conv = c.MetricsProto
		}
		recs, rejs, err := conv(bodies[i], testSource)
		if err != nil {
			t.Fatal(err)
		}
		return recs, rejs
	}
	c := New(testLimits)
	kept, _ := convert(c, 0)
	keptValues := make([]string, len(kept))
	for i, r := range kept {
		keptValues[i] = string(r.Value)
	}
	for round := range 3 {
		// All five are in use at once: no two may share memory.
		recs := make([][]Record, len(bodies))
		rejs := make([][]Rejection, len(bodies))
		for i := range bodies {
			recs[i], rejs[i] = convert(c, i)
		}
		for i := range bodies {
			want, wantRejs := convert(New(testLimits), i)
			if err := sameOutput(recs[i], rejs[i], want, wantRejs); err != nil {
				t.Fatalf("round %d, request %d: %v", round, i, err)
			}
		}
		for i := range bodies {
			c.Recycle(recs[i])
			c.Recycle(recs[i])
		}
	}
	for i, r := range kept {
		keptValues[i] = string(r.Value)
	}
	for round := range 3 {
		for i := range bodies {
			j := (i + 1) % len(bodies) // converted while i's records are in use
			recs, rejs := convert(c, i)
			recs2, rejs2 := convert(c, j)
			for k, got := range []struct {
				recs []Record
				rejs []Rejection
			}{{recs, rejs}, {recs2, rejs2}} {
				want, wantRejs := convert(New(testLimits), []int{i, j}[k])
				if err := sameOutput(got.recs, got.rejs, want, wantRejs); err != nil {
					t.Fatalf("round %d, request %d after recycling: %v", round, []int{i, j}[k], err)
				}
			}
			c.Recycle(recs)
			c.Recycle(recs)
			c.Recycle(recs2)
		}
	}
	for i, r := range kept {
		if string(r.Value) != keptValues[i] {
			t.Fatalf("record %d changed by later conversions:\n%s\nwas\n%s", i, r.Value, keptValues[i])
		}
	}
	c.Recycle(nil)
	if recs, _ := convert(c, 1); !slices.ContainsFunc(recs, func(r Record) bool { return len(r.Value) > 0 }) {
		t.Fatal("no records after recycling nil")
	}
}
