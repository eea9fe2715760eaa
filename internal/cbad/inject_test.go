package cbad

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/driftlock/driftlock/internal/event"
)

// injected builds a steady log stream of n events in which inject replaces
// some events from offset at on; it returns the events and the offsets
// replaced.
func injectedLogs(n, at int, inject func(i int, r *rand.Rand) (string, string, bool)) ([]event.Event, map[int64]bool) {
	r := rand.New(rand.NewPCG(1, 2))
	var evs []event.Event
	marked := make(map[int64]bool)
	for i := range n {
		sev, body := steadyLine(r)
		if i >= at {
			if s, b, ok := inject(i, r); ok {
				sev, body = s, b
				marked[int64(i)] = true
			}
		}
		evs = append(evs, logEvent(i, sev, body, map[string]any{"host": fmt.Sprintf("web-%d", r.IntN(3))}))
	}
	return evs, marked
}

// checkRaised asserts that some judgement is anomalous, that none is
// before the first injected event, and that the first anomaly's evidence
// points only at injected events.
func checkRaised(t *testing.T, rs []Result, marked map[int64]bool, first int64) *Judgement {
	t.Helper()
	as := anomalies(rs)
	if len(as) == 0 {
		for _, j := range judgements(rs) {
			t.Logf("seq %d offsets %d-%d scores %+v", j.Seq, j.FirstOffset, j.LastOffset, j.Scores)
		}
		t.Fatal("the injected change raised no anomaly")
	}
	for _, j := range as {
		if j.LastOffset < first {
			t.Errorf("anomaly before the injection: seq %d offsets %d-%d", j.Seq, j.FirstOffset, j.LastOffset)
		}
	}
	j := as[0]
	if len(j.Evidence) == 0 || j.Explanation == "" {
		t.Fatalf("anomaly without evidence or explanation: %+v", j)
	}
	for _, e := range j.Evidence {
		if !marked[e.Offset] {
			t.Errorf("evidence offset %d (%s, score %.3f) is not an injected event", e.Offset, e.Summary, e.Score)
		}
		if e.Score <= 0 || e.Score > 1 {
			t.Errorf("evidence score %v outside (0, 1]", e.Score)
		}
	}
	return j
}

func TestBurstOfNewErrorsIsRaised(t *testing.T) {
	evs, marked := injectedLogs(5000, 4000, func(i int, r *rand.Rand) (string, string, bool) {
		return "ERROR", fmt.Sprintf("disk %d failed: I/O error on sector %d", r.IntN(10), r.IntN(100000)), i < 4040
	})
	s, _ := NewStream("svc|log", DefaultConfig())
	j := checkRaised(t, pushAll(t, s, evs), marked, 4000)
	for _, want := range []string{"not seen in the baseline", "disk <*> failed", "ERROR lines rose from"} {
		if !strings.Contains(j.Explanation, want) {
			t.Errorf("explanation lacks %q: %s", want, j.Explanation)
		}
	}
}

func TestNewTemplateIsRaised(t *testing.T) {
	evs, marked := injectedLogs(5000, 4000, func(i int, r *rand.Rand) (string, string, bool) {
		return "INFO", fmt.Sprintf("rebalancing partition %d to broker %d", r.IntN(10), r.IntN(9)), i < 4160 && i%4 == 0
	})
	s, _ := NewStream("svc|log", DefaultConfig())
	j := checkRaised(t, pushAll(t, s, evs), marked, 4000)
	if !strings.Contains(j.Explanation, "rebalancing partition <*> to broker <*>") {
		t.Errorf("explanation does not name the new shape: %s", j.Explanation)
	}
}

// TestWindowEvidenceListsDistinctLines checks that a window's evidence
// names each canonical line once, by its first event in the window, with
// that event's own summary.
func TestWindowEvidenceListsDistinctLines(t *testing.T) {
	shapes := []struct{ sev, format string }{
		{"ERROR", "disk %d failed: I/O error on sector %d"},
		{"WARN", "replica %d lagging by %d seconds"},
		{"ERROR", "circuit breaker opened for upstream %d after %d failures"},
	}
	evs, marked := injectedLogs(5000, 4000, func(i int, r *rand.Rand) (string, string, bool) {
		sh := shapes[i%len(shapes)]
		return sh.sev, fmt.Sprintf(sh.format, r.IntN(10), r.IntN(100000)), i < 4120
	})
	s, _ := NewStream("svc|log", DefaultConfig())
	j := checkRaised(t, pushAll(t, s, evs), marked, 4000)
	// The canonical line of an injected event is its shape and its host.
	line := func(off int64) string {
		d := dec(evs[off])
		return fmt.Sprint(off%int64(len(shapes)), d.Log.Attributes["host"])
	}
	if len(j.Evidence) < 2 {
		t.Fatalf("evidence of %d events, want several distinct lines: %+v", len(j.Evidence), j.Evidence)
	}
	seen := map[string]bool{}
	for _, e := range j.Evidence {
		l := line(e.Offset)
		if seen[l] {
			t.Errorf("evidence lists line %s twice: %+v", l, j.Evidence)
		}
		seen[l] = true
		for off := max(j.FirstOffset, 4000); off < e.Offset; off++ {
			if line(off) == l {
				t.Errorf("evidence at %d, but its line first came at %d in the window", e.Offset, off)
				break
			}
		}
		d := dec(evs[e.Offset])
		if want := d.Log.Severity + " " + bodyText(d.Log.Body); e.Summary != want {
			t.Errorf("evidence at %d summarised %q, want %q", e.Offset, e.Summary, want)
		}
	}
}

// TestWindowKeepsFirstSummaries checks which summaries a window keeps: a
// line's first event since it entered the window keeps its own; once that
// event has left, the line's first event in the window is described by its
// canonical line.
func TestWindowKeepsFirstSummaries(t *testing.T) {
	c := smallConfig()
	c.WindowSize, c.HopSize, c.BlockSize = 8, 8, 1
	s, err := NewStream("svc|log", c)
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"disk 1 failed", "disk 2 failed"}
	for i := range 7 {
		bodies = append(bodies, fmt.Sprintf("cache miss for key %d", i))
	}
	for i, b := range bodies {
		if _, err := s.Push(dec(logEvent(i, "WARN", b, nil)), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	// The window holds "disk 2 failed" and the seven cache misses; the
	// first "disk" event, whose summary was kept, has left.
	if got := s.windowSummary(0); got != s.lineText(s.window.at(0).ref) || strings.Contains(got, "disk 2") {
		t.Errorf("the window's first disk event is described as %q, want its canonical line", got)
	}
	if got := s.windowSummary(1); got != "WARN cache miss for key 0" {
		t.Errorf("the window's first cache miss is described as %q, want its own summary", got)
	}
	if got := s.windowSummary(2); got != s.lineText(s.window.at(2).ref) {
		t.Errorf("the window's second cache miss is described as %q, want its canonical line", got)
	}
}

func metricStream(n, at int, change func(r *rand.Rand) float64) ([]event.Event, map[int64]bool) {
	r := rand.New(rand.NewPCG(3, 4))
	var evs []event.Event
	marked := make(map[int64]bool)
	for i := range n {
		v := 50 + 5*r.NormFloat64()
		if i >= at {
			v = change(r)
			marked[int64(i)] = true
		}
		evs = append(evs, metricEvent(i, v))
	}
	return evs, marked
}

func TestMetricLevelShiftIsRaised(t *testing.T) {
	evs, marked := metricStream(2000, 1500, func(r *rand.Rand) float64 { return 100 + 5*r.NormFloat64() })
	s, _ := NewStream("svc|metric|latency", smallConfig())
	j := checkRaised(t, pushAll(t, s, evs), marked, 1500)
	if !strings.Contains(j.Explanation, "latency moved from a typical") {
		t.Errorf("explanation does not describe the level shift: %s", j.Explanation)
	}
}

func TestMetricVarianceChangeIsRaised(t *testing.T) {
	evs, marked := metricStream(2000, 1500, func(r *rand.Rand) float64 { return 50 + 25*r.NormFloat64() })
	s, _ := NewStream("svc|metric|latency", smallConfig())
	j := checkRaised(t, pushAll(t, s, evs), marked, 1500)
	if !strings.Contains(j.Explanation, "spread") {
		t.Errorf("explanation does not describe the wider spread: %s", j.Explanation)
	}
}

func TestSteadyMetricRaisesNothing(t *testing.T) {
	evs, _ := metricStream(5000, 5000, nil)
	s, _ := NewStream("svc|metric|latency", DefaultConfig())
	rs := pushAll(t, s, evs)
	if len(judgements(rs)) < 10 {
		t.Fatalf("got %d judgements, want at least 10", len(judgements(rs)))
	}
	for _, j := range anomalies(rs) {
		t.Errorf("steady metric judged anomalous: seq %d %+v: %s", j.Seq, j.Scores, j.Explanation)
	}
}

// TestConcurrentStreams runs streams on every compressor from several
// goroutines at once; under -race it checks that the pooled compressors are
// safe, and that each stream's results do not depend on the others.
func TestConcurrentStreams(t *testing.T) {
	evs, _ := injectedLogs(900, 700, func(i int, r *rand.Rand) (string, string, bool) {
		return "ERROR", fmt.Sprintf("disk %d failed", r.IntN(10)), i < 730
	})
	for _, comp := range []string{"zstd", "gzip", "lz4"} {
		c := smallConfig()
		c.Compressor = comp
		want := ncds(t, c, evs)
		var wg sync.WaitGroup
		got := make([][]float64, 3)
		for g := range got {
			wg.Go(func() { got[g] = ncds(t, c, evs) })
		}
		wg.Wait()
		for g := range got {
			if fmt.Sprint(got[g]) != fmt.Sprint(want) {
				t.Fatalf("%s: concurrent run %d gave %v, alone %v", comp, g, got[g], want)
			}
		}
		if len(want) == 0 || want[0] <= 0 {
			t.Fatalf("%s: no judgement or zero NCD: %v", comp, want)
		}
	}
}

func ncds(t *testing.T, c Config, evs []event.Event) []float64 {
	s, err := NewStream("svc|log", c)
	if err != nil {
		t.Error(err)
		return nil
	}
	var out []float64
	for i, ev := range evs {
		r, err := s.Push(dec(ev), int64(i))
		if err != nil {
			t.Error(err)
			return nil
		}
		if r.Judgement != nil {
			out = append(out, r.Judgement.Scores.NCD)
		}
	}
	return out
}

func TestSizeBytesBounded(t *testing.T) {
	evs, _ := injectedLogs(6000, 6000, nil)
	s, _ := NewStream("svc|log", DefaultConfig())
	empty := s.SizeBytes()
	pushAll(t, s, evs[:3000])
	mid := s.SizeBytes()
	for i, ev := range evs[3000:] {
		if _, err := s.Push(dec(ev), int64(3000+i)); err != nil {
			t.Fatal(err)
		}
	}
	end := s.SizeBytes()
	if mid <= empty {
		t.Fatalf("SizeBytes did not grow with events: %d then %d", empty, mid)
	}
	if end > mid*3/2 {
		t.Fatalf("SizeBytes kept growing once window and baseline were full: %d then %d", mid, end)
	}
}
